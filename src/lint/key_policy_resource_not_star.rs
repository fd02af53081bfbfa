//! `KMS028` key-policy-resource-not-star (spec L028, R19).
//!
//! ## What it does
//! Notes key-policy statements whose `Resource` is something other than `"*"`.
//!
//! ## Why is this bad?
//! In a key policy `"*"` means "this key". An ARN there applies only if it matches this key's
//! ARN, which breaks when the policy is copied to another key or Region.
//!
//! ## Example
//! ```json
//! {"Sid": "BadArn", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "arn:aws:kms:us-east-1:111122223333:key/*"}
//! ```
//! Use instead: `"Resource": "*"`.
//!
//! ## References
//! - AWS KMS Developer Guide: "Key policies in AWS KMS" (Resource)

use super::{Finding, LintContext, Rule, Severity};
use crate::policy::PolicyKind;

pub(crate) static RULE: Rule = Rule {
    code: "KMS028",
    name: "key-policy-resource-not-star",
    severity: Severity::Info,
    spec: "L028, R19",
    summary: "a key-policy `Resource` other than `\"*\"` (which means this key)",
    input_error: false,
};

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    if cx.doc.kind != PolicyKind::Key {
        return;
    }
    for st in &cx.doc.statements {
        let Some(r) = &st.resource else { continue };
        // Another service's ARN is KMS072's warning, not this note.
        for item in r.items.iter().filter(|i| {
            !i.is_star()
                && super::key_policy_resource_other_service::other_service(&i.raw).is_none()
        }) {
            out.push(
                Finding::new(&RULE, cx.doc.source, item.span, format!("key-policy resource `{}` is not `*`: it applies only if it matches this key's ARN", item.raw), "not `*`")
                    .in_statement(st)
                    .help("write `\"Resource\": \"*\"`, which in a key policy means this key"),
            );
        }
    }
}
