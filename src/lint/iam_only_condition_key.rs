//! `KMS019` iam-only-condition-key (spec L019, R45).
//!
//! ## What it does
//! Flags, in key policies, condition keys that only make sense in IAM policies:
//! `kms:ResourceAliases` (documented for IAM policies only), and `kms:KeySpec`, `kms:KeyUsage`,
//! `kms:KeyOrigin`, `kms:MultiRegion`, `kms:BypassPolicyLockoutSafetyCheck` in a statement
//! about `kms:CreateKey` alone (CreateKey has no key policy to consult).
//!
//! ## Why is this bad?
//! The condition does not do what it says: AWS documents `kms:ResourceAliases` as unusable in
//! key policies, and a key policy is never consulted for CreateKey.
//!
//! ## Example
//! ```json
//! {"Sid": "BadAliasInKeyPolicy", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/app"}}}
//! ```
//! Use instead: the same condition in the role's IAM policy, or name the role in the key
//! policy without it:
//! ```json
//! {"Sid": "GoodNamed", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*"}
//! ```
//!
//! ## References
//! - AWS KMS Developer Guide: "kms:ResourceAliases"
//! - AWS KMS Developer Guide: "AWS KMS condition keys" (policy type of each key)

use super::{Finding, LintContext, Rule, Severity};
use crate::policy::PolicyKind;

pub(crate) static RULE: Rule = Rule {
    code: "KMS019",
    name: "iam-only-condition-key",
    severity: Severity::Warning,
    spec: "L019, R45",
    summary: "`kms:ResourceAliases`, or a CreateKey-only condition key, in a key policy",
    input_error: false,
};

const CREATE_KEY_ONLY: &[&str] = &[
    "kms:keyspec",
    "kms:keyusage",
    "kms:keyorigin",
    "kms:multiregion",
    "kms:bypasspolicylockoutsafetycheck",
    "kms:customermasterkeyspec",
    "kms:customermasterkeyusage",
];

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    if cx.doc.kind != PolicyKind::Key {
        return;
    }
    let create_key = crate::catalog::action_index("CreateKey").map(|i| 1u128 << i);
    for st in &cx.doc.statements {
        let only_create_key = st
            .action
            .as_ref()
            .is_some_and(|a| !a.negated && a.kms_mask != 0 && Some(a.kms_mask) == create_key);
        for c in &st.conditions {
            let message = if c.key_lower == "kms:resourcealiases" {
                format!(
                    "`{}` is documented for IAM policies only; in a key policy it does not limit access as intended",
                    c.key
                )
            } else if only_create_key && CREATE_KEY_ONLY.contains(&c.key_lower.as_str()) {
                format!(
                    "`{}` on `kms:CreateKey` in a key policy: CreateKey is controlled by IAM policies only",
                    c.key
                )
            } else {
                continue;
            };
            out.push(
                Finding::new(
                    &RULE,
                    cx.doc.source,
                    c.key_span,
                    message,
                    "IAM-only condition key",
                )
                .in_statement(st)
                .help("move the condition into an IAM policy"),
            );
        }
    }
}
