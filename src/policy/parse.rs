//! Builds a [`PolicyDocument`] from a JSON tree, collecting every problem (spec R10–R45).

mod clauses;
mod conditions;

use super::{
    Casing, DuplicateKey, Effect, PolicyDocument, PolicyKind, Problem, ProblemKind, Spanned,
    Statement, Version,
};
use crate::catalog;
use crate::json::{Json, JsonKind, Member};
use crate::source::{SourceId, Span};
use std::sync::Arc;

const POLICY_ELEMENTS: [&str; 3] = ["Version", "Id", "Statement"];
const STATEMENT_ELEMENTS: [&str; 10] = [
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
    "Id",
];

/// Parsing choices the spec leaves open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// Q12 (R16): the first of two duplicate keys counts instead of the last.
    pub(crate) first_duplicate_wins: bool,
    /// Q13 (R28): operator names are case-sensitive (`stringequals` is unknown).
    pub(crate) case_sensitive_operators: bool,
}

/// Parses a policy document of `kind` from `json`. Never fails: problems are returned beside
/// the best model that could be built.
pub fn parse_policy(
    json: &Json<'_>,
    source: SourceId,
    kind: PolicyKind,
) -> (PolicyDocument, Vec<Problem>) {
    parse_policy_with(json, source, kind, ParseOptions::default())
}

/// [`parse_policy`] with the open parsing choices set.
pub fn parse_policy_with(
    json: &Json<'_>,
    source: SourceId,
    kind: PolicyKind,
    options: ParseOptions,
) -> (PolicyDocument, Vec<Problem>) {
    let mut p = Parser {
        problems: Vec::new(),
        duplicates: Vec::new(),
        casing: Vec::new(),
        statement: None,
        options,
    };
    let doc = p.document(json, source, kind);
    let mut problems = p.problems;
    problems.sort_by_key(|x| (x.span.start, x.span.end));
    let mut doc = doc;
    doc.duplicate_keys = p.duplicates;
    doc.casing = p.casing;
    (doc, problems)
}

struct Parser {
    problems: Vec<Problem>,
    duplicates: Vec<DuplicateKey>,
    casing: Vec<Casing>,
    statement: Option<usize>,
    options: ParseOptions,
}

/// Members of an object with duplicates resolved: the last occurrence of each key wins (R16;
/// with `first_wins`, the first — spec Q12). Each duplicate is reported against the
/// occurrence that was in force when it was met. Linear in the members: an object with tens of
/// thousands of keys (an attacker's condition block) is looked up by hash; small ones, the
/// usual case, by a scan that costs less than building a table.
fn dedup<'j, 'a>(
    members: &'j [Member<'a>],
    dups: &mut Vec<DuplicateKey>,
    first_wins: bool,
) -> Vec<&'j Member<'a>> {
    const SCAN: usize = 16;
    // For each member, whether it survives.
    let mut alive = vec![false; members.len()];
    let mut by_key: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, m) in members.iter().enumerate() {
        let prev = if members.len() <= SCAN {
            members
                .iter()
                .take(i)
                .zip(&alive)
                .position(|(x, &live)| live && x.key == m.key)
        } else {
            by_key.get(m.key.as_ref()).copied()
        };
        if let Some(j) = prev {
            if let Some(p) = members.get(j) {
                dups.push(DuplicateKey {
                    key: m.key.to_string(),
                    first: p.key_span,
                    last: m.key_span,
                });
            }
            if first_wins {
                continue;
            }
            if let Some(a) = alive.get_mut(j) {
                *a = false;
            }
        }
        if let Some(a) = alive.get_mut(i) {
            *a = true;
        }
        if members.len() > SCAN {
            by_key.insert(m.key.as_ref(), i);
        }
    }
    let mut out: Vec<&Member<'a>> = members
        .iter()
        .zip(&alive)
        .filter_map(|(m, &live)| live.then_some(m))
        .collect();
    // Keep source order of the surviving members.
    out.sort_by_key(|m| m.key_span.start);
    out
}

fn suggest(name: &str, candidates: &[&'static str]) -> Option<&'static str> {
    candidates
        .iter()
        .map(|c| {
            (
                catalog::edit_distance(&name.to_ascii_lowercase(), &c.to_ascii_lowercase()),
                *c,
            )
        })
        .min_by_key(|(d, _)| *d)
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .map(|(_, c)| c)
}

impl Parser {
    fn problem(&mut self, kind: ProblemKind, span: Span) {
        self.problems.push(Problem {
            kind,
            span,
            statement: self.statement,
        });
    }

    fn wrong_type(&mut self, element: &str, expected: &'static str, v: &Json<'_>) {
        self.problem(
            ProblemKind::WrongType {
                element: element.to_owned(),
                expected,
                found: v.type_name(),
            },
            v.span,
        );
    }

    fn document(&mut self, json: &Json<'_>, source: SourceId, kind: PolicyKind) -> PolicyDocument {
        let mut doc = PolicyDocument {
            source,
            span: json.span,
            kind,
            version: Version::Missing,
            version_span: None,
            id: None,
            statement_span: None,
            statements: Vec::new(),
            duplicate_keys: Vec::new(),
            casing: Vec::new(),
        };
        let Some(members) = json.as_object() else {
            self.wrong_type("policy", "a JSON object with `Statement`", json);
            return doc;
        };
        let members = dedup(
            members,
            &mut self.duplicates,
            self.options.first_duplicate_wins,
        );
        // `Version` decides how statements read `${…}` wherever it is written (R11).
        if let Some(v) = members
            .iter()
            .find(|m| m.key == "Version")
            .and_then(|m| m.value.as_str())
        {
            doc.version = match v {
                "2012-10-17" => Version::V2012,
                "2008-10-17" => Version::V2008,
                _ => Version::Invalid,
            };
        } else if members.iter().any(|m| m.key == "Version") {
            // Not a string (R11): as invalid as a wrong date.
            doc.version = Version::Invalid;
        }
        let mut saw_statement = false;
        for m in members {
            match m.key.as_ref() {
                "Version" => match m.value.as_str() {
                    Some("2012-10-17") => {
                        doc.version = Version::V2012;
                        doc.version_span = Some(m.value.span);
                    }
                    Some("2008-10-17") => {
                        doc.version = Version::V2008;
                        doc.version_span = Some(m.value.span);
                    }
                    Some(other) => {
                        doc.version_span = Some(m.value.span);
                        self.problem(
                            ProblemKind::InvalidValue {
                                element: "Version",
                                detail: format!("`{other}` is not a policy language version"),
                                help: "use `\"Version\": \"2012-10-17\"` (the date is the language version, not today's date)".into(),
                            },
                            m.value.span,
                        );
                    }
                    None => self.wrong_type("Version", "a string", &m.value),
                },
                "Id" => match m.value.as_str() {
                    Some(s) => {
                        doc.id = Some(Spanned {
                            value: s.to_owned(),
                            span: m.value.span,
                        });
                    }
                    None => self.wrong_type("Id", "a string", &m.value),
                },
                "Statement" => {
                    saw_statement = true;
                    doc.statement_span = Some(m.value.span);
                    match &m.value.kind {
                        JsonKind::Array(items) => {
                            if items.is_empty() {
                                self.problem(
                                    ProblemKind::EmptyElement {
                                        element: "Statement".into(),
                                        effect: "the policy allows nothing",
                                    },
                                    m.value.span,
                                );
                            }
                            for item in items {
                                let index = doc.statements.len();
                                let st = self.statement(item, index, &doc);
                                doc.statements.push(Arc::new(st));
                            }
                        }
                        JsonKind::Object(_) => {
                            let st = self.statement(&m.value, 0, &doc);
                            doc.statements.push(Arc::new(st));
                        }
                        _ => self.wrong_type(
                            "Statement",
                            "an object or an array of objects",
                            &m.value,
                        ),
                    }
                }
                other => {
                    let suggestion = if let Some(c) = POLICY_ELEMENTS
                        .iter()
                        .find(|c| c.eq_ignore_ascii_case(other))
                    {
                        Some(*c)
                    } else {
                        suggest(other, &POLICY_ELEMENTS)
                    };
                    self.problem(
                        ProblemKind::UnknownElement {
                            name: other.to_owned(),
                            context: "policy",
                            suggestion,
                        },
                        m.key_span,
                    );
                }
            }
        }
        if !saw_statement {
            self.problem(
                ProblemKind::MissingElement {
                    name: "Statement",
                    why: "a policy document needs at least the `Statement` element",
                },
                Span::new(json.span.start as usize, json.span.start as usize + 1),
            );
        }
        doc.shrink();
        doc
    }

    fn statement(&mut self, json: &Json<'_>, index: usize, doc: &PolicyDocument) -> Statement {
        self.statement = Some(index);
        let before = self
            .problems
            .iter()
            .filter(|p| p.breaks_statement())
            .count();
        let mut st = Statement {
            index,
            span: json.span,
            sid: None,
            effect: None,
            principal: None,
            action: None,
            resource: None,
            conditions: Vec::new(),
            condition_span: None,
            broken: None,
        };
        let Some(members) = json.as_object() else {
            self.wrong_type("Statement", "an object", json);
            st.broken = Some("the statement is not an object".into());
            self.statement = None;
            return st;
        };
        let members = dedup(
            members,
            &mut self.duplicates,
            self.options.first_duplicate_wins,
        );
        let mut effect_missing = true;
        for m in &members {
            let key = m.key.as_ref();
            match key {
                "Sid" => match m.value.as_str() {
                    Some(s) => st.sid = Some(self.sid(s, m.value.span, doc.kind)),
                    None => self.wrong_type("Sid", "a string", &m.value),
                },
                "Effect" => {
                    effect_missing = false;
                    st.effect = self.effect(&m.value);
                }
                "Principal" | "NotPrincipal" => {
                    if let Some(prev) = &st.principal {
                        let names = ("Principal", "NotPrincipal");
                        self.conflicting(names, prev.negated, prev.key_span, m.key_span);
                        continue;
                    }
                    st.principal = Some(self.principal(m, key == "NotPrincipal"));
                    if !doc.kind.has_principals() {
                        self.problem(
                            ProblemKind::PrincipalNotAllowed {
                                kind: doc.kind.describe(),
                            },
                            m.key_span,
                        );
                    }
                }
                "Action" | "NotAction" => {
                    if let Some(prev) = &st.action {
                        let names = ("Action", "NotAction");
                        self.conflicting(names, prev.negated, prev.key_span, m.key_span);
                        continue;
                    }
                    st.action = Some(self.action(m, key == "NotAction"));
                }
                "Resource" | "NotResource" => {
                    if let Some(prev) = &st.resource {
                        let names = ("Resource", "NotResource");
                        self.conflicting(names, prev.negated, prev.key_span, m.key_span);
                        continue;
                    }
                    let variables = doc.version.has_variables();
                    st.resource = Some(self.resource(m, key == "NotResource", variables));
                }
                "Condition" => {
                    st.condition_span = Some(m.value.span);
                    st.conditions = self.conditions(&m.value, doc.version.has_variables());
                }
                other => self.unknown_statement_element(other, m.key_span),
            }
        }
        let head = Span::new(json.span.start as usize, json.span.start as usize + 1);
        self.missing_elements(&st, doc.kind, effect_missing, head);
        let after = self
            .problems
            .iter()
            .filter(|p| p.breaks_statement())
            .count();
        if after > before {
            st.broken = self
                .problems
                .iter()
                .rev()
                .find(|p| p.breaks_statement())
                .map(Problem::message);
        }
        self.statement = None;
        st
    }

    /// A statement's `Sid`: outside key policies, letters and digits only.
    fn sid(&mut self, s: &str, span: Span, kind: PolicyKind) -> Spanned<String> {
        if !kind.has_principals() && !s.chars().all(|c| c.is_ascii_alphanumeric()) {
            self.problem(
                ProblemKind::InvalidValue {
                    element: "Sid",
                    detail: format!("`{s}` has characters other than letters and digits"),
                    help: "in IAM policies a `Sid` may hold only A-Z, a-z and 0-9".into(),
                },
                span,
            );
        }
        Spanned {
            value: s.to_owned(),
            span,
        }
    }

    /// An element met after its opposite (`NotAction` after `Action`): `names` is the plain
    /// and the negated name, `prev_negated` which one came first.
    fn conflicting(
        &mut self,
        (plain, negated): (&'static str, &'static str),
        prev_negated: bool,
        prev: Span,
        other: Span,
    ) {
        let (first, second) = if prev_negated {
            (negated, plain)
        } else {
            (plain, negated)
        };
        self.problem(
            ProblemKind::Conflicting {
                first,
                second,
                other,
            },
            prev,
        );
    }

    /// A statement member that is no statement element, with the one it may have meant.
    fn unknown_statement_element(&mut self, other: &str, span: Span) {
        let suggestion = if let Some(c) = STATEMENT_ELEMENTS
            .iter()
            .find(|c| c.eq_ignore_ascii_case(other))
        {
            Some(*c)
        } else {
            suggest(other, &STATEMENT_ELEMENTS)
        };
        self.problem(
            ProblemKind::UnknownElement {
                name: other.to_owned(),
                context: "statement",
                suggestion,
            },
            span,
        );
    }

    /// The elements a statement of `kind` must have and does not, reported at its `head`.
    fn missing_elements(
        &mut self,
        st: &Statement,
        kind: PolicyKind,
        effect_missing: bool,
        head: Span,
    ) {
        if effect_missing {
            self.problem(
                ProblemKind::MissingElement {
                    name: "Effect",
                    why: "every statement must say `Allow` or `Deny`",
                },
                head,
            );
        }
        // A key policy statement without Action or Resource is accepted by KMS but inert (R12,
        // lint L011); elsewhere AWS rejects it.
        if kind != PolicyKind::Key {
            if st.action.is_none() {
                self.problem(
                    ProblemKind::MissingElement {
                        name: "Action",
                        why: "every statement must have `Action` or `NotAction`",
                    },
                    head,
                );
            }
            if st.resource.is_none() && !matches!(kind, PolicyKind::Scp | PolicyKind::Trust) {
                self.problem(
                    ProblemKind::MissingElement {
                        name: "Resource",
                        why: "every statement must have `Resource` or `NotResource`",
                    },
                    head,
                );
            }
        }
        if kind.has_principals() && st.principal.is_none() {
            self.problem(
                ProblemKind::MissingElement {
                    name: "Principal",
                    why: "every statement of a key policy must name its principals",
                },
                head,
            );
        }
    }

    fn effect(&mut self, v: &Json<'_>) -> Option<Spanned<Effect>> {
        let Some(s) = v.as_str() else {
            self.wrong_type("Effect", "the string `Allow` or `Deny`", v);
            return None;
        };
        let effect = if s.eq_ignore_ascii_case("allow") {
            Effect::Allow
        } else if s.eq_ignore_ascii_case("deny") {
            Effect::Deny
        } else {
            self.problem(
                ProblemKind::InvalidValue {
                    element: "Effect",
                    detail: format!("`{s}` is neither `Allow` nor `Deny`"),
                    help: "write `Allow` or `Deny`".into(),
                },
                v.span,
            );
            return None;
        };
        let canonical = match effect {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        };
        if s != canonical {
            self.casing.push(Casing {
                found: s.to_owned(),
                canonical: canonical.to_owned(),
                span: v.span,
            });
        }
        Some(Spanned {
            value: effect,
            span: v.span,
        })
    }

    /// A string or an array of strings; reports wrong types and returns the strings.
    fn string_list<'j>(&mut self, element: &str, v: &'j Json<'_>) -> Vec<(&'j str, Span)> {
        match &v.kind {
            JsonKind::String(s) => vec![(s.as_ref(), v.span)],
            JsonKind::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    match it.as_str() {
                        Some(s) => out.push((s, it.span)),
                        None => self.wrong_type(element, "a string or an array of strings", it),
                    }
                }
                out
            }
            _ => {
                self.wrong_type(element, "a string or an array of strings", v);
                Vec::new()
            }
        }
    }

    fn empty_check(&mut self, element: &str, v: &Json<'_>, effect: &'static str) {
        let empty = match &v.kind {
            JsonKind::Array(a) => a.is_empty(),
            JsonKind::Object(m) => m.is_empty(),
            _ => false,
        };
        if empty {
            self.problem(
                ProblemKind::EmptyElement {
                    element: element.to_owned(),
                    effect,
                },
                v.span,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::conditions::{parse_operator, suggest_operator};
    use super::*;
    use crate::arn::PrincipalClass;
    use crate::json::parse;
    use crate::policy::{BaseOperator, SetOperator};

    fn doc(text: &str, kind: PolicyKind) -> (PolicyDocument, Vec<Problem>) {
        let j = parse(text).unwrap();
        parse_policy(&j, SourceId::new(0, 0), kind)
    }

    #[test]
    fn statement_as_object_or_array_r10() {
        let (d, p) = doc(
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*"}}"#,
            PolicyKind::Key,
        );
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(d.statements.len(), 1);
        assert_eq!(d.version, Version::Missing);
        let st = &d.statements[0];
        assert!(st.is_allow());
        assert_eq!(
            st.principal.as_ref().unwrap().entries[0].class,
            PrincipalClass::Any
        );
    }

    #[test]
    fn operators_parse_case_insensitively_r28() {
        let op = parse_operator("forAnyValue:stringlikeIfExists");
        assert_eq!(op.base, Some(BaseOperator::StringLike));
        assert_eq!(op.set, Some(SetOperator::ForAnyValue));
        assert!(op.if_exists);
        assert_eq!(op.canonical().unwrap(), "ForAnyValue:StringLikeIfExists");
        assert_eq!(parse_operator("NullIfExists").base, None);
        assert_eq!(parse_operator("StringEqual").base, None);
        assert_eq!(
            suggest_operator("StringEqual").as_deref(),
            Some("StringEquals")
        );
    }

    #[test]
    fn condition_values_normalise_to_strings_r10() {
        let (d, p) = doc(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*",
               "Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"kms:RotationPeriodInDays":[90, 1.5]}}}]}"#,
            PolicyKind::Identity,
        );
        assert!(p.is_empty(), "{p:?}");
        let c = &d.statements[0].conditions;
        assert_eq!(c[0].values[0].text, "true");
        assert_eq!(c[1].values[1].text, "1.5");
    }

    #[test]
    fn duplicate_keys_keep_the_last_r16() {
        let (d, _) = doc(
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*",
               "Condition":{"StringEquals":{"kms:CallerAccount":"111122223333"},"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}}]}"#,
            PolicyKind::Key,
        );
        let c = &d.statements[0].conditions;
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].key, "kms:ViaService");
        assert_eq!(d.duplicate_keys.len(), 1);
    }

    /// Members of a parsed JSON object.
    fn members_of(text: &str) -> Vec<crate::json::Member<'_>> {
        match parse(text).unwrap().kind {
            crate::json::JsonKind::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn r16_duplicates_in_an_object_of_40000_keys_resolve_as_in_a_small_one() {
        // Key `k{i % 20000}`: every key twice, and `k7` a third time at the end.
        let mut parts: Vec<String> = (0..40_000)
            .map(|i| format!(r#""k{}":{i}"#, i % 20_000))
            .collect();
        parts.push(r#""k7":"third""#.to_owned());
        let text = format!("{{{}}}", parts.join(","));
        let members = members_of(&text);
        for first_wins in [false, true] {
            let mut dups = Vec::new();
            let kept = dedup(&members, &mut dups, first_wins);
            assert_eq!(kept.len(), 20_000);
            assert_eq!(dups.len(), 20_001);
            // Surviving members stay in source order.
            assert!(
                kept.windows(2)
                    .all(|w| w[0].key_span.start < w[1].key_span.start)
            );
            let k7: Vec<&str> = kept
                .iter()
                .filter(|m| m.key == "k7")
                .map(|m| &text[m.value.span.start as usize..m.value.span.end as usize])
                .collect();
            assert_eq!(k7, [if first_wins { "7" } else { r#""third""# }]);
            // The third `k7` is reported against the occurrence in force when it was met.
            let third = dups.iter().filter(|d| d.key == "k7").nth(1).unwrap();
            let in_force = if first_wins { 7 } else { 20_007 };
            let at = members
                .iter()
                .position(|m| m.key_span == third.first)
                .unwrap();
            assert_eq!(at, in_force);
        }
        // The same answers as a small object gives through the scan.
        let small = members_of(r#"{"a":1,"b":2,"a":3,"a":4}"#);
        let mut dups = Vec::new();
        let kept = dedup(&small, &mut dups, false);
        let keys: Vec<&str> = kept.iter().map(|m| m.key.as_ref()).collect();
        assert_eq!(keys, ["b", "a"]);
        assert_eq!(dups.len(), 2);
        assert_eq!(dups[1].first, small[2].key_span);
    }

    #[test]
    fn action_wildcards_expand_from_the_catalogue_r119() {
        let (d, _) = doc(
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":["kms:ReEncrypt*","KMS:decrypt"],"Resource":"*"}]}"#,
            PolicyKind::Key,
        );
        let a = d.statements[0].action.as_ref().unwrap();
        assert_eq!(a.kms_mask.count_ones(), 3);
    }

    #[test]
    fn every_problem_is_collected() {
        let (d, p) = doc(
            r#"{"Version":"2012-10-18","Statement":[{"Effect":"Permit","Action":"Decrypt","NotAction":"kms:X","Resource":"*","Foo":1}]}"#,
            PolicyKind::Identity,
        );
        let kinds: Vec<_> = p.iter().map(|x| x.message()).collect();
        assert_eq!(p.len(), 5, "{kinds:?}");
        assert!(d.statements[0].broken.is_some());
    }
}

#[cfg(test)]
mod order_tests {
    use super::*;
    use crate::json::parse;

    #[test]
    fn version_after_statement_still_enables_variables_r11() {
        let j = parse(r#"{"Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:user":"${aws:username}"}}}],"Version":"2012-10-17"}"#).unwrap();
        let (d, _) = parse_policy(&j, SourceId::new(0, 0), PolicyKind::Identity);
        assert!(
            d.statements[0].conditions[0].values[0]
                .pattern
                .has_variables()
        );
    }
}
