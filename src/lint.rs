//! Findings and the rule registry.
//!
//! Owns [`Finding`] (what every check reports), [`Severity`], the registry of rules with their
//! `KMSnnn` codes ([`RULES`], sorted by code; a code is never reused) and the structural rules
//! that need no evaluation, one file per rule under `lint/`. Codes `KMS001`–`KMS030` are the
//! spec's lint catalogue (`L001` → `KMS001`); `KMS031` upward are kmsaudit's own. Reading files
//! is `input`'s job, rendering is `report`'s; a rule that needs a decision will call `eval`.

mod confused_deputy;
mod deny_trap;
mod duplicate_key;
mod grammar;
mod iam_only_action_in_key_policy;
mod inert_key_policy_statement;
mod key_policy_limits;
mod key_policy_resource_not_star;
pub mod keys;
mod lockout;
mod malformed_principal;
mod multivalued_without_set_operator;
mod non_canonical_case;
mod not_principal_allow;
mod partial_wildcard_principal;
mod public_key;
mod root_delegation_missing;
mod root_delegation_partial;
pub mod shapes;
mod unique_id_principal;
mod unknown_action_or_key;
mod variables_without_version;

use crate::policy::{PolicyDocument, Problem, Statement};
use crate::source::{SourceFile, SourceId, Span};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Probably wrong or risky.
    Warning,
    /// Broken, rejected by AWS, or dangerously open.
    Error,
}

impl Severity {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A rule's registry entry.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// `KMS` plus three digits.
    pub code: &'static str,
    /// kebab-case name.
    pub name: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// The spec rule(s) it implements.
    pub spec: &'static str,
    /// One line: what it finds.
    pub summary: &'static str,
    /// True for rules about files that could not be read as input (exit code 2).
    pub input_error: bool,
}

/// A secondary label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What it says.
    pub text: String,
}

/// One finding, pointing at the most specific span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule.
    pub rule: &'static Rule,
    /// Severity (the rule's default unless the rule varies it).
    pub severity: Severity,
    /// One-line message.
    pub message: String,
    /// The source the span is in.
    pub source: SourceId,
    /// The primary span.
    pub span: Span,
    /// What the primary label says.
    pub label: String,
    /// Secondary labels (the statement, the other occurrence…).
    pub labels: Vec<Label>,
    /// What to do.
    pub help: Option<String>,
}

impl Finding {
    /// A finding of `rule` at `span` with the rule's default severity.
    pub fn new(
        rule: &'static Rule,
        source: SourceId,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Self {
        Finding {
            rule,
            severity: rule.severity,
            message: message.into(),
            source,
            span,
            label: label.into(),
            labels: Vec::new(),
            help: None,
        }
    }

    /// Adds help text.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a secondary label.
    pub fn label(mut self, span: Span, text: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            text: text.into(),
        });
        self
    }

    /// Labels the statement's `Sid` (or its opening brace) as context.
    pub fn in_statement(self, st: &Statement) -> Self {
        match &st.sid {
            Some(sid) => self.label(sid.span, format!("in statement `{}`", sid.value)),
            None => {
                let head = Span::new(st.span.start as usize, st.span.start as usize + 1);
                self.label(head, format!("in statement {}", st.label()))
            }
        }
    }

    /// The finding's code.
    pub fn code(&self) -> &'static str {
        self.rule.code
    }
}

/// What a rule sees: one parsed document and its source.
#[derive(Debug)]
pub struct LintContext<'a> {
    /// The document.
    pub doc: &'a PolicyDocument,
    /// Its source text.
    pub source: &'a SourceFile,
    /// Grammar problems found while parsing it.
    pub problems: &'a [Problem],
}

type CheckFn = fn(&LintContext<'_>, &mut Vec<Finding>);
type KeyCheckFn = fn(&keys::KeyLintContext<'_>, &mut Vec<Finding>);

/// How a rule runs.
#[derive(Clone, Copy)]
enum Check {
    /// Reported by the input readers or the parser.
    None,
    /// On each document by itself.
    Doc(CheckFn),
    /// On each key policy with its key, asking the engine (`keys`).
    Key(KeyCheckFn),
}

/// Input-level rules: reported by `input` when a file cannot be read as policy input.
pub mod input_rules {
    use super::{Rule, Severity};

    /// `KMS031`: not valid JSON.
    pub static INVALID_JSON: Rule = Rule {
        code: "KMS031",
        name: "invalid-json",
        severity: Severity::Error,
        spec: "R10",
        summary: "the file is not strict JSON (syntax error, comment, trailing comma, single quotes…)",
        input_error: true,
    };
    /// `KMS032`: not UTF-8 / UTF-16 text.
    pub static INVALID_ENCODING: Rule = Rule {
        code: "KMS032",
        name: "invalid-encoding",
        severity: Severity::Error,
        spec: "R12",
        summary: "the file is not valid UTF-8 (or UTF-16) text",
        input_error: true,
    };
    /// `KMS033`: over the size or nesting cap.
    pub static INPUT_LIMIT: Rule = Rule {
        code: "KMS033",
        name: "input-limit",
        severity: Severity::Error,
        spec: "-",
        summary: "the file is larger than `--max-file-size` or nested deeper than `--max-depth`",
        input_error: true,
    };
    /// `KMS034`: a byte-order mark or UTF-16 was decoded.
    pub static ENCODING_NOTE: Rule = Rule {
        code: "KMS034",
        name: "encoding-note",
        severity: Severity::Info,
        spec: "R12",
        summary: "the file starts with a UTF-8 byte-order mark or is UTF-16; it was decoded",
        input_error: false,
    };
    /// `KMS046`: JSON, but not an input kmsaudit reads.
    pub static NOT_A_POLICY: Rule = Rule {
        code: "KMS046",
        name: "unrecognised-input",
        severity: Severity::Error,
        spec: "R122",
        summary: "the JSON is not a policy document (e.g. a bare statement without `Statement`)",
        input_error: true,
    };
    /// `KMS048`: paginated output.
    pub static INCOMPLETE: Rule = Rule {
        code: "KMS048",
        name: "incomplete-input",
        severity: Severity::Warning,
        spec: "R122",
        summary: "paginated AWS CLI output: data beyond this page is missing",
        input_error: false,
    };
    /// `KMS050`: a recognised input with a malformed part.
    pub static MALFORMED_INPUT: Rule = Rule {
        code: "KMS050",
        name: "malformed-input",
        severity: Severity::Error,
        spec: "R122-R135",
        summary: "a recognised input (CLI output, authorization details…) with a part missing or of the wrong shape",
        input_error: true,
    };
    /// `KMS051`: a value known only after apply.
    pub static UNKNOWN_VALUE: Rule = Rule {
        code: "KMS051",
        name: "unknown-until-apply",
        severity: Severity::Warning,
        spec: "R133",
        summary: "a policy in a Terraform plan that is known only after apply: it could not be checked",
        input_error: false,
    };
    /// `KMS047`: the file could not be read.
    pub static UNREADABLE: Rule = Rule {
        code: "KMS047",
        name: "unreadable-file",
        severity: Severity::Error,
        spec: "-",
        summary: "the file or directory could not be read",
        input_error: true,
    };
}

/// Every rule, sorted by code, with its check (input rules have none).
static REGISTRY: &[(&Rule, Check)] = &[
    (
        &root_delegation_missing::RULE,
        Check::Key(root_delegation_missing::check),
    ),
    (
        &root_delegation_partial::RULE,
        Check::Key(root_delegation_partial::check),
    ),
    (&lockout::RULE, Check::Key(lockout::check)),
    (&deny_trap::RULE, Check::Key(deny_trap::check)),
    (&public_key::RULE, Check::Key(public_key::check)),
    (
        &not_principal_allow::RULE,
        Check::Doc(not_principal_allow::check),
    ),
    (
        &multivalued_without_set_operator::RULE,
        Check::Doc(multivalued_without_set_operator::check),
    ),
    (
        &unknown_action_or_key::RULE,
        Check::Doc(unknown_action_or_key::check),
    ),
    (
        &inert_key_policy_statement::RULE,
        Check::Doc(inert_key_policy_statement::check),
    ),
    (
        &iam_only_action_in_key_policy::RULE,
        Check::Doc(iam_only_action_in_key_policy::check),
    ),
    (
        &unique_id_principal::RULE,
        Check::Doc(unique_id_principal::check),
    ),
    (
        &partial_wildcard_principal::RULE,
        Check::Doc(partial_wildcard_principal::check),
    ),
    (
        &variables_without_version::RULE,
        Check::Doc(variables_without_version::check),
    ),
    (&duplicate_key::RULE, Check::Doc(duplicate_key::check)),
    (
        &key_policy_resource_not_star::RULE,
        Check::Doc(key_policy_resource_not_star::check),
    ),
    (
        &non_canonical_case::RULE,
        Check::Doc(non_canonical_case::check),
    ),
    (&confused_deputy::RULE, Check::Key(confused_deputy::check)),
    (&input_rules::INVALID_JSON, Check::None),
    (&input_rules::INVALID_ENCODING, Check::None),
    (&input_rules::INPUT_LIMIT, Check::None),
    (&input_rules::ENCODING_NOTE, Check::None),
    (&grammar::UNKNOWN_ELEMENT, Check::None),
    (&grammar::MISSING_ELEMENT, Check::None),
    (&grammar::WRONG_TYPE, Check::None),
    (&grammar::INVALID_VALUE, Check::None),
    (&grammar::CONFLICTING_ELEMENTS, Check::None),
    (&grammar::UNKNOWN_OPERATOR, Check::None),
    (&grammar::EMPTY_ELEMENT, Check::None),
    (&grammar::PRINCIPAL_NOT_ALLOWED, Check::None),
    (
        &key_policy_limits::RULE,
        Check::Doc(key_policy_limits::check),
    ),
    (&grammar::POLICY_VARIABLE, Check::None),
    (
        &malformed_principal::RULE,
        Check::Doc(malformed_principal::check),
    ),
    (&input_rules::NOT_A_POLICY, Check::None),
    (&input_rules::UNREADABLE, Check::None),
    (&input_rules::INCOMPLETE, Check::None),
    (&input_rules::MALFORMED_INPUT, Check::None),
    (&input_rules::UNKNOWN_VALUE, Check::None),
];

/// Every rule, sorted by code.
pub fn rules() -> impl Iterator<Item = &'static Rule> {
    REGISTRY.iter().map(|(r, _)| *r)
}

/// Finds a rule by code (`KMS014`) or name (`partial-wildcard-principal`), ignoring case.
pub fn rule(code_or_name: &str) -> Option<&'static Rule> {
    rules().find(|r| {
        r.code.eq_ignore_ascii_case(code_or_name) || r.name.eq_ignore_ascii_case(code_or_name)
    })
}

/// Runs grammar reporting and every structural rule on one document.
pub fn check_document(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    grammar::report(cx, out);
    for (_, check) in REGISTRY {
        if let Check::Doc(check) = check {
            check(cx, out);
        }
    }
}

/// Runs every key-level rule on one key policy (spec R109–R116 and the semantic catalogue).
pub fn check_key(cx: &keys::KeyLintContext<'_>, out: &mut Vec<Finding>) {
    for (_, check) in REGISTRY {
        if let Check::Key(check) = check {
            check(cx, out);
        }
    }
}

/// The account a key policy most likely belongs to: the first account an `Allow` names as a
/// whole (the root delegation), else the first account any principal belongs to.
fn infer_account(doc: &crate::policy::PolicyDocument) -> Option<String> {
    use crate::arn::PrincipalClass;
    let entries = || {
        doc.statements
            .iter()
            .filter(|s| s.is_allow())
            .filter_map(|s| s.principal.as_ref())
            .filter(|p| !p.negated)
            .flat_map(|p| p.entries.iter())
    };
    entries()
        .find_map(|e| match &e.class {
            PrincipalClass::Account { account, .. } => Some(account.clone()),
            _ => None,
        })
        .or_else(|| entries().find_map(|e| e.class.account().map(str::to_owned)))
}

/// The Region (and account) a key policy's own `Resource` ARNs name, when one names a key.
fn resource_key_region(doc: &PolicyDocument) -> Option<(String, String)> {
    doc.statements
        .iter()
        .filter_map(|s| s.resource.as_ref())
        .flat_map(|r| r.items.iter())
        .find_map(|i| {
            let p = crate::arn::split_arn(&i.raw)?;
            (p.service == "kms"
                && !p.region.is_empty()
                && !p.region.contains(['*', '?', '$'])
                && crate::arn::is_account_id(p.account))
            .then(|| (p.region.to_owned(), p.account.to_owned()))
        })
}

/// Runs the key-level rules on every key policy (spec R109–R116, §8).
pub fn check_keys(
    inventory: &crate::inventory::Inventory,
    sources: &crate::source::SourceMap,
    findings: &mut Vec<Finding>,
) {
    let (account, region) = inventory.account_region();
    for kp in inventory.key_policies_for_lint() {
        let Some(source) = sources.get(kp.policy.doc.source) else {
            continue;
        };
        let identity = kp
            .facts
            .as_ref()
            .map(|f| f.arn.clone())
            .or(kp.key.map(str::to_owned))
            .unwrap_or_else(|| source.name.clone());
        let (facts, account_known, region_known) = match kp.facts {
            Some(f) => (f, true, true),
            None => {
                let named = resource_key_region(&kp.policy.doc);
                let (acct, known) = match account {
                    Some(a) => (a.to_owned(), true),
                    None => match named
                        .as_ref()
                        .map(|(_, a)| a.clone())
                        .or_else(|| infer_account(&kp.policy.doc))
                    {
                        Some(a) => (a, false),
                        None => (keys::UNKNOWN_ACCOUNT.to_owned(), false),
                    },
                };
                let region_known = region.is_some() || named.is_some();
                let region = region
                    .map(str::to_owned)
                    .or(named.map(|(r, _)| r))
                    .unwrap_or_else(|| "us-east-1".to_owned());
                let arn =
                    format!("arn:aws:kms:{region}:{acct}:key/00000000-0000-0000-0000-000000000000");
                match crate::eval::KeyFacts::from_arn(&arn) {
                    Ok(f) => (f, known, region_known),
                    Err(_) => continue,
                }
            }
        };
        let mut cx = keys::KeyLintContext::new(kp.policy, source, facts, identity, Some(inventory));
        cx.account_known = account_known;
        cx.region_known = region_known;
        check_key(&cx, findings);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_sorted_and_unique() {
        let codes: Vec<_> = rules().map(|r| r.code).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(codes, sorted);
        for r in rules() {
            assert!(r.code.starts_with("KMS") && r.code.len() == 6, "{}", r.code);
            assert!(
                r.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                r.name
            );
        }
    }
}
