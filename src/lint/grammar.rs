//! Grammar problems of a policy document (found by `policy::parse_policy`) as findings.
//!
//! Each problem kind has its own code so a user can tell "AWS rejects this" (errors) from
//! "this matches nothing" (warnings).

use super::{Finding, LintContext, Rule, Severity};
use crate::policy::ProblemKind;

/// `KMS035`.
pub(crate) static UNKNOWN_ELEMENT: Rule = Rule {
    code: "KMS035",
    name: "unknown-element",
    severity: Severity::Error,
    spec: "R16",
    summary: "an element IAM does not define (AWS rejects the policy)",
    input_error: false,
};
/// `KMS036`.
pub(crate) static MISSING_ELEMENT: Rule = Rule {
    code: "KMS036",
    name: "missing-element",
    severity: Severity::Error,
    spec: "R10, R12",
    summary: "a required element (`Statement`, `Effect`, `Principal`, `Action`, `Resource`) is missing",
    input_error: false,
};
/// `KMS037`.
pub(crate) static WRONG_TYPE: Rule = Rule {
    code: "KMS037",
    name: "wrong-type",
    severity: Severity::Error,
    spec: "R10",
    summary: "an element has the wrong JSON type",
    input_error: false,
};
/// `KMS038`.
pub(crate) static INVALID_VALUE: Rule = Rule {
    code: "KMS038",
    name: "invalid-value",
    severity: Severity::Error,
    spec: "R10, R11",
    summary: "an invalid `Version`, `Effect`, `Sid`, action name or `Principal` string",
    input_error: false,
};
/// `KMS039`.
pub(crate) static CONFLICTING_ELEMENTS: Rule = Rule {
    code: "KMS039",
    name: "conflicting-elements",
    severity: Severity::Error,
    spec: "R10",
    summary: "both `Action` and `NotAction` (or `Principal`/`NotPrincipal`, `Resource`/`NotResource`)",
    input_error: false,
};
/// `KMS040`.
pub(crate) static UNKNOWN_OPERATOR: Rule = Rule {
    code: "KMS040",
    name: "unknown-operator",
    severity: Severity::Error,
    spec: "R28",
    summary: "a condition operator IAM does not define (answers that depend on it are undetermined)",
    input_error: false,
};
/// `KMS041`.
pub(crate) static EMPTY_ELEMENT: Rule = Rule {
    code: "KMS041",
    name: "empty-element",
    severity: Severity::Warning,
    spec: "R41",
    summary: "an empty `Statement`, `Action`, `Resource`, `Principal` or condition list matches nothing",
    input_error: false,
};
/// `KMS042`.
pub(crate) static PRINCIPAL_NOT_ALLOWED: Rule = Rule {
    code: "KMS042",
    name: "principal-not-allowed",
    severity: Severity::Warning,
    spec: "R13",
    summary: "`Principal` in an identity, boundary, session or SCP document (the statement is ignored)",
    input_error: false,
};
/// `KMS044`.
pub(crate) static POLICY_VARIABLE: Rule = Rule {
    code: "KMS044",
    name: "policy-variable-misuse",
    severity: Severity::Warning,
    spec: "R37",
    summary: "a malformed `${…}` variable, or one where AWS does not substitute variables",
    input_error: false,
};

pub(crate) fn report(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for p in cx.problems {
        let rule = match p.kind {
            ProblemKind::UnknownElement { .. } => &UNKNOWN_ELEMENT,
            ProblemKind::MissingElement { .. } => &MISSING_ELEMENT,
            ProblemKind::WrongType { .. } => &WRONG_TYPE,
            ProblemKind::InvalidValue { .. } => &INVALID_VALUE,
            ProblemKind::Conflicting { .. } => &CONFLICTING_ELEMENTS,
            ProblemKind::UnknownOperator { .. } => &UNKNOWN_OPERATOR,
            ProblemKind::EmptyElement { .. } => &EMPTY_ELEMENT,
            ProblemKind::PrincipalNotAllowed { .. } => &PRINCIPAL_NOT_ALLOWED,
            ProblemKind::InvalidVariable { .. } | ProblemKind::MisplacedVariable { .. } => {
                &POLICY_VARIABLE
            }
        };
        let mut f =
            Finding::new(rule, cx.doc.source, p.span, p.message(), p.label()).help(p.help());
        for (span, text) in p.extra_labels() {
            f = f.label(span, text);
        }
        if let Some(st) = p.statement.and_then(|i| cx.doc.statements.get(i)) {
            if st.sid.as_ref().is_some_and(|s| s.span != p.span) {
                f = f.in_statement(st);
            }
        }
        out.push(f);
    }
}
