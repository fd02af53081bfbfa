//! `KMS014` partial-wildcard-principal (spec L014, R24).
//!
//! ## What it does
//! Flags principal values with `*` or `?` inside an ARN, such as `arn:aws:iam::*:root` or
//! `arn:aws:iam::111122223333:role/*`.
//!
//! ## Why is this bad?
//! IAM has no wildcards inside principal ARNs: the value matches nothing (or is rejected),
//! so the statement does not do what it says.
//!
//! ## Example
//! ```json
//! {"Sid": "BadAnyRole", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/*"}, "Action": "kms:Decrypt", "Resource": "*"}
//! ```
//! Use instead: `"Principal": "*"` with an `aws:PrincipalArn` `ArnLike` condition.
//!
//! ## References
//! - IAM User Guide: "AWS JSON policy elements: Principal" (wildcards)

use super::{Finding, LintContext, Rule, Severity};
use crate::arn::PrincipalClass;

pub(crate) static RULE: Rule = Rule {
    code: "KMS014",
    name: "partial-wildcard-principal",
    severity: Severity::Error,
    spec: "L014, R24",
    summary: "a wildcard inside a principal ARN matches nothing",
    input_error: false,
};

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for st in &cx.doc.statements {
        for e in st
            .principal_entries()
            .filter(|e| e.class == PrincipalClass::PartialWildcard)
        {
            out.push(
                Finding::new(&RULE, cx.doc.source, e.span, format!("principal `{}` has a wildcard inside it: it matches no principal", e.value), "partial wildcard")
                    .in_statement(st)
                    .help("use `\"Principal\": \"*\"` with an `ArnLike` condition on `aws:PrincipalArn`, or name the principals"),
            );
        }
    }
}
