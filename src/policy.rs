//! The IAM policy language as kmsaudit models it (spec §2–§3, R10–R45).
//!
//! Owns [`PolicyDocument`] and its parts — statements, effects, principals, action and resource
//! patterns, conditions with their operators and policy variables — and the parser that builds
//! them from a [`crate::json::Json`] tree ([`parse_policy`]). Every element keeps the span it
//! came from. Parsing never stops at the first problem: grammar problems are collected as
//! [`Problem`]s and the rest of the document is still modelled; a statement the engine could
//! not judge is marked [`Statement::broken`]. It knows nothing of files (`input`), of requests
//! and decisions (`eval`) or of lint codes (`lint`).

mod err;
mod parse;
mod print;
pub mod shapes;

pub(crate) use err::{Problem, ProblemKind};
pub use parse::{ParseOptions, parse_policy, parse_policy_with};
pub use print::to_json;

use crate::arn::PrincipalClass;
use crate::catalog::{ActionMask, ConditionKeyInfo};
use crate::pattern::Pattern;
use crate::source::{SourceId, Span};
use std::sync::Arc;

/// Which kind of policy a document is; decides which elements it may hold (spec R13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyKind {
    /// A KMS key policy (resource policy).
    Key,
    /// An IAM identity policy (inline or managed).
    Identity,
    /// A permissions boundary.
    Boundary,
    /// A session policy.
    Session,
    /// A service control policy.
    Scp,
    /// A resource control policy.
    Rcp,
    /// A VPC endpoint policy.
    VpcEndpoint,
    /// A role's trust policy.
    Trust,
}

impl PolicyKind {
    /// Documents that name principals (`Principal` / `NotPrincipal` required).
    pub(crate) fn has_principals(self) -> bool {
        matches!(
            self,
            PolicyKind::Key | PolicyKind::Rcp | PolicyKind::VpcEndpoint | PolicyKind::Trust
        )
    }

    /// Name for messages.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            PolicyKind::Key => "key policy",
            PolicyKind::Identity => "identity policy",
            PolicyKind::Boundary => "permissions boundary",
            PolicyKind::Session => "session policy",
            PolicyKind::Scp => "service control policy",
            PolicyKind::Rcp => "resource control policy",
            PolicyKind::VpcEndpoint => "VPC endpoint policy",
            PolicyKind::Trust => "role trust policy",
        }
    }
}

/// A value with the span it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub(crate) span: Span,
}

/// The `Version` element (spec R11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `2012-10-17`: policy variables are substituted.
    V2012,
    /// `2008-10-17`: `${…}` is literal text.
    V2008,
    /// No `Version`: treated as 2008 (variables are literal).
    Missing,
    /// A `Version` that is neither date (or not a string): AWS rejects the policy (R11), so the
    /// engine cannot judge its statements.
    Invalid,
}

impl Version {
    /// True when policy variables are substituted.
    pub(crate) fn has_variables(self) -> bool {
        self == Version::V2012
    }
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Effect {
    /// `Allow`.
    Allow,
    /// `Deny`.
    Deny,
}

/// A parsed policy document.
#[derive(Debug, Clone)]
pub struct PolicyDocument {
    /// The source it was parsed from.
    pub source: SourceId,
    /// The whole document object.
    pub(crate) span: Span,
    /// Which kind of policy it is.
    pub kind: PolicyKind,
    /// `Version`, with its span when written.
    pub version: Version,
    /// Span of the `Version` value.
    pub(crate) version_span: Option<Span>,
    /// `Id`.
    pub id: Option<Spanned<String>>,
    /// Span of the `Statement` value.
    pub(crate) statement_span: Option<Span>,
    /// Statements in order.
    pub statements: Vec<Arc<Statement>>,
    /// Keys written twice in one object: (key, earlier span, later span). The later wins (R16).
    pub(crate) duplicate_keys: Vec<DuplicateKey>,
    /// Names written in another case than AWS's (`allow`, `stringequals`).
    pub(crate) casing: Vec<Casing>,
}

/// A key written twice in one JSON object.
#[derive(Debug, Clone)]
pub(crate) struct DuplicateKey {
    /// The key.
    pub(crate) key: String,
    /// The earlier occurrence (ignored).
    pub(crate) first: Span,
    /// The later occurrence (kept).
    pub(crate) last: Span,
}

/// An element name or operator written in non-canonical case.
#[derive(Debug, Clone)]
pub(crate) struct Casing {
    /// As written.
    pub(crate) found: String,
    /// As AWS writes it.
    pub(crate) canonical: String,
    /// Where.
    pub(crate) span: Span,
}

/// One statement.
#[derive(Debug, Clone)]
pub struct Statement {
    /// 0-based position in the document.
    pub index: usize,
    /// The statement object.
    pub span: Span,
    /// `Sid`.
    pub sid: Option<Spanned<String>>,
    /// `Effect`; `None` when missing or invalid.
    pub effect: Option<Spanned<Effect>>,
    /// `Principal` or `NotPrincipal`.
    pub principal: Option<PrincipalClause>,
    /// `Action` or `NotAction`.
    pub action: Option<ActionClause>,
    /// `Resource` or `NotResource`.
    pub resource: Option<ResourceClause>,
    /// Condition pairs (operator × key), in order.
    pub conditions: Vec<Condition>,
    /// Span of the `Condition` value.
    pub(crate) condition_span: Option<Span>,
    /// Why the engine cannot judge this statement (a grammar error in it), if so.
    pub broken: Option<String>,
}

impl PolicyDocument {
    /// The statement at position `i`, if any.
    pub(crate) fn statement(&self, i: usize) -> Option<&Statement> {
        self.statements.get(i).map(|s| &**s)
    }

    /// Gives back the growth slack of every list in the model. Account dumps hold tens of
    /// thousands of small policies, and the slack of their lists was a fifth of peak memory.
    pub(crate) fn shrink(&mut self) {
        self.statements.shrink_to_fit();
        self.duplicate_keys.shrink_to_fit();
        self.casing.shrink_to_fit();
        for st in &mut self.statements {
            let st = Arc::make_mut(st);
            st.conditions.shrink_to_fit();
            for c in &mut st.conditions {
                c.values.shrink_to_fit();
            }
            if let Some(p) = &mut st.principal {
                p.entries.shrink_to_fit();
            }
            if let Some(a) = &mut st.action {
                a.items.shrink_to_fit();
            }
            if let Some(r) = &mut st.resource {
                r.items.shrink_to_fit();
                for item in &mut r.items {
                    item.parts.shrink_to_fit();
                }
            }
        }
    }
}

impl Statement {
    /// The entries of its `Principal` or `NotPrincipal` (none without either).
    pub(crate) fn principal_entries(&self) -> impl Iterator<Item = &PrincipalEntry> {
        self.principal.iter().flat_map(|p| p.entries.iter())
    }

    /// The entries of its `Principal`: the principals it names (none for `NotPrincipal`).
    pub(crate) fn named_principals(&self) -> impl Iterator<Item = &PrincipalEntry> {
        self.principal
            .iter()
            .filter(|p| !p.negated)
            .flat_map(|p| p.entries.iter())
    }

    /// `Sid` if present, else `#<index+1>`, for messages.
    pub(crate) fn label(&self) -> String {
        match &self.sid {
            Some(s) if !s.value.is_empty() => s.value.clone(),
            _ => format!("#{}", self.index + 1),
        }
    }

    /// True for an `Allow` statement.
    pub(crate) fn is_allow(&self) -> bool {
        matches!(
            self.effect,
            Some(Spanned {
                value: Effect::Allow,
                ..
            })
        )
    }

    /// True for a `Deny` statement.
    pub(crate) fn is_deny(&self) -> bool {
        matches!(
            self.effect,
            Some(Spanned {
                value: Effect::Deny,
                ..
            })
        )
    }
}

/// `Principal` or `NotPrincipal` (spec R24, R26).
#[derive(Debug, Clone)]
pub struct PrincipalClause {
    /// `NotPrincipal`.
    pub negated: bool,
    /// Span of the element name.
    pub(crate) key_span: Span,
    /// Span of the value.
    pub(crate) span: Span,
    /// Every principal named; `"*"` is one entry of class `Any`.
    pub entries: Vec<PrincipalEntry>,
}

/// The key under which a principal is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PrincipalType {
    /// `"*"` written as a plain string.
    Star,
    /// `AWS`.
    Aws,
    /// `Service`.
    Service,
    /// `Federated`.
    Federated,
    /// `CanonicalUser`.
    CanonicalUser,
}

/// One principal value.
#[derive(Debug, Clone)]
pub struct PrincipalEntry {
    /// Under which key.
    pub ty: PrincipalType,
    /// As written.
    pub value: String,
    /// Where.
    pub(crate) span: Span,
    /// What it names.
    pub class: PrincipalClass,
}

/// `Action` or `NotAction` (spec R17, R18).
#[derive(Debug, Clone)]
pub struct ActionClause {
    /// `NotAction`.
    pub negated: bool,
    /// Span of the element name.
    pub(crate) key_span: Span,
    /// Span of the value.
    pub(crate) span: Span,
    /// The patterns.
    pub items: Vec<ActionItem>,
    /// Union of the KMS actions the items match.
    pub kms_mask: ActionMask,
}

/// One action pattern.
#[derive(Debug, Clone)]
pub struct ActionItem {
    /// As written.
    pub raw: String,
    /// Where.
    pub(crate) span: Span,
    /// Lower-case service prefix (`kms`); `*` for the bare `"*"`.
    pub(crate) service: std::borrow::Cow<'static, str>,
    /// The name pattern, lower-case.
    pub(crate) name: Pattern,
    /// KMS actions matched (empty for other services).
    pub(crate) kms_mask: ActionMask,
}

/// `Resource` or `NotResource` (spec R19–R23).
#[derive(Debug, Clone)]
pub struct ResourceClause {
    /// `NotResource`.
    pub negated: bool,
    /// Span of the element name.
    pub(crate) key_span: Span,
    /// Span of the value.
    pub(crate) span: Span,
    /// The patterns.
    pub items: Vec<ResourceItem>,
}

/// One resource pattern, split like an ARN (spec R21).
#[derive(Debug, Clone)]
pub struct ResourceItem {
    /// As written.
    pub raw: String,
    /// Where.
    pub(crate) span: Span,
    /// The pattern of each ARN part (1 to 6 parts; `*` alone is one part).
    pub(crate) parts: Vec<Pattern>,
}

impl ResourceItem {
    /// True for `"*"`.
    pub(crate) fn is_star(&self) -> bool {
        matches!(self.parts.as_slice(), [p] if p.is_star())
    }
}

/// Operator families of spec R28.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum BaseOperator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

impl BaseOperator {
    /// Every operator with its canonical name.
    pub(crate) const ALL: [(BaseOperator, &'static str); 27] = [
        (BaseOperator::StringEquals, "StringEquals"),
        (BaseOperator::StringNotEquals, "StringNotEquals"),
        (
            BaseOperator::StringEqualsIgnoreCase,
            "StringEqualsIgnoreCase",
        ),
        (
            BaseOperator::StringNotEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase",
        ),
        (BaseOperator::StringLike, "StringLike"),
        (BaseOperator::StringNotLike, "StringNotLike"),
        (BaseOperator::NumericEquals, "NumericEquals"),
        (BaseOperator::NumericNotEquals, "NumericNotEquals"),
        (BaseOperator::NumericLessThan, "NumericLessThan"),
        (BaseOperator::NumericLessThanEquals, "NumericLessThanEquals"),
        (BaseOperator::NumericGreaterThan, "NumericGreaterThan"),
        (
            BaseOperator::NumericGreaterThanEquals,
            "NumericGreaterThanEquals",
        ),
        (BaseOperator::DateEquals, "DateEquals"),
        (BaseOperator::DateNotEquals, "DateNotEquals"),
        (BaseOperator::DateLessThan, "DateLessThan"),
        (BaseOperator::DateLessThanEquals, "DateLessThanEquals"),
        (BaseOperator::DateGreaterThan, "DateGreaterThan"),
        (BaseOperator::DateGreaterThanEquals, "DateGreaterThanEquals"),
        (BaseOperator::Bool, "Bool"),
        (BaseOperator::BinaryEquals, "BinaryEquals"),
        (BaseOperator::IpAddress, "IpAddress"),
        (BaseOperator::NotIpAddress, "NotIpAddress"),
        (BaseOperator::ArnEquals, "ArnEquals"),
        (BaseOperator::ArnLike, "ArnLike"),
        (BaseOperator::ArnNotEquals, "ArnNotEquals"),
        (BaseOperator::ArnNotLike, "ArnNotLike"),
        (BaseOperator::Null, "Null"),
    ];

    /// Canonical name.
    pub(crate) fn name(self) -> &'static str {
        BaseOperator::ALL
            .iter()
            .find(|(o, _)| *o == self)
            .map_or("", |(_, n)| n)
    }

    /// Negated operators: a missing key makes them true, several values are ANDed (R27, R29).
    pub(crate) fn is_negated(self) -> bool {
        matches!(
            self,
            BaseOperator::StringNotEquals
                | BaseOperator::StringNotEqualsIgnoreCase
                | BaseOperator::StringNotLike
                | BaseOperator::NumericNotEquals
                | BaseOperator::DateNotEquals
                | BaseOperator::NotIpAddress
                | BaseOperator::ArnNotEquals
                | BaseOperator::ArnNotLike
        )
    }

    /// Operators whose values may hold policy variables (R37).
    pub(crate) fn allows_variables(self) -> bool {
        matches!(
            self,
            BaseOperator::StringEquals
                | BaseOperator::StringNotEquals
                | BaseOperator::StringEqualsIgnoreCase
                | BaseOperator::StringNotEqualsIgnoreCase
                | BaseOperator::StringLike
                | BaseOperator::StringNotLike
                | BaseOperator::ArnEquals
                | BaseOperator::ArnLike
                | BaseOperator::ArnNotEquals
                | BaseOperator::ArnNotLike
        )
    }

    /// Operators whose values are patterns with `*` and `?` (R32).
    pub(crate) fn has_wildcards(self) -> bool {
        matches!(
            self,
            BaseOperator::StringLike
                | BaseOperator::StringNotLike
                | BaseOperator::ArnEquals
                | BaseOperator::ArnLike
                | BaseOperator::ArnNotEquals
                | BaseOperator::ArnNotLike
        )
    }
}

/// `ForAnyValue:` or `ForAllValues:` (spec R33).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum SetOperator {
    /// `ForAnyValue:`.
    ForAnyValue,
    /// `ForAllValues:`.
    ForAllValues,
}

/// A condition operator (spec R28).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// As written.
    pub raw: String,
    /// The base operator; `None` when the name is not an IAM operator.
    pub(crate) base: Option<BaseOperator>,
    /// The set prefix.
    pub(crate) set: Option<SetOperator>,
    /// The `IfExists` suffix.
    pub(crate) if_exists: bool,
}

impl Operator {
    /// The canonical spelling (`ForAnyValue:StringLikeIfExists`).
    pub(crate) fn canonical(&self) -> Option<String> {
        let base = self.base?;
        let mut s = String::new();
        match self.set {
            Some(SetOperator::ForAnyValue) => s.push_str("ForAnyValue:"),
            Some(SetOperator::ForAllValues) => s.push_str("ForAllValues:"),
            None => {}
        }
        s.push_str(base.name());
        if self.if_exists {
            s.push_str("IfExists");
        }
        Some(s)
    }
}

/// One (operator, key) pair of a `Condition` block with its values (spec R27).
#[derive(Debug, Clone)]
pub struct Condition {
    /// The operator.
    pub operator: Operator,
    /// Span of the operator name.
    pub(crate) operator_span: Span,
    /// The condition key as written.
    pub key: String,
    /// The key in lower case (names are case-insensitive, spec R7).
    pub(crate) key_lower: String,
    /// Span of the key.
    pub(crate) key_span: Span,
    /// The catalogue entry, for known keys.
    pub(crate) key_info: Option<&'static ConditionKeyInfo>,
    /// The values, normalised to strings (R10).
    pub values: Vec<ConditionValue>,
}

/// One condition value.
#[derive(Debug, Clone)]
pub struct ConditionValue {
    /// The value as a string (`true`, `12`, text).
    pub text: String,
    /// Where.
    pub(crate) span: Span,
    /// The value as a pattern: wildcards for `*Like`/`Arn*`, variables in 2012-10-17 documents.
    pub(crate) pattern: Pattern,
}

impl Condition {
    /// The pair's value when its key is absent from the request (spec R29–R31, R33, R35);
    /// `None` for an unknown operator or a `Null` value other than true/false.
    pub(crate) fn when_absent(&self) -> Option<bool> {
        let base = self.operator.base?;
        if base == BaseOperator::Null {
            // `Null: true` holds iff the key is absent; every value must say the same.
            let mut result = None;
            for v in &self.values {
                let b = match v.text.to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return None,
                };
                if result.is_some_and(|r| r != b) {
                    // `Null: [true, false]` is true either way (values are ORed).
                    return Some(true);
                }
                result = Some(b);
            }
            return result;
        }
        Some(match self.operator.set {
            Some(SetOperator::ForAllValues) => true,
            Some(SetOperator::ForAnyValue) => self.operator.if_exists,
            None => self.operator.if_exists || base.is_negated(),
        })
    }
}
