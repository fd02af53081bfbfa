//! Builds a [`PolicyDocument`] from a JSON tree, collecting every problem (spec R10–R45).

use super::{
    ActionClause, ActionItem, BaseOperator, Casing, Condition, ConditionValue, DuplicateKey,
    Effect, Operator, PolicyDocument, PolicyKind, PrincipalClause, PrincipalEntry, PrincipalType,
    Problem, ProblemKind, ResourceClause, ResourceItem, SetOperator, Spanned, Statement, Version,
};
use crate::arn::{PrincipalClass, classify_aws_principal, classify_service_principal};
use crate::catalog::{self, ActionMask};
use crate::json::{Json, JsonKind, Member};
use crate::pattern::Pattern;
use crate::source::{SourceId, Span};

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
    pub first_duplicate_wins: bool,
    /// Q13 (R28): operator names are case-sensitive (`stringequals` is unknown).
    pub case_sensitive_operators: bool,
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
                                doc.statements.push(st);
                            }
                        }
                        JsonKind::Object(_) => {
                            let st = self.statement(&m.value, 0, &doc);
                            doc.statements.push(st);
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
                    Some(s) => {
                        if !doc.kind.has_principals()
                            && !s.chars().all(|c| c.is_ascii_alphanumeric())
                        {
                            self.problem(
                                ProblemKind::InvalidValue {
                                    element: "Sid",
                                    detail: format!(
                                        "`{s}` has characters other than letters and digits"
                                    ),
                                    help: "in IAM policies a `Sid` may hold only A-Z, a-z and 0-9"
                                        .into(),
                                },
                                m.value.span,
                            );
                        }
                        st.sid = Some(Spanned {
                            value: s.to_owned(),
                            span: m.value.span,
                        });
                    }
                    None => self.wrong_type("Sid", "a string", &m.value),
                },
                "Effect" => {
                    effect_missing = false;
                    st.effect = self.effect(&m.value);
                }
                "Principal" | "NotPrincipal" => {
                    let negated = key == "NotPrincipal";
                    if let Some(prev) = &st.principal {
                        let (first, second) = if prev.negated {
                            ("NotPrincipal", "Principal")
                        } else {
                            ("Principal", "NotPrincipal")
                        };
                        self.problem(
                            ProblemKind::Conflicting {
                                first,
                                second,
                                other: m.key_span,
                            },
                            prev.key_span,
                        );
                        continue;
                    }
                    st.principal = Some(self.principal(m, negated));
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
                    let negated = key == "NotAction";
                    if let Some(prev) = &st.action {
                        let (first, second) = if prev.negated {
                            ("NotAction", "Action")
                        } else {
                            ("Action", "NotAction")
                        };
                        self.problem(
                            ProblemKind::Conflicting {
                                first,
                                second,
                                other: m.key_span,
                            },
                            prev.key_span,
                        );
                        continue;
                    }
                    st.action = Some(self.action(m, negated));
                }
                "Resource" | "NotResource" => {
                    let negated = key == "NotResource";
                    if let Some(prev) = &st.resource {
                        let (first, second) = if prev.negated {
                            ("NotResource", "Resource")
                        } else {
                            ("Resource", "NotResource")
                        };
                        self.problem(
                            ProblemKind::Conflicting {
                                first,
                                second,
                                other: m.key_span,
                            },
                            prev.key_span,
                        );
                        continue;
                    }
                    st.resource = Some(self.resource(m, negated, doc.version.has_variables()));
                }
                "Condition" => {
                    st.condition_span = Some(m.value.span);
                    st.conditions = self.conditions(&m.value, doc.version.has_variables());
                }
                other => {
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
                        m.key_span,
                    );
                }
            }
        }
        let head = Span::new(json.span.start as usize, json.span.start as usize + 1);
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
        if doc.kind != PolicyKind::Key {
            if st.action.is_none() {
                self.problem(
                    ProblemKind::MissingElement {
                        name: "Action",
                        why: "every statement must have `Action` or `NotAction`",
                    },
                    head,
                );
            }
            if st.resource.is_none() && !matches!(doc.kind, PolicyKind::Scp | PolicyKind::Trust) {
                self.problem(
                    ProblemKind::MissingElement {
                        name: "Resource",
                        why: "every statement must have `Resource` or `NotResource`",
                    },
                    head,
                );
            }
        }
        if doc.kind.has_principals() && st.principal.is_none() {
            self.problem(
                ProblemKind::MissingElement {
                    name: "Principal",
                    why: "every statement of a key policy must name its principals",
                },
                head,
            );
        }
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

    fn principal(&mut self, m: &Member<'_>, negated: bool) -> PrincipalClause {
        let name = if negated { "NotPrincipal" } else { "Principal" };
        let mut clause = PrincipalClause {
            negated,
            key_span: m.key_span,
            span: m.value.span,
            entries: Vec::new(),
        };
        match &m.value.kind {
            JsonKind::String(s) => {
                if s == "*" {
                    clause.entries.push(PrincipalEntry {
                        ty: PrincipalType::Star,
                        value: "*".into(),
                        span: m.value.span,
                        class: PrincipalClass::Any,
                    });
                } else {
                    self.problem(
                        ProblemKind::InvalidValue {
                            element: if negated { "NotPrincipal" } else { "Principal" },
                            detail: "as a string it must be `*`".into(),
                            help: format!("write `{{\"AWS\": \"{s}\"}}` (or `Service` for a service principal)"),
                        },
                        m.value.span,
                    );
                }
            }
            JsonKind::Object(members) => {
                self.empty_check(name, &m.value, "it matches no principal");
                let members = dedup(
                    members,
                    &mut self.duplicates,
                    self.options.first_duplicate_wins,
                );
                for pm in members {
                    let ty = match pm.key.as_ref() {
                        "AWS" => PrincipalType::Aws,
                        "Service" => PrincipalType::Service,
                        "Federated" => PrincipalType::Federated,
                        "CanonicalUser" => PrincipalType::CanonicalUser,
                        other => {
                            const KEYS: [&str; 4] =
                                ["AWS", "Service", "Federated", "CanonicalUser"];
                            let suggestion =
                                KEYS.iter().find(|k| k.eq_ignore_ascii_case(other)).copied();
                            self.problem(
                                ProblemKind::UnknownElement {
                                    name: other.to_owned(),
                                    context: "Principal",
                                    suggestion,
                                },
                                pm.key_span,
                            );
                            continue;
                        }
                    };
                    let element = format!("{name}.{}", pm.key);
                    self.empty_check(&element, &pm.value, "it matches no principal");
                    for (value, span) in self.string_list(&element, &pm.value) {
                        let class = match ty {
                            PrincipalType::Aws | PrincipalType::Star => {
                                classify_aws_principal(value)
                            }
                            PrincipalType::Service => classify_service_principal(value),
                            PrincipalType::Federated => PrincipalClass::Federated,
                            PrincipalType::CanonicalUser => PrincipalClass::CanonicalUser,
                        };
                        clause.entries.push(PrincipalEntry {
                            ty,
                            value: value.to_owned(),
                            span,
                            class,
                        });
                    }
                }
            }
            _ => self.wrong_type(
                name,
                "`\"*\"` or an object such as `{\"AWS\": …}`",
                &m.value,
            ),
        }
        clause
    }

    fn action(&mut self, m: &Member<'_>, negated: bool) -> ActionClause {
        let name = if negated { "NotAction" } else { "Action" };
        self.empty_check(name, &m.value, "it matches no action");
        let mut clause = ActionClause {
            negated,
            key_span: m.key_span,
            span: m.value.span,
            items: Vec::new(),
            kms_mask: 0,
        };
        for (raw, span) in self.string_list(name, &m.value) {
            let Some(item) = self.action_item(name, raw, span) else {
                continue;
            };
            clause.kms_mask |= item.kms_mask;
            clause.items.push(item);
        }
        clause
    }

    fn action_item(&mut self, element: &'static str, raw: &str, span: Span) -> Option<ActionItem> {
        if raw == "*" {
            return Some(ActionItem {
                raw: raw.to_owned(),
                span,
                service: std::borrow::Cow::Borrowed("*"),
                name: Pattern::parse("*", true, false).0,
                kms_mask: catalog::all_actions_mask(),
            });
        }
        let valid = raw.split_once(':').filter(|(svc, name)| {
            !svc.is_empty()
                && !name.is_empty()
                && svc.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'*' | b'?' | b'-' | b'_'))
        });
        let Some((svc, name)) = valid else {
            self.problem(
                ProblemKind::InvalidValue {
                    element,
                    detail: format!("`{raw}` is not of the form `service:Action`"),
                    help: if raw.contains(':') {
                        "action names hold letters, digits, `*` and `?` only".into()
                    } else {
                        format!("prefix the service, e.g. `kms:{raw}`")
                    },
                },
                span,
            );
            return None;
        };
        // Common services share one static name: dumps hold millions of action items.
        let service: std::borrow::Cow<'static, str> =
            match COMMON_SERVICES.iter().find(|c| c.eq_ignore_ascii_case(svc)) {
                Some(c) => std::borrow::Cow::Borrowed(c),
                None => std::borrow::Cow::Owned(svc.to_ascii_lowercase()),
            };
        let pattern = Pattern::parse(&name.to_ascii_lowercase(), true, false).0;
        let kms_mask = if service == "kms" {
            action_mask(&pattern)
        } else {
            0
        };
        Some(ActionItem {
            raw: raw.to_owned(),
            span,
            service,
            name: pattern,
            kms_mask,
        })
    }

    fn resource(&mut self, m: &Member<'_>, negated: bool, variables: bool) -> ResourceClause {
        let name = if negated { "NotResource" } else { "Resource" };
        self.empty_check(name, &m.value, "it matches no resource");
        let mut clause = ResourceClause {
            negated,
            key_span: m.key_span,
            span: m.value.span,
            items: Vec::new(),
        };
        for (raw, span) in self.string_list(name, &m.value) {
            let mut parts = Vec::new();
            let mut offset = 0usize;
            for (i, part) in raw.splitn(6, ':').enumerate() {
                // The service part is matched literally (R21).
                let (p, problem) = Pattern::parse(part, i != 2, variables && i != 2);
                if let Some(problem) = problem {
                    let at = span.start as usize + 1 + offset + problem.offset;
                    self.problem(
                        ProblemKind::InvalidVariable {
                            text: part
                                .get(problem.offset..problem.offset + problem.len)
                                .unwrap_or(part)
                                .to_owned(),
                        },
                        Span::new(at, at + problem.len),
                    );
                }
                parts.push(p);
                offset += part.len() + 1;
            }
            clause.items.push(ResourceItem {
                raw: raw.to_owned(),
                span,
                parts,
            });
        }
        clause
    }

    fn conditions(&mut self, v: &Json<'_>, variables: bool) -> Vec<Condition> {
        let Some(blocks) = v.as_object() else {
            self.wrong_type("Condition", "an object of operators", v);
            return Vec::new();
        };
        let mut out = Vec::new();
        for block in dedup(
            blocks,
            &mut self.duplicates,
            self.options.first_duplicate_wins,
        ) {
            let mut operator = parse_operator(&block.key);
            // Q13 switched: an operator not written as AWS writes it is unknown.
            if self.options.case_sensitive_operators
                && operator.canonical().is_some_and(|c| c != block.key)
            {
                operator.base = None;
            }
            match operator.canonical() {
                Some(c) if c != block.key => self.casing.push(Casing {
                    found: block.key.to_string(),
                    canonical: c,
                    span: block.key_span,
                }),
                Some(_) => {}
                None => {
                    let suggestion = suggest_operator(&block.key);
                    self.problem(
                        ProblemKind::UnknownOperator {
                            name: block.key.to_string(),
                            suggestion,
                        },
                        block.key_span,
                    );
                }
            }
            let Some(pairs) = block.value.as_object() else {
                self.wrong_type(&block.key, "an object of condition keys", &block.value);
                continue;
            };
            self.empty_check(&block.key, &block.value, "the operator tests nothing");
            for pair in dedup(
                pairs,
                &mut self.duplicates,
                self.options.first_duplicate_wins,
            ) {
                if let Some(c) = self.condition_pair(&operator, block.key_span, pair, variables) {
                    out.push(c);
                }
            }
        }
        out
    }

    fn condition_pair(
        &mut self,
        operator: &Operator,
        operator_span: Span,
        pair: &Member<'_>,
        variables: bool,
    ) -> Option<Condition> {
        let key = pair.key.to_string();
        if key.contains("${") {
            self.problem(
                ProblemKind::MisplacedVariable {
                    place: "condition keys".into(),
                },
                pair.key_span,
            );
        }
        let raw_values: Vec<&Json<'_>> = match &pair.value.kind {
            JsonKind::Array(items) => items.iter().collect(),
            _ => vec![&pair.value],
        };
        self.empty_check(&key, &pair.value, "no value can match");
        let base = operator.base;
        let wildcards = base.is_some_and(BaseOperator::has_wildcards);
        let vars_here = variables && base.is_some_and(BaseOperator::allows_variables);
        let mut values = Vec::with_capacity(raw_values.len());
        for rv in raw_values {
            let text = match &rv.kind {
                JsonKind::String(s) => s.to_string(),
                JsonKind::Bool(b) => b.to_string(),
                JsonKind::Number(n) => (*n).to_owned(),
                JsonKind::Null | JsonKind::Array(_) | JsonKind::Object(_) => {
                    self.wrong_type(&key, "a string, number, boolean or an array of them", rv);
                    continue;
                }
            };
            let (pattern, problem) = Pattern::parse(&text, wildcards, vars_here);
            if let Some(problem) = problem {
                let at = rv.span.start as usize + 1 + problem.offset;
                self.problem(
                    ProblemKind::InvalidVariable {
                        text: text
                            .get(problem.offset..problem.offset + problem.len)
                            .unwrap_or(&text)
                            .to_owned(),
                    },
                    Span::new(at, at + problem.len),
                );
            }
            if variables
                && !vars_here
                && base.is_some()
                && Pattern::parse(&text, false, true).0.has_variables()
            {
                self.problem(
                    ProblemKind::MisplacedVariable {
                        place: format!("values of `{}`", operator.raw),
                    },
                    rv.span,
                );
            }
            values.push(ConditionValue {
                text,
                span: rv.span,
                pattern,
            });
        }
        Some(Condition {
            operator: operator.clone(),
            operator_span,
            key_info: catalog::condition_key(&key),
            key_lower: key.to_lowercase(),
            key,
            key_span: pair.key_span,
            values,
            values_span: pair.value.span,
        })
    }
}

/// The KMS actions a lower-case name pattern matches (R17, R119: never expanded by hand).
pub(crate) fn action_mask(pattern: &Pattern) -> ActionMask {
    let mut mask: ActionMask = 0;
    if let Some(lit) = pattern.as_literal() {
        if let Some(i) = catalog::action_index(lit) {
            mask |= 1u128 << i;
        }
        return mask;
    }
    if let [
        crate::pattern::Token::Lit(prefix),
        crate::pattern::Token::Star,
    ] = pattern.tokens.as_slice()
    {
        return catalog::prefix_mask(prefix);
    }
    for (i, a) in catalog::actions().iter().enumerate() {
        if pattern.matches(a.lower) {
            mask |= 1u128 << i;
        }
    }
    mask
}

/// Parses an operator name case-insensitively (R28, Q13).
pub(crate) fn parse_operator(raw: &str) -> Operator {
    let mut rest = raw;
    let mut set = None;
    let lower = raw.to_ascii_lowercase();
    if lower.starts_with("foranyvalue:") {
        set = Some(SetOperator::ForAnyValue);
        rest = rest.get("foranyvalue:".len()..).unwrap_or("");
    } else if lower.starts_with("forallvalues:") {
        set = Some(SetOperator::ForAllValues);
        rest = rest.get("forallvalues:".len()..).unwrap_or("");
    }
    let mut if_exists = false;
    let rest_lower = rest.to_ascii_lowercase();
    let mut base_name = rest_lower.as_str();
    if let Some(stripped) = base_name.strip_suffix("ifexists") {
        if_exists = true;
        base_name = stripped;
    }
    let mut base = BaseOperator::ALL
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(base_name))
        .map(|(o, _)| *o);
    // `IfExists` cannot be added to `Null` (R28).
    if if_exists && base == Some(BaseOperator::Null) {
        base = None;
    }
    Operator {
        raw: raw.to_owned(),
        base,
        set,
        if_exists,
    }
}

fn suggest_operator(raw: &str) -> Option<String> {
    let op = parse_operator(raw);
    let lower = raw.to_ascii_lowercase();
    let tail = lower
        .trim_start_matches("foranyvalue:")
        .trim_start_matches("forallvalues:");
    let tail = tail.strip_suffix("ifexists").unwrap_or(tail);
    let (best, d) = BaseOperator::ALL
        .iter()
        .map(|(o, n)| (*o, catalog::edit_distance(tail, &n.to_ascii_lowercase())))
        .min_by_key(|(_, d)| *d)?;
    if d > 3 {
        return None;
    }
    let fixed = Operator {
        raw: String::new(),
        base: Some(best),
        set: op.set,
        if_exists: op.if_exists && best != BaseOperator::Null,
    };
    fixed.canonical()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

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

/// Service prefixes common enough in account dumps to share one static string.
const COMMON_SERVICES: [&str; 16] = [
    "kms",
    "s3",
    "iam",
    "sts",
    "ec2",
    "logs",
    "dynamodb",
    "sqs",
    "sns",
    "lambda",
    "cloudwatch",
    "secretsmanager",
    "ssm",
    "rds",
    "ecr",
    "autoscaling",
];
