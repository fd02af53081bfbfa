//! Grammar problems of a policy document (found by `policy::parse_policy`) as findings.
//!
//! Each problem kind has its own code so a user can tell "AWS rejects this" (errors) from
//! "this matches nothing" (warnings).

use super::{Finding, LintContext, Rule, Severity};
use crate::policy::ProblemKind;
use crate::source::Span;

/// ## What it does
/// Reports elements of a policy, statement or condition block that IAM does not define (`Statment`, `Conditions`, `Princpal`).
///
/// ## Why is this bad?
/// AWS rejects a key policy with an unknown element (`MalformedPolicyDocumentException`); in other tools a misspelt `Condition` silently drops the restriction you meant to add.
///
/// ## Example
/// ```json
/// {"Sid": "BadTypo", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*", "Conditions": {"StringEquals": {"kms:CallerAccount": "111122223333"}}}
/// ```
/// Use instead:
/// ```json
/// {"Sid": "GoodCondition", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"kms:CallerAccount": "111122223333"}}}
/// ```
///
/// ## References
/// - IAM User Guide: "IAM JSON policy element reference"
/// - AWS KMS API Reference: "PutKeyPolicy" (MalformedPolicyDocumentException)
pub(crate) static UNKNOWN_ELEMENT: Rule = Rule {
    code: "KMS035",
    name: "unknown-element",
    severity: Severity::Error,
    spec: "R16",
    summary: "an element IAM does not define (AWS rejects the policy)",
    input_error: false,
};
/// ## What it does
/// Reports a required element that is missing: `Statement` in a document; `Effect`, `Action`/`NotAction` and, in key policies, `Principal` and `Resource` in a statement.
///
/// ## Why is this bad?
/// Without them AWS rejects the policy, or (for `Action` and `Resource` in a key policy) accepts a statement that never does anything.
///
/// ## Example
/// ```json
/// {"Sid": "BadNoPrincipal", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}
/// ```
/// Use instead:
/// ```json
/// {"Sid": "GoodPrincipal", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*"}
/// ```
///
/// ## References
/// - IAM User Guide: "IAM JSON policy element reference"
/// - AWS KMS Developer Guide: "Key policies in AWS KMS"
pub(crate) static MISSING_ELEMENT: Rule = Rule {
    code: "KMS036",
    name: "missing-element",
    severity: Severity::Error,
    spec: "R10, R12",
    summary: "a required element (`Statement`, `Effect`, `Principal`, `Action`, `Resource`) is missing",
    input_error: false,
};
/// ## What it does
/// Reports an element of the wrong JSON type: a number for `Version`, an object for `Action`, a list for `Effect`, a condition value that is an object.
///
/// ## Why is this bad?
/// AWS rejects such a policy; other tools may coerce the value and evaluate something you did not write.
///
/// ## Example
/// ```json
/// {"Sid": "BadActionObject", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": {"kms": "Decrypt"}, "Resource": "*"}
/// ```
/// Use instead:
/// ```json
/// {"Sid": "GoodActionString", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*"}
/// ```
///
/// ## References
/// - IAM User Guide: "Grammar of the IAM JSON policy language"
pub(crate) static WRONG_TYPE: Rule = Rule {
    code: "KMS037",
    name: "wrong-type",
    severity: Severity::Error,
    spec: "R10",
    summary: "an element has the wrong JSON type",
    input_error: false,
};
/// ## What it does
/// Reports values IAM does not accept: a `Version` other than `2012-10-17`/`2008-10-17`, an `Effect` other than `Allow`/`Deny`, a `Sid` with characters IAM rejects, a `Sid` that two statements of one policy share, an action without a service prefix, a `Principal` string other than `*`.
///
/// ## Why is this bad?
/// AWS rejects the policy, or reads it differently from what you meant (an old `Version` turns policy variables into literal text). A `Sid` must be unique within a policy: a key policy or IAM policy that repeats one is refused when it is set. kmsaudit still checks every statement under a repeated `Sid`, each on its own.
///
/// ## Example
/// ```json
/// {"Sid": "BadEffect", "Effect": "Permit", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*"}
/// ```
/// Use instead:
/// ```json
/// {"Sid": "GoodEffect", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*"}
/// ```
///
/// ## References
/// - IAM User Guide: "IAM JSON policy elements: Version"
/// - IAM User Guide: "IAM JSON policy elements: Effect"
pub(crate) static INVALID_VALUE: Rule = Rule {
    code: "KMS038",
    name: "invalid-value",
    severity: Severity::Error,
    spec: "R10, R11",
    summary: "an invalid `Version`, `Effect`, `Sid` (or one two statements share), action name or `Principal` string",
    input_error: false,
};
/// ## What it does
/// Reports a statement with both an element and its negation: `Action` and `NotAction`, `Principal` and `NotPrincipal`, `Resource` and `NotResource`.
///
/// ## Why is this bad?
/// AWS rejects the policy; a statement can only say one of the two.
///
/// ## Example
/// ```json
/// {"Sid": "BadBoth", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "NotAction": "kms:Encrypt", "Resource": "*"}
/// ```
/// Use instead:
/// ```json
/// {"Sid": "GoodOne", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*"}
/// ```
///
/// ## References
/// - IAM User Guide: "IAM JSON policy elements: NotAction"
pub(crate) static CONFLICTING_ELEMENTS: Rule = Rule {
    code: "KMS039",
    name: "conflicting-elements",
    severity: Severity::Error,
    spec: "R10",
    summary: "both `Action` and `NotAction` (or `Principal`/`NotPrincipal`, `Resource`/`NotResource`)",
    input_error: false,
};
/// ## What it does
/// Reports a condition operator IAM does not define (`StringEqual`, `ArnMatches`), with the closest valid name.
///
/// ## Why is this bad?
/// AWS rejects the policy. kmsaudit cannot judge the condition, so every answer that depends on it is `undetermined` — never a silent allow or deny.
///
/// ## Example
/// ```json
/// {"Sid": "BadOperator", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEqual": {"kms:CallerAccount": "111122223333"}}}
/// ```
/// Use instead:
/// ```json
/// {"Sid": "GoodOperator", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"kms:CallerAccount": "111122223333"}}}
/// ```
///
/// ## References
/// - IAM User Guide: "IAM JSON policy elements: Condition operators"
pub(crate) static UNKNOWN_OPERATOR: Rule = Rule {
    code: "KMS040",
    name: "unknown-operator",
    severity: Severity::Error,
    spec: "R28",
    summary: "a condition operator IAM does not define (answers that depend on it are undetermined)",
    input_error: false,
};
/// ## What it does
/// Reports empty lists: `"Statement": []`, `"Action": []`, `"Principal": {"AWS": []}`, a condition key with no values.
///
/// ## Why is this bad?
/// An empty element matches nothing, so the statement never applies — usually a template variable that expanded to nothing.
///
/// ## Example
/// ```json
/// {"Sid": "BadNoActions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": [], "Resource": "*"}
/// ```
/// Use instead:
/// ```json
/// {"Sid": "GoodActions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": ["kms:Decrypt"], "Resource": "*"}
/// ```
///
/// ## References
/// - IAM User Guide: "IAM JSON policy element reference"
pub(crate) static EMPTY_ELEMENT: Rule = Rule {
    code: "KMS041",
    name: "empty-element",
    severity: Severity::Warning,
    spec: "R41",
    summary: "an empty `Statement`, `Action`, `Resource`, `Principal` or condition list matches nothing",
    input_error: false,
};
/// ## What it does
/// Reports `Principal` or `NotPrincipal` in an identity policy, permissions boundary, session policy or SCP.
///
/// ## Why is this bad?
/// These documents apply to the principal they are attached to; IAM rejects `Principal` in them, so the statement never takes effect.
///
/// ## Example
/// ```json
/// {"Sid": "BadPrincipalInIdentity", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}
/// ```
/// Use instead:
/// ```json
/// {"Sid": "GoodIdentity", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
/// ```
///
/// ## References
/// - IAM User Guide: "IAM JSON policy elements: Principal"
pub(crate) static PRINCIPAL_NOT_ALLOWED: Rule = Rule {
    code: "KMS042",
    name: "principal-not-allowed",
    severity: Severity::Warning,
    spec: "R13",
    summary: "`Principal` in an identity, boundary, session or SCP document (the statement is ignored)",
    input_error: false,
};
/// ## What it does
/// Reports a malformed policy variable (`${aws:username`, `${}`) and variables where AWS does not substitute them (in `Action`, `Effect`, or condition keys).
///
/// ## Why is this bad?
/// A variable AWS does not substitute is literal text: the statement compares against the string `${aws:username}` and never matches.
///
/// ## Example
/// ```json
/// {"Sid": "BadUnclosed", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"kms:EncryptionContext:user": "${aws:username"}}}
/// ```
/// Use instead:
/// ```json
/// {"Sid": "GoodVariable", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"kms:EncryptionContext:user": "${aws:username}"}}}
/// ```
///
/// ## References
/// - IAM User Guide: "IAM policy elements: Variables and tags"
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
    duplicate_sids(cx, out);
}

/// A `Sid` two statements of one policy share: every statement holding it is reported, with
/// the other places it is used (R10: IAM requires a policy's `Sid`s to be unique).
fn duplicate_sids(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    let mut sids: Vec<(&str, usize, Span)> = cx
        .doc
        .statements
        .iter()
        .filter_map(|st| {
            let sid = st.sid.as_ref().filter(|s| !s.value.is_empty())?;
            Some((sid.value.as_str(), st.index, sid.span))
        })
        .collect();
    // Sorted by `Sid`, then position: a repeated `Sid` is a run (no quadratic scan).
    sids.sort_unstable();
    for run in sids.chunk_by(|a, b| a.0 == b.0).filter(|r| r.len() > 1) {
        for &(value, index, span) in run {
            let mut f = Finding::new(
                &INVALID_VALUE,
                cx.doc.source,
                span,
                format!(
                    "`Sid` `{value}` is used by {} statements: AWS refuses a policy whose statements share a `Sid`",
                    run.len()
                ),
                "repeated `Sid`",
            )
            .help("give each statement its own `Sid`");
            for &(_, other, other_span) in run.iter().filter(|o| o.1 != index) {
                f = f.label(
                    other_span,
                    format!("also the `Sid` of statement #{}", other + 1),
                );
            }
            out.push(f);
        }
    }
}
