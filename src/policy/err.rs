//! Grammar problems found while parsing a policy document.
//!
//! A [`Problem`] is about the document's shape — what AWS would reject or what makes a statement
//! impossible to judge. Semantic findings about well-formed policies live in `lint`; the lint
//! registry gives each problem kind its code.

use crate::source::Span;

/// What is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProblemKind {
    /// An element AWS does not define (spec R16).
    UnknownElement {
        /// As written.
        name: String,
        /// Where (`policy`, `statement`, `Principal`).
        context: &'static str,
        /// The element it probably means.
        suggestion: Option<&'static str>,
    },
    /// A required element is missing.
    MissingElement {
        /// The element.
        name: &'static str,
        /// Why it is needed.
        why: &'static str,
    },
    /// An element has the wrong JSON type.
    WrongType {
        /// The element.
        element: String,
        /// What it must be.
        expected: &'static str,
        /// What it is.
        found: &'static str,
    },
    /// An element's value is not valid.
    InvalidValue {
        /// The element.
        element: &'static str,
        /// What is wrong with it.
        detail: String,
        /// What to do.
        help: String,
    },
    /// Two elements that exclude each other (`Action` and `NotAction`).
    Conflicting {
        /// The first.
        first: &'static str,
        /// The second.
        second: &'static str,
        /// The second's span (the problem span is the first's).
        other: Span,
    },
    /// A condition operator that is not an IAM operator (spec R28).
    UnknownOperator {
        /// As written.
        name: String,
        /// The operator it probably means.
        suggestion: Option<String>,
    },
    /// An empty list or object where values are expected (spec R41).
    EmptyElement {
        /// The element.
        element: String,
        /// What it means.
        effect: &'static str,
    },
    /// `${` without a valid variable (spec R37).
    InvalidVariable {
        /// As written.
        text: String,
    },
    /// A policy variable where AWS does not substitute variables (spec R37).
    MisplacedVariable {
        /// Where.
        place: String,
    },
    /// `Principal` in a policy kind that does not take one (spec R13).
    PrincipalNotAllowed {
        /// The policy kind.
        kind: &'static str,
    },
}

/// A grammar problem at a span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What.
    pub(crate) kind: ProblemKind,
    /// Where.
    pub(crate) span: Span,
    /// The statement it is in (0-based), if any.
    pub(crate) statement: Option<usize>,
}

impl Problem {
    /// True when AWS would reject the document (an error rather than a warning).
    pub fn is_error(&self) -> bool {
        !matches!(
            self.kind,
            ProblemKind::EmptyElement { .. }
                | ProblemKind::MisplacedVariable { .. }
                | ProblemKind::InvalidVariable { .. }
                | ProblemKind::PrincipalNotAllowed { .. }
        )
    }

    /// True when the statement it is in cannot be judged at all (an unknown operator only
    /// makes its own condition unknown).
    pub(crate) fn breaks_statement(&self) -> bool {
        self.is_error() && !matches!(self.kind, ProblemKind::UnknownOperator { .. })
    }

    /// One-line message.
    pub(crate) fn message(&self) -> String {
        match &self.kind {
            ProblemKind::UnknownElement { name, context, .. } => {
                format!("unknown {context} element `{name}`")
            }
            ProblemKind::MissingElement { name, why } => format!("missing `{name}`: {why}"),
            ProblemKind::WrongType {
                element,
                expected,
                found,
            } => format!("`{element}` must be {expected}, not {found}"),
            ProblemKind::InvalidValue {
                element, detail, ..
            } => {
                format!("invalid `{element}`: {detail}")
            }
            ProblemKind::Conflicting { first, second, .. } => {
                format!("statement has both `{first}` and `{second}`")
            }
            ProblemKind::UnknownOperator { name, .. } => {
                format!("unknown condition operator `{name}`")
            }
            ProblemKind::EmptyElement { element, effect } => {
                format!("`{element}` is empty: {effect}")
            }
            ProblemKind::InvalidVariable { text } => {
                format!("`{text}` is not a valid policy variable and is read literally")
            }
            ProblemKind::MisplacedVariable { place } => {
                format!("policy variables are not substituted in {place}: the text is literal")
            }
            ProblemKind::PrincipalNotAllowed { kind } => {
                let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "an"
                } else {
                    "a"
                };
                format!("{article} {kind} cannot name principals: the statement is ignored")
            }
        }
    }

    /// The label under the span.
    pub(crate) fn label(&self) -> String {
        match &self.kind {
            ProblemKind::UnknownElement { .. } => "not an IAM policy element".into(),
            ProblemKind::MissingElement { .. } => "in this statement".into(),
            ProblemKind::WrongType { found, .. } => format!("{found} here"),
            ProblemKind::InvalidValue { .. } => "invalid value".into(),
            ProblemKind::Conflicting { first, .. } => format!("`{first}` here"),
            ProblemKind::UnknownOperator { .. } => "not an IAM condition operator".into(),
            ProblemKind::EmptyElement { .. } => "empty".into(),
            ProblemKind::InvalidVariable { .. } => "malformed variable".into(),
            ProblemKind::MisplacedVariable { .. } => "literal text, not a variable".into(),
            ProblemKind::PrincipalNotAllowed { .. } => "principal here".into(),
        }
    }

    /// Secondary labels.
    pub(crate) fn extra_labels(&self) -> Vec<(Span, String)> {
        match &self.kind {
            ProblemKind::Conflicting { second, other, .. } => {
                vec![(*other, format!("`{second}` here"))]
            }
            _ => Vec::new(),
        }
    }

    /// What to do.
    pub(crate) fn help(&self) -> String {
        match &self.kind {
            ProblemKind::UnknownElement { suggestion: Some(s), .. } => format!("did you mean `{s}`?"),
            ProblemKind::UnknownElement { context, .. } => match *context {
                "policy" => "a policy holds only `Version`, `Id` and `Statement`".into(),
                "Principal" => "use `AWS`, `Service`, `Federated` or `CanonicalUser`".into(),
                _ => "a statement holds `Sid`, `Effect`, `Principal`/`NotPrincipal`, `Action`/`NotAction`, `Resource`/`NotResource` and `Condition`".into(),
            },
            ProblemKind::MissingElement { name, .. } => match *name {
                "Effect" => "add `\"Effect\": \"Allow\"` or `\"Effect\": \"Deny\"`".into(),
                "Statement" => "wrap the statements in `\"Statement\": [ … ]`".into(),
                "Principal" => "name who the statement applies to, e.g. `\"Principal\": {\"AWS\": \"arn:aws:iam::111122223333:root\"}`".into(),
                "Action" => "add `Action` (or `NotAction`) with the KMS actions, e.g. `\"kms:Decrypt\"`".into(),
                _ => "add `\"Resource\": \"*\"` (in a key policy `*` means this key)".into(),
            },
            ProblemKind::WrongType { expected, .. } => format!("write it as {expected}"),
            ProblemKind::InvalidValue { help, .. } => help.clone(),
            ProblemKind::Conflicting { .. } => "keep exactly one of them".into(),
            ProblemKind::UnknownOperator { suggestion: Some(s), .. } => format!("did you mean `{s}`?"),
            ProblemKind::UnknownOperator { .. } => {
                "use an IAM operator such as `StringEquals`, `ArnLike`, `Bool` or `Null`, optionally with `ForAnyValue:`/`ForAllValues:` and `IfExists`".into()
            }
            ProblemKind::EmptyElement { .. } => "add values, or remove the element".into(),
            ProblemKind::InvalidVariable { .. } => {
                "write variables as `${aws:username}` or `${aws:PrincipalTag/team, 'default'}`".into()
            }
            ProblemKind::MisplacedVariable { .. } => {
                "variables work in `Resource` ARNs and in values of `String*` and `Arn*` operators".into()
            }
            ProblemKind::PrincipalNotAllowed { .. } => {
                "remove `Principal`, or check the file as a key policy with `--policy-kind key`".into()
            }
        }
    }
}
