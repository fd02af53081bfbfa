//! The IAM and STS moves of escalation paths: may a principal call `sts:AssumeRole` on a role,
//! or an IAM write (`iam:PutRolePolicy`, `iam:CreatePolicyVersion`…) on another principal?
//!
//! The KMS engine (`eval`) judges KMS actions only: its action model is the KMS catalogue. These
//! moves are judged here with the same policy model and the IAM rules that apply to them: an
//! explicit Deny anywhere wins (R8, R46 step 1); every SCP level must allow (R48); a permissions
//! boundary must allow; an identity policy must allow, except that a same-account trust policy
//! naming the caller's own ARN is enough for `sts:AssumeRole` (the resource-policy rule of R54,
//! applied to roles); a cross-account move needs both sides. A condition is never guessed: a
//! statement whose `Condition` block decides the move makes the move conditional on it, and a
//! statement that cannot be judged makes it unknown, never allowed or denied.

use crate::arn::PrincipalClass;
use crate::eval::{Caller, CallerKind, NamedPolicy};
use crate::policy::{ActionClause, Effect, PolicyKind, ResourceClause, Statement};

/// The answer for one move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Move {
    /// Allowed by these statements.
    Yes(Vec<String>),
    /// Allowed by these statements when these conditions hold.
    Conditional(Vec<String>, Vec<String>),
    /// Not allowed.
    No,
    /// Cannot be judged: why.
    Unknown(String),
}

/// Whether one statement applies.
enum Applies {
    Yes,
    No,
    Cond(Vec<String>),
    Unknown(String),
}

/// The principal side of a move.
#[derive(Debug)]
pub(crate) struct Mover<'a> {
    pub(crate) caller: &'a Caller,
    /// The caller's IAM unique id (`AIDA…`, `AROA…`), when known.
    pub(crate) unique_id: Option<&'a str>,
    /// Identity policies; `None` when some are missing from the inputs.
    pub(crate) identity: Option<&'a [NamedPolicy]>,
    pub(crate) boundary: Option<&'a NamedPolicy>,
    /// SCP levels above the caller's account, root first.
    pub(crate) scp: Option<&'a [Vec<NamedPolicy>]>,
}

fn statement_id(p: &NamedPolicy, st: &Statement) -> String {
    format!("{}#{}", p.name, st.label().trim_start_matches('#'))
}

/// `Action`/`NotAction` covers `service:name` (both lower case). Service prefixes are matched
/// exactly (AWS allows no wildcard there except the bare `*`).
fn action_covers(a: &ActionClause, service: &str, name: &str) -> bool {
    let hit = a.items.iter().any(|i| {
        (i.service == "*" && i.name.is_star())
            || (i.service.eq_ignore_ascii_case(service) && i.name.matches(name))
    });
    hit != a.negated
}

/// `Resource`/`NotResource` covers an ARN (R19, R21). A pattern with a policy variable is not
/// substituted here: it makes the statement unknown.
fn resource_covers(r: &ResourceClause, arn: &str) -> Result<bool, String> {
    let mut texts: Vec<&str> = arn.splitn(6, ':').collect();
    texts.resize(6, "");
    let mut any = false;
    for item in &r.items {
        if item.raw.contains("${") {
            return Err(format!(
                "`{}` has a policy variable, which is not substituted for IAM moves",
                item.raw
            ));
        }
        let m = match item.parts.as_slice() {
            [one] => one.matches(arn),
            parts if parts.len() == 6 => parts.iter().zip(&texts).all(|(p, t)| p.matches(t)),
            // A short pattern (R21, Q11) matches when its last part is `*`.
            parts => {
                parts.last().is_some_and(|l| l.is_star())
                    && parts
                        .iter()
                        .zip(&texts)
                        .take(parts.len() - 1)
                        .all(|(p, t)| p.matches(t))
            }
        };
        if m {
            any = true;
            break;
        }
    }
    Ok(any != r.negated)
}

/// How a trust policy's `Principal` names the caller: `Some(true)` by its own ARN or id,
/// `Some(false)` through its account or `*`, `None` not at all.
fn principal_names(st: &Statement, m: &Mover<'_>) -> Result<Option<bool>, String> {
    let Some(pc) = &st.principal else {
        return Ok(None);
    };
    if pc.negated {
        return Err("`NotPrincipal` in a trust policy is not judged for role assumption".into());
    }
    let c = m.caller;
    let mut best = None;
    for e in &pc.entries {
        let hit = match &e.class {
            PrincipalClass::Any => Some(false),
            PrincipalClass::Account { account, .. } if *account == c.account => Some(false),
            PrincipalClass::User { arn, .. } if c.kind == CallerKind::User && *arn == c.arn => {
                Some(true)
            }
            PrincipalClass::Role { arn, .. }
                if c.kind == CallerKind::AssumedRole && c.role_arn.as_deref() == Some(arn) =>
            {
                Some(true)
            }
            PrincipalClass::UniqueId if m.unique_id == Some(e.value.as_str()) => Some(true),
            _ => None,
        };
        best = match (best, hit) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), _) | (_, Some(false)) => Some(false),
            _ => None,
        };
    }
    Ok(best)
}

fn condition_texts(st: &Statement, p: &NamedPolicy) -> Vec<String> {
    st.conditions
        .iter()
        .map(|c| {
            let values: Vec<&str> = c.values.iter().map(|v| v.text.as_str()).collect();
            format!(
                "`{} {} {}` ({})",
                c.operator.raw,
                c.key,
                values.join(", "),
                statement_id(p, st)
            )
        })
        .collect()
}

fn applies(
    p: &NamedPolicy,
    st: &Statement,
    service: &str,
    name: &str,
    resource: &str,
    mover: &Mover<'_>,
) -> Applies {
    if let Some(reason) = &st.broken {
        return Applies::Unknown(format!(
            "{} cannot be judged: {reason}",
            statement_id(p, st)
        ));
    }
    let Some(action) = &st.action else {
        return Applies::No;
    };
    if !action_covers(action, service, name) {
        return Applies::No;
    }
    match p.doc.kind {
        PolicyKind::Trust => match principal_names(st, mover) {
            Ok(Some(_)) => {}
            Ok(None) => return Applies::No,
            Err(e) => return Applies::Unknown(format!("{}: {e}", statement_id(p, st))),
        },
        _ if st.principal.is_some() => return Applies::No,
        _ => {}
    }
    match &st.resource {
        Some(r) => match resource_covers(r, resource) {
            Ok(true) => {}
            Ok(false) => return Applies::No,
            Err(e) => return Applies::Unknown(format!("{}: {e}", statement_id(p, st))),
        },
        None if matches!(p.doc.kind, PolicyKind::Trust | PolicyKind::Scp) => {}
        None => return Applies::No,
    }
    if st.conditions.is_empty() {
        Applies::Yes
    } else {
        Applies::Cond(condition_texts(st, p))
    }
}

/// What a set of policies says: allowing statements, conditions, denials.
#[derive(Default)]
struct Tally {
    allow: Vec<String>,
    allow_cond: Vec<(String, Vec<String>)>,
    deny: Vec<String>,
    deny_cond: Vec<String>,
    unknown: Vec<String>,
}

fn tally<'p>(
    policies: impl IntoIterator<Item = &'p NamedPolicy>,
    service: &str,
    name: &str,
    resource: &str,
    mover: &Mover<'_>,
) -> Tally {
    let mut t = Tally::default();
    for p in policies {
        for st in &p.doc.statements {
            let deny = match st.effect.as_ref().map(|e| e.value) {
                Some(Effect::Deny) => true,
                Some(Effect::Allow) => false,
                None => continue,
            };
            match (applies(p, st, service, name, resource, mover), deny) {
                (Applies::No, _) => {}
                (Applies::Yes, false) => t.allow.push(statement_id(p, st)),
                (Applies::Yes, true) => t.deny.push(statement_id(p, st)),
                (Applies::Cond(c), false) => t.allow_cond.push((statement_id(p, st), c)),
                (Applies::Cond(c), true) => t.deny_cond.extend(
                    c.into_iter()
                        .map(|c| format!("the Deny's condition {c} does not hold")),
                ),
                (Applies::Unknown(u), _) => t.unknown.push(u),
            }
        }
    }
    t
}

/// The allow side of a tally: `Some((via, conditions))` when something allows.
fn allowed(t: &Tally) -> Option<(Vec<String>, Vec<String>)> {
    if !t.allow.is_empty() {
        return Some((t.allow.clone(), Vec::new()));
    }
    // Alternatives: the first conditional statement stands for them all (each is enough).
    let (id, conds) = t.allow_cond.first()?;
    let mut c = conds.clone();
    if t.allow_cond.len() > 1 {
        c.push(format!(
            "(or the conditions of {} other statements)",
            t.allow_cond.len() - 1
        ));
    }
    Some((vec![id.clone()], c))
}

/// Decides one IAM or STS move by `mover` on `resource` (`service` and `name` lower case).
/// `resource_policy` is the target's trust policy for `sts:AssumeRole`.
pub(crate) fn decide(
    mover: &Mover<'_>,
    service: &str,
    name: &str,
    resource: &str,
    resource_account: &str,
    resource_policy: Option<&[NamedPolicy]>,
) -> Move {
    let mut conditions = Vec::new();
    let mut via = Vec::new();
    // Explicit denies first (R8).
    let scp = mover.scp.unwrap_or(&[]);
    let every = mover
        .identity
        .unwrap_or(&[])
        .iter()
        .chain(mover.boundary)
        .chain(scp.iter().flatten())
        .chain(resource_policy.unwrap_or(&[]));
    let all = tally(every, service, name, resource, mover);
    if !all.deny.is_empty() {
        return Move::No;
    }
    if let Some(u) = all.unknown.first() {
        return Move::Unknown(u.clone());
    }
    conditions.extend(all.deny_cond);
    // Every SCP level must allow (R48).
    for level in scp {
        let t = tally(level, service, name, resource, mover);
        match allowed(&t) {
            Some((_, c)) => conditions.extend(c),
            None => return Move::No,
        }
    }
    let identity = mover
        .identity
        .map(|ids| tally(ids, service, name, resource, mover));
    let own_account = mover.caller.account == resource_account;
    let mut needs_identity = true;
    if let Some(rp) = resource_policy {
        let t = tally(rp, service, name, resource, mover);
        let Some((v, c)) = allowed(&t) else {
            return Move::No;
        };
        // Named by its own ARN in the same account: the trust policy alone is enough.
        let direct = own_account
            && rp.iter().any(|p| {
                p.doc.statements.iter().any(|st| {
                    st.effect.as_ref().map(|e| e.value) == Some(Effect::Allow)
                        && principal_names(st, mover) == Ok(Some(true))
                })
            });
        needs_identity = !direct;
        via.extend(v);
        conditions.extend(c);
    }
    if needs_identity {
        let Some(t) = identity else {
            return Move::Unknown(format!(
                "the identity policies of `{}` are not all in the inputs",
                mover.caller.arn
            ));
        };
        let Some((v, c)) = allowed(&t) else {
            return Move::No;
        };
        via.extend(v);
        conditions.extend(c);
        if let Some(b) = mover.boundary {
            let t = tally(std::iter::once(b), service, name, resource, mover);
            let Some((_, c)) = allowed(&t) else {
                return Move::No;
            };
            conditions.extend(c);
        }
    }
    if conditions.is_empty() {
        Move::Yes(via)
    } else {
        Move::Conditional(via, conditions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceId;

    fn policy(name: &str, kind: PolicyKind, text: &str) -> NamedPolicy {
        let j = crate::json::parse(text).unwrap();
        let (doc, _) = crate::policy::parse_policy(&j, SourceId::new(0, 0), kind);
        NamedPolicy {
            name: name.into(),
            doc: doc.into(),
        }
    }

    fn caller(arn: &str) -> Caller {
        Caller::parse(arn, None).unwrap()
    }

    const TRUST_ROLE_A: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/A"},"Action":"sts:AssumeRole"}]}"#;
    const TRUST_ACCOUNT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]}"#;
    const ALLOW_ASSUME: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111122223333:role/B"}]}"#;

    #[test]
    fn same_account_trust_naming_the_role_is_enough_for_assume_role() {
        let c = caller("arn:aws:iam::111122223333:role/A");
        let trust = [policy("trust", PolicyKind::Trust, TRUST_ROLE_A)];
        let m = Mover {
            caller: &c,
            unique_id: None,
            identity: Some(&[]),
            boundary: None,
            scp: None,
        };
        let got = decide(
            &m,
            "sts",
            "assumerole",
            "arn:aws:iam::111122223333:role/B",
            "111122223333",
            Some(&trust),
        );
        assert!(matches!(got, Move::Yes(_)), "{got:?}");
    }

    #[test]
    fn account_trust_needs_identity_and_keeps_conditions() {
        let c = caller("arn:aws:iam::111122223333:role/A");
        let trust = [policy("trust", PolicyKind::Trust, TRUST_ACCOUNT)];
        let none = Mover {
            caller: &c,
            unique_id: None,
            identity: Some(&[]),
            boundary: None,
            scp: None,
        };
        let b = "arn:aws:iam::111122223333:role/B";
        assert_eq!(
            decide(&none, "sts", "assumerole", b, "111122223333", Some(&trust)),
            Move::No
        );
        let ids = [policy("id", PolicyKind::Identity, ALLOW_ASSUME)];
        let some = Mover {
            identity: Some(&ids),
            ..none
        };
        let got = decide(&some, "sts", "assumerole", b, "111122223333", Some(&trust));
        match got {
            Move::Conditional(_, c) => assert!(c.iter().any(|c| c.contains("sts:ExternalId"))),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_deny_wins_over_the_trust_policy() {
        let c = caller("arn:aws:iam::111122223333:role/A");
        let trust = [policy("trust", PolicyKind::Trust, TRUST_ROLE_A)];
        let deny = [policy(
            "id",
            PolicyKind::Identity,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"sts:*","Resource":"*"}]}"#,
        )];
        let m = Mover {
            caller: &c,
            unique_id: None,
            identity: Some(&deny),
            boundary: None,
            scp: None,
        };
        let b = "arn:aws:iam::111122223333:role/B";
        assert_eq!(
            decide(&m, "sts", "assumerole", b, "111122223333", Some(&trust)),
            Move::No
        );
    }
}
