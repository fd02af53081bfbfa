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
