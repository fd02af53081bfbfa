//! The `Condition` element: its operators, keys and values.

use super::super::{
    BaseOperator, Casing, Condition, ConditionValue, Operator, ProblemKind, SetOperator,
};
use super::{Parser, dedup};
use crate::catalog;
use crate::json::{Json, JsonKind, Member};
use crate::pattern::Pattern;
use crate::source::Span;

impl Parser {
    pub(super) fn conditions(&mut self, v: &Json<'_>, variables: bool) -> Vec<Condition> {
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
        })
    }
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

pub(super) fn suggest_operator(raw: &str) -> Option<String> {
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
