//! `KMS029` non-canonical-case (spec L029, R10, R28).
//!
//! ## What it does
//! Notes `Effect` values and condition operators written in another case than AWS's
//! (`allow`, `stringequals`).
//!
//! ## Why is this bad?
//! kmsaudit reads them case-insensitively, but whether AWS accepts them is not documented
//! (spec Q13), and other tools may not.
//!
//! ## Example
//! ```json
//! {"Sid": "BadCase", "Effect": "allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"stringequals": {"kms:CallerAccount": "111122223333"}}}
//! ```
//! Use instead: `Allow`, `StringEquals`.
//!
//! ## References
//! - IAM User Guide: "IAM JSON policy elements: Condition operators"

use super::{Finding, LintContext, Rule, Severity};

pub(crate) static RULE: Rule = Rule {
    code: "KMS029",
    name: "non-canonical-case",
    severity: Severity::Info,
    spec: "L029, R10, R28",
    summary: "`Effect` or a condition operator written in another case than AWS's",
    input_error: false,
};

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for c in &cx.doc.casing {
        out.push(
            Finding::new(
                &RULE,
                cx.doc.source,
                c.span,
                format!("`{}` is written `{}` by AWS", c.found, c.canonical),
                "non-canonical case",
            )
            .help(format!("write `{}`", c.canonical)),
        );
    }
}
