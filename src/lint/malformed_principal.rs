//! `KMS045` malformed-principal (spec R24, R135).
//!
//! ## What it does
//! Flags principal values that are not an account id, an IAM or STS principal ARN, a unique id
//! or a service principal — e.g. a documentation placeholder such as
//! `arn:aws:iam::account-id:root`.
//!
//! ## Why is this bad?
//! KMS rejects a key policy whose principals it cannot resolve; where the policy came from
//! elsewhere, the statement matches nobody.
//!
//! ## Example
//! ```json
//! {"Sid": "BadPlaceholder", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::account-id:root"}, "Action": "kms:*", "Resource": "*"}
//! ```
//! Use instead: the real 12-digit account id.
//!
//! ## References
//! - IAM User Guide: "AWS JSON policy elements: Principal"

use super::{Finding, LintContext, Rule, Severity};
use crate::arn::PrincipalClass;

pub(crate) static RULE: Rule = Rule {
    code: "KMS045",
    name: "malformed-principal",
    severity: Severity::Error,
    spec: "R24, R135",
    summary: "a principal value that is not an account, IAM/STS ARN or service principal",
    input_error: false,
};

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for st in &cx.doc.statements {
        for e in st.principal_entries() {
            let PrincipalClass::Malformed(why) = e.class else {
                continue;
            };
            // A value a template leaves open is reported once, as unresolved (KMS051).
            if e.value.starts_with("unknown://") {
                continue;
            }
            out.push(
                Finding::new(&RULE, cx.doc.source, e.span, format!("principal `{}` is malformed: {why}", e.value), "not a valid principal")
                    .in_statement(st)
                    .help("write a 12-digit account id, `arn:aws:iam::<account>:root|user/…|role/…`, or a service principal such as `logs.amazonaws.com`"),
            );
        }
    }
}
