//! Diagnostics: what every layer reports and how a report is identified.
//!
//! Owns [`Finding`] (one thing found, pointing at the most specific span), [`Severity`], the
//! rule metadata type [`Rule`] (the registry of rules and their checks is `lint`'s), labels,
//! and fingerprints (a finding's stable identity, for suppressions and baselines). The rules
//! that the input readers report themselves are described in [`input_rules`]. Sits just above
//! `policy`: a finding can name the statement it is in; nothing here judges a policy.

pub mod input_rules;

use crate::policy::{PolicyDocument, Statement};
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
    pub(crate) spec: &'static str,
    /// One line: what it finds.
    pub summary: &'static str,
    /// True for rules about files that could not be read as input (exit code 2).
    pub input_error: bool,
}

/// A secondary label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub(crate) span: Span,
    /// What it says.
    pub(crate) text: String,
}

/// One finding, pointing at the most specific span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule.
    pub(crate) rule: &'static Rule,
    /// Severity (the rule's default unless the rule varies it).
    pub severity: Severity,
    /// One-line message.
    pub message: String,
    /// The source the span is in.
    pub source: SourceId,
    /// The primary span.
    pub span: Span,
    /// What the primary label says.
    pub(crate) label: String,
    /// Secondary labels (the statement, the other occurrence…).
    pub(crate) labels: Vec<Label>,
    /// What to do.
    pub help: Option<String>,
    /// A stable identity: rule + key (or policy) + statement + the text it points at, never a
    /// line number (set by [`stamp`] once the finding's policy is known).
    pub(crate) fingerprint: Option<String>,
    /// The key (or policy) and statement it is about, for suppressions.
    pub(crate) about: Option<About>,
}

/// What a finding is about: a key or policy identity, and a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct About {
    /// Key ARN, Terraform address, CloudFormation logical id, IAM policy name or file.
    pub(crate) identity: String,
    /// `Sid`, else `#n`; empty for findings not in a statement.
    pub(crate) statement: String,
}

impl Finding {
    /// A finding of `rule` at `span` with the rule's default severity.
    pub(crate) fn new(
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
            fingerprint: None,
            about: None,
        }
    }

    /// Adds help text.
    pub(crate) fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a secondary label.
    pub(crate) fn label(mut self, span: Span, text: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            text: text.into(),
        });
        self
    }

    /// Labels the statement's `Sid` (or its opening brace) as context.
    pub(crate) fn in_statement(self, st: &Statement) -> Self {
        match &st.sid {
            Some(sid) => self.label(sid.span, format!("in statement `{}`", sid.value)),
            None => {
                let head = Span::new(st.span.start as usize, st.span.start as usize + 1);
                self.label(head, format!("in statement {}", st.label()))
            }
        }
    }

    /// [`Finding::in_statement`] when the finding has a statement; unchanged otherwise.
    pub(crate) fn in_statement_if_any(self, st: Option<&Statement>) -> Self {
        match st {
            Some(st) => self.in_statement(st),
            None => self,
        }
    }

    /// The finding's code.
    pub fn code(&self) -> &'static str {
        self.rule.code
    }
}

/// KMS action names for a message: the first `at_most` as `kms:Name`, comma-separated, then
/// ` and N more` for the rest.
pub(crate) fn kms_action_list(names: &[&str], at_most: usize) -> String {
    name_list(names, at_most, |n| format!("kms:{n}"))
}

/// Names for a message: the first `at_most`, each as `show` writes it, comma-separated, then
/// ` and N more` for the rest.
pub(crate) fn name_list(names: &[&str], at_most: usize, show: impl Fn(&str) -> String) -> String {
    let mut list = names
        .iter()
        .take(at_most)
        .map(|n| show(n))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > at_most {
        list.push_str(&format!(" and {} more", names.len() - at_most));
    }
    list
}

/// FNV-1a, 64 bits: a stable hash (the standard library's is seeded per process).
fn fnv(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0x1f)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// The fingerprint of a finding: its rule, the key or policy it is about (`identity`: a key
/// ARN, Terraform address, CloudFormation logical id, IAM policy name or file), the statement
/// (`Sid`, else its position) and the text the finding points at.
pub fn fingerprint(code: &str, identity: &str, statement: &str, subject: &str) -> String {
    // The text as the policy means it: JSON and YAML quote it differently.
    let subject = subject.trim().trim_matches(['"', '\'']);
    format!("{:016x}", fnv(&[code, identity, statement, subject]))
}

/// Gives every finding in `doc`'s source that has none its fingerprint, `identity` naming the
/// key or policy.
pub fn stamp(findings: &mut [Finding], doc: &PolicyDocument, source: &SourceFile, identity: &str) {
    let ordered = spans_ordered(doc);
    for f in findings.iter_mut() {
        stamp_one(f, doc, source, identity, ordered);
    }
}

/// Whether `doc`'s statements are written one after another (as JSON and YAML arrays are):
/// then the statement holding a finding is found by binary search, for a policy of thousands
/// of statements can have thousands of findings.
pub(crate) fn spans_ordered(doc: &PolicyDocument) -> bool {
    doc.statements
        .windows(2)
        .all(|w| matches!(w, [a, b] if a.span.start <= a.span.end && a.span.end < b.span.start))
}

/// [`stamp`] for one finding: nothing when it has a fingerprint or is in another source.
pub(crate) fn stamp_one(
    f: &mut Finding,
    doc: &PolicyDocument,
    source: &SourceFile,
    identity: &str,
    ordered: bool,
) {
    if f.fingerprint.is_some() || f.source != doc.source {
        return;
    }
    let within = |st: &&Statement| st.span.start <= f.span.start && f.span.end <= st.span.end;
    let found = if ordered {
        // The only statement that can hold the span is the last one starting at or before it.
        let after = doc
            .statements
            .partition_point(|st| st.span.start <= f.span.start);
        after
            .checked_sub(1)
            .and_then(|i| doc.statement(i))
            .filter(within)
    } else {
        doc.statements.iter().map(|s| &**s).find(within)
    };
    let statement = found.map(Statement::label).unwrap_or_default();
    let subject = source
        .text
        .get(f.span.start as usize..f.span.end as usize)
        .unwrap_or("");
    let subject: String = subject.chars().take(200).collect();
    f.fingerprint = Some(fingerprint(f.rule.code, identity, &statement, &subject));
    f.about = Some(About {
        identity: identity.to_owned(),
        statement,
    });
}

/// Fingerprints what is left (input findings): the file and the text pointed at.
pub fn stamp_rest(findings: &mut [Finding], sources: &crate::source::SourceMap) {
    for f in findings.iter_mut().filter(|f| f.fingerprint.is_none()) {
        let (outer, _) = sources
            .outer_location(f.source, f.span.start)
            .unwrap_or((f.source, f.span.start));
        let name = sources.get(outer).map(|s| s.name.as_str()).unwrap_or("");
        let subject: String = sources
            .get(f.source)
            .and_then(|s| s.text.get(f.span.start as usize..f.span.end as usize))
            .unwrap_or("")
            .chars()
            .take(200)
            .collect();
        f.fingerprint = Some(fingerprint(f.rule.code, name, "", &subject));
        f.about = Some(About {
            identity: name.to_owned(),
            statement: String::new(),
        });
    }
}
