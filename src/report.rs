//! Renderers: the only code that writes what users read.
//!
//! Owns the output formats of `check` — `human` (miette's graphical report with the offending
//! text underlined), `concise` (`path:line:col: CODE message`) and `json` (our own schema with a
//! `version` field) — and the one-line summary for stderr. Every renderer takes the findings
//! already sorted and writes to a `&mut dyn Write` it is given; nothing here decides anything.

pub(crate) mod access;
pub mod can;
pub(crate) mod ci;
pub(crate) mod diff;
pub(crate) mod escape;
pub(crate) mod explain;
mod human;
mod words;

use std::io::{self, Write};

use serde::Serialize;

pub(crate) use human::HumanOptions;

use crate::diag::{Finding, Rule, Severity};
use crate::source::SourceMap;

/// The schema version of `--format json` output.
pub(crate) const JSON_VERSION: u32 = 1;

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// miette graphical report.
    Human,
    /// One line per finding.
    Concise,
    /// One JSON object.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// GitHub Actions workflow commands.
    Github,
    /// JUnit XML.
    Junit,
}

/// Counts for the summary.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub(crate) struct Summary {
    /// Files read.
    pub(crate) files: usize,
    /// Policy documents parsed.
    pub(crate) policies: usize,
    /// Findings of severity error.
    pub(crate) errors: usize,
    /// Findings of severity warning.
    pub(crate) warnings: usize,
    /// Findings of severity info.
    pub(crate) infos: usize,
    /// Files that could not be read as input.
    pub(crate) input_errors: usize,
    /// Files skipped in directory walks because they are not policy inputs.
    pub(crate) skipped: usize,
    /// Findings a suppression in `kmsaudit.toml` accepted.
    pub(crate) suppressed: usize,
    /// Findings the `--baseline` file accepted.
    pub(crate) baselined: usize,
    /// Findings the configuration file's `select` or `ignore` lists took out.
    #[serde(skip)]
    pub(crate) config_ignored: usize,
    /// Key policies that could not be checked (known only after apply).
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) unchecked: usize,
    /// Entries of directory walks not read by choice (symbolic links without `--follow`).
    #[serde(skip_serializing_if = "is_zero")]
    pub(crate) not_read: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Summary {
    /// Counts findings by severity.
    pub(crate) fn count(&mut self, findings: &[Finding]) {
        for f in findings {
            match f.severity {
                Severity::Error => self.errors += 1,
                Severity::Warning => self.warnings += 1,
                Severity::Info => self.infos += 1,
            }
        }
    }
}

/// A finding resolved to what users see: file, line and column in the file they wrote.
#[derive(Debug, Serialize)]
struct Located<'a> {
    code: &'static str,
    name: &'static str,
    severity: &'static str,
    message: &'a str,
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    embedded: Option<Embedded>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
    labels: Vec<JsonLabel<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fingerprint: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct Embedded {
    /// The embedded source's own name (`file › Policy`).
    source: String,
    line: usize,
    column: usize,
}

#[derive(Debug, Serialize)]
struct JsonLabel<'a> {
    line: usize,
    column: usize,
    text: &'a str,
}

/// The resource a finding in a plan or template is in, as `plan.json › aws_kms_key.x`: the
/// outer file's name and the address (or logical id) of the embedded policy's resource, else
/// the address the finding is about. A plan is one generated line, so a line and column alone
/// do not tell a reader where to look (spec R135).
pub(crate) fn resource(f: &Finding, sources: &SourceMap) -> Option<String> {
    let (outer_id, _) = sources
        .outer_location(f.source, f.span.start)
        .unwrap_or((f.source, f.span.start));
    let outer = sources.get(outer_id)?;
    let address = match sources.get(f.source).and_then(|s| s.origin.as_ref()) {
        Some(o) => o.path.split(" › ").next().map(str::to_owned),
        None => f.about.as_ref().map(|a| a.identity.clone()),
    }
    .filter(|a| !a.is_empty() && !a.starts_with("arn:") && !a.contains('/') && a != &outer.name)?;
    let file = outer.name.rsplit(['/', '\\']).next().unwrap_or(&outer.name);
    Some(format!("{file} › {address}"))
}

fn locate<'a>(f: &'a Finding, sources: &SourceMap) -> Located<'a> {
    let (outer_id, outer_start) = sources
        .outer_location(f.source, f.span.start)
        .unwrap_or((f.source, f.span.start));
    let (_, outer_end) = sources
        .outer_location(f.source, f.span.end)
        .unwrap_or((f.source, f.span.end));
    let outer = sources.get(outer_id);
    let (line, column) = outer.map_or((1, 1), |s| s.line_col(outer_start));
    let (end_line, end_column) = outer.map_or((1, 1), |s| s.line_col(outer_end.max(outer_start)));
    let inner = sources.get(f.source);
    let embedded = inner.filter(|s| s.origin.is_some()).map(|s| {
        let (l, c) = s.line_col(f.span.start);
        Embedded {
            source: s.name.clone(),
            line: l,
            column: c,
        }
    });
    // Sensitive values are never printed: the rule and the place only.
    let sensitive = sources.is_sensitive(f.source);
    Located {
        code: f.rule.code,
        name: f.rule.name,
        severity: f.severity.as_str(),
        message: if sensitive { SENSITIVE } else { &f.message },
        file: outer.map(|s| s.name.clone()).unwrap_or_default(),
        line,
        column,
        end_line,
        end_column,
        embedded,
        help: if sensitive { None } else { f.help.as_deref() },
        fingerprint: f.fingerprint.as_deref(),
        labels: f
            .labels
            .iter()
            .filter(|_| !sensitive)
            .map(|l| {
                let (line, column) = inner.map_or((1, 1), |s| s.line_col(l.span.start));
                JsonLabel {
                    line,
                    column,
                    text: &l.text,
                }
            })
            .collect(),
    }
}

/// What a finding in a sensitive value says instead of its message.
pub(crate) const SENSITIVE: &str = "finding in a sensitive value: details are not shown";

/// `path:line:col: CODE message (help)`, one line per finding.
pub(crate) fn render_concise(
    findings: &[Finding],
    sources: &SourceMap,
    w: &mut dyn Write,
) -> io::Result<()> {
    for f in findings {
        let l = locate(f, sources);
        // The resource after the message, so that `CODE message` stays as it was.
        let at = resource(f, sources)
            .map(|r| format!(" [{r}]"))
            .unwrap_or_default();
        writeln!(
            w,
            "{}:{}:{}: {} {}{}{}",
            escape::terminal(&l.file),
            l.line,
            l.column,
            l.code,
            escape::terminal(l.message),
            escape::terminal(&at),
            escape::terminal(&ci::help_suffix(f, sources))
        )?;
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    tool: &'static str,
    tool_version: &'static str,
    summary: Summary,
    findings: Vec<Located<'a>>,
}

/// One JSON object: `version`, `summary` and the `findings` array.
pub(crate) fn render_json(
    findings: &[Finding],
    sources: &SourceMap,
    summary: Summary,
    w: &mut dyn Write,
) -> io::Result<()> {
    let report = JsonReport {
        version: JSON_VERSION,
        tool: "kmsaudit",
        tool_version: env!("CARGO_PKG_VERSION"),
        summary,
        findings: findings.iter().map(|f| locate(f, sources)).collect(),
    };
    serde_json::to_writer_pretty(&mut *w, &report).map_err(io::Error::from)?;
    writeln!(w)
}

/// What the renderers need besides the findings.
#[derive(Debug, Clone, Default)]
pub(crate) struct RenderOptions {
    /// The human report's look.
    pub(crate) human: HumanOptions,
    /// Every file checked (JUnit lists a suite per file, findings or not).
    pub(crate) files: Vec<String>,
    /// The `--fail-on` threshold (JUnit fails the cases at or above it).
    pub(crate) fail_on: Option<Severity>,
}

/// Renders findings in `format`.
pub(crate) fn render(
    format: Format,
    findings: &[Finding],
    sources: &SourceMap,
    summary: Summary,
    opts: &RenderOptions,
    w: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => human::render_human(findings, sources, &opts.human, w),
        Format::Concise => render_concise(findings, sources, w),
        Format::Json => render_json(findings, sources, summary, w),
        Format::Sarif => ci::render_sarif(findings, sources, w),
        Format::Github => ci::render_github(findings, sources, w),
        Format::Junit => ci::render_junit(findings, sources, &opts.files, opts.fail_on, w),
    }
}

/// The one-line summary for humans, on stderr; `config` is the `kmsaudit.toml` read, if any.
pub(crate) fn render_summary(
    summary: &Summary,
    config: Option<&std::path::Path>,
    w: &mut dyn Write,
) -> io::Result<()> {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut line = format!(
        "kmsaudit: {} checked, {}: {}, {}, {}",
        plural(summary.files, "file", "files"),
        plural(summary.policies, "policy", "policies"),
        plural(summary.errors, "error", "errors"),
        plural(summary.warnings, "warning", "warnings"),
        plural(summary.infos, "info", "infos"),
    );
    // The counts that are said only when there are some.
    let optional = [
        (
            summary.unchecked,
            "key policy",
            "key policies",
            "could not be checked (known only after apply)",
        ),
        (summary.input_errors, "file", "files", "could not be read"),
        (
            summary.skipped,
            "file",
            "files",
            "skipped (not policy input)",
        ),
        (
            summary.not_read,
            "entry",
            "entries",
            "not read (symbolic links not followed)",
        ),
    ];
    for (n, one, many, what) in optional {
        if n > 0 {
            line.push_str(&format!(", {} {what}", plural(n, one, many)));
        }
    }
    // Which configuration shaped the result, and how much it took out: a planted
    // `kmsaudit.toml` that silences findings shows here.
    if let Some(path) = config {
        line.push_str(&format!(
            ", config `{}` ({} suppressed, {} ignored)",
            escape::terminal(&path.display().to_string()),
            summary.suppressed,
            summary.config_ignored
        ));
    } else if summary.suppressed > 0 {
        line.push_str(&format!(", {} suppressed", summary.suppressed));
    }
    if summary.baselined > 0 {
        line.push_str(&format!(", {} in the baseline", summary.baselined));
    }
    writeln!(w, "{line}")
}

/// The rule table for `kmsaudit rules`.
pub(crate) fn render_rules(rules: &[&Rule], json: bool, w: &mut dyn Write) -> io::Result<()> {
    if json {
        #[derive(Serialize)]
        struct R<'a> {
            code: &'a str,
            name: &'a str,
            severity: &'a str,
            spec: &'a str,
            summary: &'a str,
        }
        let list: Vec<R<'_>> = rules
            .iter()
            .map(|r| R {
                code: r.code,
                name: r.name,
                severity: r.severity.as_str(),
                spec: r.spec,
                summary: r.summary,
            })
            .collect();
        serde_json::to_writer_pretty(&mut *w, &list).map_err(io::Error::from)?;
        return writeln!(w);
    }
    for r in rules {
        writeln!(
            w,
            "{}  {:<34} {:<8} {}",
            r.code,
            r.name,
            r.severity.as_str(),
            r.summary
        )?;
    }
    Ok(())
}

/// `kmsaudit rule --all`: every rule in a table (comfy-table): code, name, severity, summary.
pub(crate) fn render_rule_table(rules: &[&Rule], w: &mut dyn Write) -> io::Result<()> {
    let mut table = comfy_table::Table::new();
    table
        .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_width(120)
        .set_header(["code", "name", "severity", "finds"]);
    for r in rules {
        table.add_row([r.code, r.name, r.severity.as_str(), r.summary]);
    }
    writeln!(w, "{table}")
}

/// `kmsaudit rule CODE`: the rule's header line and its documentation.
pub(crate) fn render_rule_doc(rule: &Rule, doc: &str, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "{} {} ({}; spec {})\n",
        rule.code,
        rule.name,
        rule.severity.as_str(),
        rule.spec
    )?;
    // The doc's first paragraph repeats the header line.
    let body = match doc.split_once("\n\n") {
        Some((first, rest)) if first.starts_with(&format!("`{}`", rule.code)) => rest,
        _ => doc,
    };
    writeln!(w, "{}\n\n{}", rule.summary, body.trim_end())
}
