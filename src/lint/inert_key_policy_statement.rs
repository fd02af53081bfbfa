//! `KMS011` inert-key-policy-statement (spec L011, R12).
//!
//! ## What it does
//! Flags key-policy statements without `Resource` (or `NotResource`) or without `Action`
//! (or `NotAction`).
//!
//! ## Why is this bad?
//! KMS accepts such a statement but it has no effect: whatever it was meant to allow or deny
//! does not happen.
//!
//! ## Example
//! ```json
//! {"Sid": "BadNoResource", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*"}
//! ```
//! Use instead: add `"Resource": "*"`.
//!
//! ## References
//! - AWS KMS Developer Guide: "Key policies in AWS KMS" (elements of a key policy)

use super::{Finding, LintContext, Rule, Severity};
use crate::policy::PolicyKind;
use crate::source::Span;

pub(crate) static RULE: Rule = Rule {
    code: "KMS011",
    name: "inert-key-policy-statement",
    severity: Severity::Error,
    spec: "L011, R12",
    summary: "a key-policy statement without `Resource` or `Action` has no effect",
    input_error: false,
};

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    if cx.doc.kind != PolicyKind::Key {
        return;
    }
    for st in &cx.doc.statements {
        let missing = match (&st.action, &st.resource) {
            (None, None) => "`Action` and `Resource`",
            (None, Some(_)) => "`Action`",
            (Some(_), None) => "`Resource`",
            (Some(_), Some(_)) => continue,
        };
        let head = Span::new(st.span.start as usize, st.span.start as usize + 1);
        let (span, label) = match &st.sid {
            Some(sid) => (sid.span, format!("statement `{}`", sid.value)),
            None => (head, "this statement".to_owned()),
        };
        let help = if st.resource.is_none() {
            "add `\"Resource\": \"*\"` (in a key policy `*` means this key)"
        } else {
            "add `Action` with the KMS actions the statement is for"
        };
        out.push(
            Finding::new(
                &RULE,
                cx.doc.source,
                span,
                format!("key-policy statement without {missing} has no effect"),
                label,
            )
            .help(help),
        );
    }
}
