//! `KMS005` public-key (spec L005, R24, R55).
//!
//! ## What it does
//! Asks the engine whether an adversary — a principal of an account no policy names, whose
//! own IAM policies allow everything — can use the key, and shows the request that gets in.
//! The adversary may be the root user, a user, a role (any session) or a federated user, with
//! any name and path (those the policy expects included), in any account a pattern of the
//! policy lets through (`kms:CallerAccount "4444*"`, `arn:aws:iam::*:role/Deploy`). For each
//! condition key an answer depends on, it tries the values such a caller can give: absent, its
//! own organisation, public address, VPC endpoint, user agent, time, encryption context or
//! integrated service, and a stranger's variant of every value the policy mentions (wildcards
//! filled in). Values only the key owner holds — its organisation id, its VPC endpoints, its
//! address ranges, its accounts — are never the adversary's. So a condition restricts by what
//! it lets through, not by the key it names: `StringEqualsIfExists aws:PrincipalOrgID`,
//! `StringLike aws:PrincipalOrgID "o-*"`, `IpAddress aws:SourceIp "0.0.0.0/0"` or
//! `Bool aws:SecureTransport` restrict nothing. When the engine cannot settle a request (a
//! fact about the key that was not given), the finding is a warning that the key may be open.
//! The adversary model is written out in `docs/semantics.md`.
//!
//! With `organisation` set in `kmsaudit.toml`, an `aws:PrincipalOrgID` condition naming another
//! organisation does not restrict either.
//!
//! ## Why is this bad?
//! Anyone with an AWS account can then decrypt data under the key, or encrypt, sign or manage
//! it, depending on the actions allowed. `kms:ViaService` alone does not help: any account can
//! call S3 or EBS.
//!
//! ## Example
//! ```json
//! {"Sid": "BadViaServiceOnly", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodViaServiceInAccount", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com", "kms:CallerAccount": "111122223333"}}}
//! ```
//!
//! ## References
//! - AWS KMS Developer Guide: "Key policies in AWS KMS" (Principal "*" and kms:CallerAccount)
//! - AWS KMS Developer Guide: "kms:ViaService" condition key
//! - IAM User Guide: "AWS global condition context keys" (aws:PrincipalOrgID)

use super::adversary::{Counterexample, Model};
use super::keys::{KeyLintContext, key_actions};
use super::{Finding, Rule, Severity};
use crate::arn::PrincipalClass;
use crate::diag::kms_action_list;

pub(crate) static RULE: Rule = Rule {
    code: "KMS005",
    name: "public-key",
    severity: Severity::Error,
    spec: "L005, R24, R55",
    summary: "any principal of any AWS account can use the key (conditions a stranger can meet, such as kms:ViaService alone, do not restrict it)",
    input_error: false,
};

pub(crate) fn check(cx: &KeyLintContext<'_>, out: &mut Vec<Finding>) {
    if cx.stranger().is_none() || !may_admit_stranger(cx) {
        return;
    }
    let model = Model::new(cx);
    let principals = model.principals();
    // Statement index → (actions, the first counterexample); settled and unsettled apart.
    let mut open: Vec<(usize, Vec<&'static str>, Counterexample)> = Vec::new();
    let mut maybe: Vec<(usize, Vec<&'static str>, Counterexample)> = Vec::new();
    for a in key_actions() {
        if !principals.iter().any(|p| model.may_admit(p, a.name)) {
            continue;
        }
        let action = format!("kms:{}", a.name);
        let mut unsettled: Option<Counterexample> = None;
        let mut found: Option<Counterexample> = None;
        for p in &principals {
            match model.search(p, &action) {
                Some(ce) if ce.unsettled.is_none() => {
                    found = Some(ce);
                    break;
                }
                Some(ce) if unsettled.is_none() => unsettled = Some(ce),
                Some(_) => {}
                None => {}
            }
        }
        let (list, ce) = match (found, unsettled) {
            (Some(ce), _) => (&mut open, ce),
            (None, Some(ce)) => (&mut maybe, ce),
            (None, None) => continue,
        };
        let mut at: Vec<usize> = ce
            .statements
            .iter()
            .filter_map(|id| cx.statement_named(id))
            .filter(|s| !s.is_deny())
            .map(|s| s.index)
            .collect();
        at.dedup();
        if at.is_empty() {
            // The engine named no statement (the search ran out): the first one that may let
            // a stranger in answers for it.
            at.extend(
                cx.doc()
                    .statements
                    .iter()
                    .find(|s| admits_stranger(s))
                    .map(|s| s.index),
            );
        }
        for i in at {
            match list.iter_mut().find(|(s, ..)| *s == i) {
                Some((_, acts, _)) => acts.push(a.name),
                None => list.push((i, vec![a.name], ce.clone())),
            }
        }
    }
    // A statement the engine cannot judge (a value the template leaves open…) is already
    // reported as such where it is written; it is not reported again as "may be public".
    maybe.retain(|(i, ..)| {
        !open.iter().any(|(j, ..)| j == i)
            && cx
                .doc()
                .statements
                .get(*i)
                .is_some_and(|s| s.broken.is_none())
    });
    for (settled, (index, actions, ce)) in open
        .into_iter()
        .map(|x| (true, x))
        .chain(maybe.into_iter().map(|x| (false, x)))
    {
        let Some(st) = cx.doc().statements.get(index) else {
            continue;
        };
        let span = st
            .principal
            .as_ref()
            .map(|p| {
                p.entries
                    .iter()
                    .find(|e| e.class == PrincipalClass::Any)
                    .map_or(p.span, |e| e.span)
            })
            .unwrap_or(st.span);
        let shown = kms_action_list(&actions, 6);
        // A CloudFormation key policy read per `Fn::If` branch names what selects the branch.
        let branch = cx
            .identity
            .split_once(" when ")
            .map_or_else(String::new, |(_, b)| format!(" in the template branch {b}"));
        let message = if settled {
            format!(
                "any principal of any AWS account can call {shown} on this key{branch}: e.g. {}",
                ce.describe()
            )
        } else {
            format!(
                "principals of other AWS accounts may be able to call {shown} on this key{branch}: e.g. {}, which cannot be settled ({})",
                ce.describe(),
                ce.unsettled.as_deref().unwrap_or("")
            )
        };
        let mut f = Finding::new(
            &RULE,
            cx.doc().source,
            span,
            message,
            if settled {
                "open to every AWS account"
            } else {
                "may be open to other AWS accounts"
            },
        )
        .in_statement(st)
        .help(format!(
            "scope it to your accounts or organisation with a condition the caller cannot choose, e.g. `\"Condition\": {{\"StringEquals\": {{\"kms:CallerAccount\": \"{}\"}}}}` or `aws:PrincipalOrgID` with your organisation id (exact, not `IfExists`, no wildcard)",
            cx.facts.account
        ));
        if !settled {
            f.severity = Severity::Warning;
        }
        out.push(f);
    }
}

/// Whether some statement could let a caller of an unnamed account in (R24–R26): an Allow
/// (or a statement whose effect cannot be read) with `Principal: "*"`, a `NotPrincipal`, a
/// principal the engine cannot classify, or none at all. A key policy without one is not
/// public whatever the action, so its probes are skipped. The test is conservative: anything
/// it is unsure of sends the policy to the engine.
fn may_admit_stranger(cx: &KeyLintContext<'_>) -> bool {
    cx.doc().statements.iter().any(|s| admits_stranger(s))
}

/// Whether one statement could let a caller of an unnamed account in (see above).
fn admits_stranger(st: &crate::policy::Statement) -> bool {
    {
        if st.is_deny() {
            return false;
        }
        if st.broken.is_some() {
            return true;
        }
        let Some(p) = &st.principal else {
            return true;
        };
        p.negated
            || p.entries.iter().any(|e| match &e.class {
                PrincipalClass::Any
                | PrincipalClass::PartialWildcard
                | PrincipalClass::Malformed(_) => true,
                PrincipalClass::Account { account, .. }
                | PrincipalClass::User { account, .. }
                | PrincipalClass::Role { account, .. }
                | PrincipalClass::AssumedRole { account, .. }
                | PrincipalClass::FederatedUser { account, .. } => {
                    account == super::keys::STRANGER_ACCOUNT
                }
                PrincipalClass::OtherIam { .. }
                | PrincipalClass::Service(_)
                | PrincipalClass::UniqueId
                | PrincipalClass::Federated
                | PrincipalClass::CanonicalUser => false,
            })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::eval::{KeyFacts, NamedPolicy};
    use crate::lint::keys::Reach;
    use crate::policy::PolicyKind;
    use crate::source::SourceId;

    const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    /// The shortcut is sound (R24–R26): for every principal form and condition, a key policy it
    /// skips is one where no key action lets the stranger in; and each form it must not skip is
    /// sent to the engine.
    #[test]
    fn skipped_policies_admit_no_stranger_r24() {
        let principals = [
            (r#""*""#, true),
            (r#"{"AWS": "*"}"#, true),
            (r#"{"AWS": "arn:aws:iam::*:root"}"#, true),
            (r#"{"AWS": "111122223333"}"#, false),
            (r#"{"AWS": "arn:aws:iam::444455556666:root"}"#, false),
            (r#"{"AWS": "arn:aws:iam::111122223333:role/Admin"}"#, false),
            (r#"{"AWS": "arn:aws:iam::111122223333:user/Alice"}"#, false),
            (
                r#"{"AWS": "arn:aws:sts::111122223333:assumed-role/R/s"}"#,
                false,
            ),
            (r#"{"AWS": "AROAEXAMPLEID1234567"}"#, false),
            (r#"{"Service": "s3.amazonaws.com"}"#, false),
            (r#"{"Federated": "cognito-identity.amazonaws.com"}"#, false),
            (r#"{"AWS": "000011112222"}"#, true),
        ];
        let conditions = [
            "",
            r#", "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}"#,
            r#", "Condition": {"StringEquals": {"kms:CallerAccount": "111122223333"}}"#,
        ];
        let mut tried = 0;
        for (principal, admits) in principals {
            for cond in conditions {
                for element in ["Principal", "NotPrincipal"] {
                    let text = format!(
                        r#"{{"Version": "2012-10-17", "Statement": [
                            {{"Effect": "Allow", "Principal": {{"AWS": "arn:aws:iam::111122223333:root"}}, "Action": "kms:*", "Resource": "*"}},
                            {{"Effect": "Allow", "{element}": {principal}, "Action": "kms:*", "Resource": "*"{cond}}}
                        ]}}"#
                    );
                    let json = crate::json::parse(&text).unwrap();
                    let (doc, _) =
                        crate::policy::parse_policy(&json, SourceId::new(0, 0), PolicyKind::Key);
                    let policy = NamedPolicy {
                        name: "key policy".into(),
                        doc: Arc::new(doc),
                    };
                    let facts = KeyFacts::from_arn(KEY).unwrap();
                    let cx = KeyLintContext::new(&policy, facts, "k".into(), None);
                    let may = may_admit_stranger(&cx);
                    assert_eq!(may, admits || element == "NotPrincipal", "{text}");
                    if may {
                        continue;
                    }
                    tried += 1;
                    let stranger = cx.stranger().unwrap();
                    for a in key_actions() {
                        let r = cx.reach(
                            &stranger,
                            &format!("kms:{}", a.name),
                            Some(&cx.allow_all_identity()),
                        );
                        assert!(
                            !matches!(r, Reach::Yes(_) | Reach::Conditional(_)),
                            "kms:{} {text}",
                            a.name
                        );
                    }
                }
            }
        }
        assert!(tried >= 20, "{tried}");
    }
}
