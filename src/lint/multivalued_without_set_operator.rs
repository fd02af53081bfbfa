//! `KMS008` multivalued-without-set-operator (spec L008, R34).
//!
//! ## What it does
//! Flags a condition on a multivalued key (`kms:EncryptionContextKeys`, `kms:GrantOperations`,
//! `kms:ResourceAliases`, `aws:TagKeys`…) without `ForAnyValue:` or `ForAllValues:`.
//!
//! ## Why is this bad?
//! AWS requires a set operator for multivalued keys; without one the test is false whenever the
//! key is present, so an `Allow` never applies and a `Deny` never fires.
//!
//! ## Example
//! ```json
//! {"Sid": "BadPlain", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"kms:EncryptionContextKeys": "AppName"}}}
//! ```
//! Use instead: `ForAnyValue:StringEquals`.
//!
//! ## References
//! - IAM User Guide: "Single-valued vs. multivalued context keys"
//! - AWS KMS Developer Guide: "kms:EncryptionContextKeys"

use super::{Finding, LintContext, Rule, Severity};
use crate::policy::BaseOperator;

pub(crate) static RULE: Rule = Rule {
    code: "KMS008",
    name: "multivalued-without-set-operator",
    severity: Severity::Warning,
    spec: "L008, R34",
    summary: "a multivalued condition key used without `ForAnyValue:`/`ForAllValues:`",
    input_error: false,
};

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for st in &cx.doc.statements {
        for c in &st.conditions {
            let Some(info) = c.key_info else { continue };
            if !info.multivalued || c.operator.set.is_some() {
                continue;
            }
            if matches!(c.operator.base, None | Some(BaseOperator::Null)) {
                continue;
            }
            out.push(
                Finding::new(
                    &RULE,
                    cx.doc.source,
                    c.operator_span,
                    format!("`{}` is multivalued but `{}` has no set operator: the test is false whenever the key is present", c.key, c.operator.raw),
                    "no `ForAnyValue:`/`ForAllValues:`",
                )
                .label(c.key_span, "multivalued key")
                .in_statement(st)
                .help(format!("write `ForAnyValue:{}` (at least one value matches) or `ForAllValues:{}` (every value matches)", c.operator.raw, c.operator.raw)),
            );
        }
    }
}
