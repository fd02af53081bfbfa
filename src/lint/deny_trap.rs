//! `KMS004` deny-trap (spec L004, R109, R110).
//!
//! ## What it does
//! For every principal that an `Allow` of the key policy lets call `kms:PutKeyPolicy`, asks the
//! engine whether the key policy as written still lets it. When a `Deny` takes that away from
//! every one of them, for every request (no open condition saves any), the key cannot be
//! managed. A Deny that exempts a user or role by `aws:PrincipalArn` ("unless the caller is
//! role X") leaves X in control: that is at most a KMS003 warning naming X, not this error.
//!
//! ## Why is this bad?
//! A `Deny` wins over every `Allow`, including the root delegation. A Deny of
//! `kms:PutKeyPolicy` (or `kms:*`) for `"*"` without a carve-out that some principal can meet
//! makes the key unmanageable: its policy can never change again.
//!
//! ## Example
//! ```json
//! {"Sid": "BadDenyPolicyChanges", "Effect": "Deny", "Principal": "*", "Action": "kms:PutKeyPolicy", "Resource": "*"}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodDenyOthers", "Effect": "Deny", "Principal": "*", "Action": "kms:PutKeyPolicy", "Resource": "*", "Condition": {"ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/KeyAdmin"}}}
//! ```
//!
//! ## References
//! - AWS KMS Developer Guide: "Default key policy" (Reduces the risk of the KMS key becoming unmanageable)
//! - IAM User Guide: "Policy evaluation logic" (explicit deny)

use super::keys::{KeyLintContext, Reach};
use super::{Finding, Rule, Severity};

pub(crate) static RULE: Rule = Rule {
    code: "KMS004",
    name: "deny-trap",
    severity: Severity::Error,
    spec: "L004, R109, R110",
    summary: "a Deny takes kms:PutKeyPolicy from every principal that could call it: the key cannot be managed",
    input_error: false,
};

/// The Deny statements that trap every administrator, when they do.
pub(crate) fn trapped(cx: &KeyLintContext<'_>) -> Option<Vec<String>> {
    let analysis = cx.admin_analysis();
    // R116: an admin path that holds under some request an administrator makes (settled by
    // the owner-side model only when the engine did not allow it outright).
    let model = super::owner::OwnerModel::new(cx);
    if super::owner::admins(cx, &model).next().is_some() {
        return None;
    }
    // R110: a principal the Deny exempts by `aws:PrincipalArn` keeps control (KMS003 says
    // whether that depends on it existing).
    if !super::owner::named_in_conditions(cx, &model).is_empty() {
        return None;
    }
    let denied: Vec<_> = analysis
        .candidates
        .iter()
        .filter(|c| matches!(c.reach, Reach::Denied(_)) && c.exists != Some(false))
        .collect();
    if denied.is_empty() {
        return None;
    }
    // Would they manage the key without the Denies? Then the Denies trap them.
    let allows = cx.without_denies();
    let mut by: Vec<String> = Vec::new();
    let mut any = false;
    for c in &denied {
        let ev = cx.probe_with(allows, &c.caller, "kms:PutKeyPolicy", Some(&[]));
        if ev.decision == crate::eval::Decision::Allow {
            any = true;
            if let Reach::Denied(d) = &c.reach {
                for s in d.iter() {
                    if !by.contains(s) {
                        by.push(s.clone());
                    }
                }
            }
        }
    }
    any.then_some(by)
}

pub(crate) fn check(cx: &KeyLintContext<'_>, out: &mut Vec<Finding>) {
    if cx.aws_managed() {
        return; // R114
    }
    let Some(by) = trapped(cx) else { return };
    for id in &by {
        let Some(st) = cx.statement_named(id) else {
            continue;
        };
        let span = st
            .action
            .as_ref()
            .map(|a| a.span)
            .or(st.effect.as_ref().map(|e| e.span))
            .unwrap_or(st.span);
        out.push(
            Finding::new(
                &RULE,
                cx.doc().source,
                span,
                "this Deny takes kms:PutKeyPolicy from every principal that could call it: the key cannot be managed",
                "denies every key administrator",
            )
            .in_statement(st)
            .help("exempt the key administrators (e.g. `\"Condition\": {\"ArnNotEquals\": {\"aws:PrincipalArn\": \"<admin role ARN>\"}}`), or remove kms:PutKeyPolicy from the Deny"),
        );
    }
}
