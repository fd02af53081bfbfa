//! `KMS013` unique-id-principal (spec L013, R24).
//!
//! ## What it does
//! Flags principals written as IAM unique ids (`AIDA…`, `AROA…`).
//!
//! ## Why is this bad?
//! AWS shows a unique id in place of an ARN when the principal was deleted. The statement
//! matches nobody, even a new principal of the same name.
//!
//! ## Example
//! ```json
//! {"Sid": "BadDeleted", "Effect": "Allow", "Principal": {"AWS": "AROAEXAMPLEID1234567"}, "Action": "kms:Decrypt", "Resource": "*"}
//! ```
//! Use instead: the principal's current ARN, or remove the statement.
//!
//! ## References
//! - IAM User Guide: "IAM identifiers" (unique IDs)
//! - AWS KMS Developer Guide: "Default key policy" (deleted principals)

use super::{Finding, LintContext, Rule, Severity};
use crate::arn::PrincipalClass;

pub(crate) static RULE: Rule = Rule {
    code: "KMS013",
    name: "unique-id-principal",
    severity: Severity::Warning,
    spec: "L013, R24",
    summary: "a principal written as a unique id: the principal was deleted and matches nobody",
    input_error: false,
};

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for st in &cx.doc.statements {
        for e in st
            .principal_entries()
            .filter(|e| e.class == PrincipalClass::UniqueId)
        {
            out.push(
                Finding::new(&RULE, cx.doc.source, e.span, format!("principal `{}` is a unique id: the principal was deleted", e.value), "deleted principal")
                    .in_statement(st)
                    .help("replace it with the current principal's ARN, or remove it; a new principal of the same name is not matched"),
            );
        }
    }
}
