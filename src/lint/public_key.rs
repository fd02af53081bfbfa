//! `KMS005` public-key (spec L005, R24, R55).
//!
//! ## What it does
//! Asks the engine whether a stranger — a role in an account no policy names, whose own IAM
//! policies allow everything — can use the key. Every key action is probed with request keys
//! left open; an answer that holds, or holds under conditions none of which tie the caller to
//! the key owner (`kms:CallerAccount`, `aws:PrincipalAccount`, `aws:PrincipalOrgID`,
//! `aws:PrincipalArn`, `aws:SourceArn`/`aws:SourceAccount`, the owner's VPC endpoint or
//! network), makes the key public. Conditions a stranger can meet — `kms:ViaService` alone, an
//! encryption context, its own principal tags — do not count.
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

use super::keys::{KeyLintContext, OWNER_SCOPING_KEYS, Reach, key_actions};
use super::{Finding, Rule, Severity};
use crate::arn::PrincipalClass;

pub(crate) static RULE: Rule = Rule {
    code: "KMS005",
    name: "public-key",
    severity: Severity::Error,
    spec: "L005, R24, R55",
    summary: "any principal of any AWS account can use the key (conditions a stranger can meet, such as kms:ViaService alone, do not restrict it)",
    input_error: false,
};

pub(crate) fn check(cx: &KeyLintContext<'_>, out: &mut Vec<Finding>) {
    let Some(stranger) = cx.stranger() else {
        return;
    };
    if !may_admit_stranger(cx) {
        return;
    }
    let iam = cx.allow_all_identity();
    // Statement id → (actions, the conditions they need, if any).
    let mut open: Vec<(String, Vec<&'static str>, Option<String>)> = Vec::new();
    let mut note = |id: &str, action: &'static str, cond: Option<String>| match open
        .iter_mut()
        .find(|(s, _, _)| s == id)
    {
        Some((_, acts, _)) => acts.push(action),
        None => open.push((id.to_owned(), vec![action], cond)),
    };
    for a in key_actions() {
        if !cx.may_allow_to(&stranger, a.name, Some(&iam)) {
            continue;
        }
        match cx.reach(
            stranger.clone(),
            &format!("kms:{}", a.name),
            Some(iam.clone()),
        ) {
            Reach::Yes(by) => {
                for id in by.iter().filter(|s| s.starts_with(super::keys::KEY_POLICY)) {
                    note(id, a.name, None);
                }
            }
            Reach::Conditional(alts) => {
                // An organisation condition naming another organisation than the configured one
                // restricts nothing for this owner.
                let scopes = |r: &crate::eval::Requirement| {
                    OWNER_SCOPING_KEYS.contains(&r.key.as_str())
                        && !(r.key == "aws:principalorgid"
                            && cx
                                .config
                                .organisation
                                .as_deref()
                                .is_some_and(|o| !r.text.contains(o)))
                };
                for alt in alts.iter().filter(|alt| !alt.iter().any(scopes)) {
                    let cond = alt
                        .iter()
                        .map(|r| r.text.as_str())
                        .collect::<Vec<_>>()
                        .join(" and ");
                    let mut ids: Vec<&str> = alt.iter().map(|r| r.statement.as_str()).collect();
                    ids.dedup();
                    for id in ids {
                        note(id, a.name, Some(cond.clone()));
                    }
                }
            }
            Reach::No | Reach::Denied(_) | Reach::Unknown(_) => {}
        }
    }
    for (id, actions, cond) in open {
        let Some(st) = cx.statement_named(&id) else {
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
        let shown: Vec<String> = actions.iter().take(6).map(|a| format!("kms:{a}")).collect();
        let more = if actions.len() > 6 {
            format!(" and {} more", actions.len() - 6)
        } else {
            String::new()
        };
        let when = cond.map_or(String::new(), |c| {
            format!(" (it needs only that {c}, which any caller can arrange)")
        });
        out.push(
            Finding::new(
                &RULE,
                cx.doc().source,
                span,
                format!(
                    "any principal of any AWS account can call {}{more} on this key{when}",
                    shown.join(", ")
                ),
                "open to every AWS account",
            )
            .in_statement(st)
            .help(format!(
                "scope it to your accounts or organisation, e.g. `\"Condition\": {{\"StringEquals\": {{\"kms:CallerAccount\": \"{}\"}}}}` or `aws:PrincipalOrgID`",
                cx.facts.account
            )),
        );
    }
}

/// Whether some statement could let a caller of an unnamed account in (R24–R26): an Allow
/// (or a statement whose effect cannot be read) with `Principal: "*"`, a `NotPrincipal`, a
/// principal the engine cannot classify, or none at all. A key policy without one is not
/// public whatever the action, so its probes are skipped. The test is conservative: anything
/// it is unsure of sends the policy to the engine.
fn may_admit_stranger(cx: &KeyLintContext<'_>) -> bool {
    cx.doc().statements.iter().any(|st| {
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
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::eval::{KeyFacts, NamedPolicy};
    use crate::policy::PolicyKind;
    use crate::source::{SourceFile, SourceId};

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
                    let source = SourceFile::new("kp.json", text.as_str(), None);
                    let facts = KeyFacts::from_arn(KEY).unwrap();
                    let cx = KeyLintContext::new(&policy, &source, facts, "k".into(), None);
                    let may = may_admit_stranger(&cx);
                    assert_eq!(may, admits || element == "NotPrincipal", "{text}");
                    if may {
                        continue;
                    }
                    tried += 1;
                    let stranger = cx.stranger().unwrap();
                    for a in key_actions() {
                        let r = cx.reach(
                            stranger.clone(),
                            &format!("kms:{}", a.name),
                            Some(cx.allow_all_identity()),
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
