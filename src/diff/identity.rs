//! The cells a change to a principal's identity policies can touch.
//!
//! A user or role whose record, boundary, tags and trust policies are the same in both worlds
//! and whose identity policies differ only in some statements can gain or lose access only on
//! the cells (key, action) those statements could apply to: outside them, every statement the
//! engine reads for the principal is the same in both worlds, and so is its answer. The test
//! reads each differing statement's `Action` and `Resource` with the engine's own matchers,
//! without its conditions (a superset), and gives up (every cell) on anything it cannot bound:
//! `NotAction`, a broken statement, or an action the access graph's moves read.

use std::collections::{BTreeMap, BTreeSet};

use crate::eval::{Caller, Options};
use crate::graph::{Paths, action_bit as bit};
use crate::inventory::Inventory;
use crate::policy::Statement;

/// Key ARN → the actions (`kms:Decrypt`) whose rows may differ there.
pub(crate) type Cells = BTreeMap<String, BTreeSet<String>>;

/// The services whose actions the access graph's moves read: `sts:AssumeRole` (acting as a
/// role) and the IAM writes that change a principal's policies (`graph::iam`). A changed
/// statement that may allow one of them may open or close a path to any cell.
const MOVE_SERVICES: [&str; 2] = ["iam", "sts"];

/// What a differing statement's cells are read against: the keys and actions asked, the
/// paths followed and the graph's options.
pub(super) struct Asked<'a> {
    pub(super) keys: &'a [&'a String],
    pub(super) actions: &'a [String],
    pub(super) paths: Paths,
    pub(super) opts: &'a Options,
}

/// The cells on which the rows of the user or role `arn` can differ, when only statements of
/// its identity policies differ between the worlds (the caller has checked that everything
/// else about it is the same); `None` when any cell can differ.
pub(super) fn identity_cells(
    before: &Inventory,
    after: &Inventory,
    arn: &str,
    role: bool,
    asked: &Asked<'_>,
) -> Option<Cells> {
    let caller = Caller::parse(arn, role.then_some(arn)).ok()?;
    let (b, a) = (
        before.caller_policies(&caller),
        after.caller_policies(&caller),
    );
    let changed = super::differing_statements(b.identity.as_deref()?, a.identity.as_deref()?)?;
    let mut out = Cells::new();
    for p in &changed {
        for st in &p.doc.statements {
            statement_cells(st, asked, &mut out)?;
        }
    }
    Some(out)
}

/// Whether the catalogue says `action` is also authorised against an alias (`kms:CreateAlias`);
/// an action it does not hold counts as one.
fn on_alias(action: &str) -> bool {
    let bare = action.split_once(':').map_or(action, |(_, n)| n);
    crate::catalog::action_index(bare)
        .and_then(crate::catalog::action)
        .is_none_or(|a| a.on_alias)
}

/// Adds the cells one differing identity statement could apply to; `None` when it could
/// apply to any.
fn statement_cells(st: &Statement, asked: &Asked<'_>, out: &mut Cells) -> Option<()> {
    if st.broken.is_some() {
        return None;
    }
    let action = st.action.as_ref().filter(|a| !a.negated)?;
    let resource = st.resource.as_ref()?;
    if MOVE_SERVICES
        .iter()
        .any(|s| crate::eval::action_may_cover_service(action, s))
    {
        return None;
    }
    let mask = crate::eval::kms_actions_covered(action);
    // With escalation paths, kms:CreateGrant or kms:PutKeyPolicy on a key opens every action
    // on that key.
    let escalates =
        asked.paths == Paths::All && mask & (bit("kms:CreateGrant") | bit("kms:PutKeyPolicy")) != 0;
    let touched: Vec<&String> = asked
        .actions
        .iter()
        .filter(|a| escalates || mask & bit(a) != 0)
        .collect();
    if touched.is_empty() {
        return Some(());
    }
    for k in asked.keys {
        let on_key = resource.negated
            || resource.items.iter().any(|item| {
                item.is_star()
                    || crate::eval::resource_pattern_may_match(&item.parts, k, asked.opts)
            });
        for a in &touched {
            // An alias action is also authorised on the alias's ARN, which no key ARN shows.
            if on_key || on_alias(a) {
                out.entry((*k).clone()).or_default().insert((*a).clone());
            }
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicyKind;
    use crate::source::SourceId;

    const K0: &str = "arn:aws:kms:us-east-1:111122223333:key/1111aaaa-11aa-11aa-11aa-111111111111";
    const K1: &str = "arn:aws:kms:us-east-1:111122223333:key/2222bbbb-22bb-22bb-22bb-222222222222";

    /// The cells of one identity statement over both keys and four actions.
    fn cells_of(statement: &str, paths: Paths) -> Option<Vec<(String, Vec<String>)>> {
        let text = format!(r#"{{"Version":"2012-10-17","Statement":[{statement}]}}"#);
        let j = crate::json::parse(&text).unwrap();
        let (doc, _) = crate::policy::parse_policy(&j, SourceId::NONE, PolicyKind::Identity);
        let (k0, k1) = (K0.to_owned(), K1.to_owned());
        let keys = [&k0, &k1];
        let actions: Vec<String> = [
            "kms:Decrypt",
            "kms:Encrypt",
            "kms:CreateAlias",
            "kms:CreateGrant",
        ]
        .map(str::to_owned)
        .to_vec();
        let opts = Options::default();
        let asked = Asked {
            keys: &keys,
            actions: &actions,
            paths,
            opts: &opts,
        };
        let mut out = Cells::new();
        for st in &doc.statements {
            statement_cells(st, &asked, &mut out)?;
        }
        Some(
            out.into_iter()
                .map(|(k, a)| (k, a.into_iter().collect()))
                .collect(),
        )
    }

    fn key(k: &str, actions: &[&str]) -> (String, Vec<String>) {
        (
            k.to_owned(),
            actions.iter().map(|a| (*a).to_owned()).collect(),
        )
    }

    #[test]
    fn a_statement_touches_the_actions_it_names_on_the_keys_its_resource_may_match() {
        let one = format!(r#"{{"Effect":"Allow","Action":"kms:Encrypt","Resource":"{K0}"}}"#);
        assert_eq!(
            cells_of(&one, Paths::All),
            Some(vec![key(K0, &["kms:Encrypt"])])
        );
        // A Deny bounds the same way; a wildcard or a variable may match either key.
        let deny = r#"{"Effect":"Deny","Action":"kms:Decrypt","Resource":"arn:aws:kms:*:111122223333:key/*"}"#;
        assert_eq!(
            cells_of(deny, Paths::All),
            Some(vec![key(K0, &["kms:Decrypt"]), key(K1, &["kms:Decrypt"])])
        );
        let var = r#"{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:111122223333:key/${aws:PrincipalTag/k}"}"#;
        assert_eq!(cells_of(var, Paths::All).map(|c| c.len()), Some(2));
        // Another service's action touches no key cell.
        let s3 = r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"#;
        assert_eq!(cells_of(s3, Paths::All), Some(Vec::new()));
    }

    #[test]
    fn alias_actions_touch_every_key_and_create_grant_every_action_of_its_key() {
        let alias = r#"{"Effect":"Allow","Action":"kms:CreateAlias","Resource":"arn:aws:kms:us-east-1:111122223333:alias/*"}"#;
        assert_eq!(
            cells_of(alias, Paths::All),
            Some(vec![
                key(K0, &["kms:CreateAlias"]),
                key(K1, &["kms:CreateAlias"])
            ])
        );
        let grant = format!(r#"{{"Effect":"Allow","Action":"kms:CreateGrant","Resource":"{K1}"}}"#);
        let all = [
            "kms:CreateAlias",
            "kms:CreateGrant",
            "kms:Decrypt",
            "kms:Encrypt",
        ];
        assert_eq!(
            cells_of(&grant, Paths::All),
            Some(vec![key(K0, &["kms:CreateAlias"]), key(K1, &all)])
        );
        // Without escalation paths, CreateGrant is one more action.
        assert_eq!(
            cells_of(&grant, Paths::Direct),
            Some(vec![key(K1, &["kms:CreateGrant"])])
        );
    }

    #[test]
    fn what_the_scope_cannot_bound_touches_every_cell() {
        for st in [
            r#"{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}"#,
            r#"{"Effect":"Allow","Action":"iam:PutRolePolicy","Resource":"*"}"#,
            r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#,
            r#"{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}"#,
            r#"{"Effect":"Allow","Action":"kms:Decrypt"}"#,
        ] {
            assert_eq!(cells_of(st, Paths::All), None, "{st}");
        }
    }
}
