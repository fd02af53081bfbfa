//! The statement elements that name things: `Principal`, `Action` and `Resource` (and their
//! negations), with the action catalogue's masks (spec R17, R119).

use super::super::{
    ActionClause, ActionItem, PrincipalClause, PrincipalEntry, PrincipalType, ProblemKind,
    ResourceClause, ResourceItem,
};
use super::{Parser, dedup};
use crate::arn::{PrincipalClass, classify_aws_principal, classify_service_principal};
use crate::catalog::{self, ActionMask};
use crate::json::{JsonKind, Member};
use crate::pattern::Pattern;
use crate::source::Span;

impl Parser {
    pub(super) fn principal(&mut self, m: &Member<'_>, negated: bool) -> PrincipalClause {
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
                    let element = [name, ".", &pm.key].concat();
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

    pub(super) fn action(&mut self, m: &Member<'_>, negated: bool) -> ActionClause {
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
        let valid = crate::arn::split_once_byte(raw, b':').filter(|(svc, name)| {
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

    pub(super) fn resource(
        &mut self,
        m: &Member<'_>,
        negated: bool,
        variables: bool,
    ) -> ResourceClause {
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
    match pattern.tokens.as_slice() {
        [crate::pattern::Token::Star] => return catalog::all_actions_mask(),
        [
            crate::pattern::Token::Lit(prefix),
            crate::pattern::Token::Star,
        ] => {
            return catalog::prefix_mask(prefix);
        }
        _ => {}
    }
    for (i, a) in catalog::actions().iter().enumerate() {
        if pattern.matches(a.lower) {
            mask |= 1u128 << i;
        }
    }
    mask
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
