//! The formats CI systems read: SARIF 2.1.0 (code scanning), GitHub workflow commands and JUnit
//! XML. Each reports findings in the file the user committed (the outer file for embedded
//! policies), with 1-based lines and columns, and never shows a sensitive value.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::{SENSITIVE, escape};
use crate::diag::{Finding, Rule, Severity};
use crate::lint;
use crate::source::{SourceId, SourceMap};

/// A place in the outer file: name, start line/column, end line/column (1-based).
struct Place {
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

fn place(sources: &SourceMap, source: SourceId, start: u32, end: u32) -> Place {
    let (outer, at) = sources
        .outer_location(source, start)
        .unwrap_or((source, start));
    let (_, until) = sources.outer_location(source, end).unwrap_or((source, end));
    let file = sources.get(outer);
    let (line, column) = file.map_or((1, 1), |s| s.line_col(at));
    let (end_line, end_column) = file.map_or((line, column), |s| s.line_col(until.max(at)));
    Place {
        file: file.map(|s| s.name.clone()).unwrap_or_default(),
        line,
        column,
        end_line,
        end_column,
    }
}

/// The message, with the resource it is in when a plan or template holds it
/// (`… [plan.json › aws_kms_key.x]`).
fn message(f: &Finding, sources: &SourceMap) -> String {
    let text = if sources.is_sensitive(f.source) {
        SENSITIVE.to_owned()
    } else {
        f.message.clone()
    };
    match super::resource(f, sources) {
        Some(r) => format!("{text} [{r}]"),
        None => text,
    }
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn sarif_rule(r: &Rule) -> Value {
    let doc = lint::rule_doc(r);
    let mut rule = json!({
        "id": r.code,
        "name": r.name,
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": format!("{} (spec {})", r.summary, r.spec)},
        "help": {"text": if doc.is_empty() { r.summary } else { doc }, "markdown": if doc.is_empty() { r.summary } else { doc }},
        "defaultConfiguration": {"level": sarif_level(r.severity)},
        "properties": {"tags": ["security", "aws-kms"], "spec": r.spec}
    });
    // A rule's page, when the package names a home for its documentation.
    if let Some(home) = option_env!("CARGO_PKG_HOMEPAGE").filter(|h| h.starts_with("https://")) {
        if let Some(obj) = rule.as_object_mut() {
            obj.insert(
                "helpUri".into(),
                json!(format!("{home}#{}", r.code.to_ascii_lowercase())),
            );
        }
    }
    rule
}

fn sarif_location(p: &Place, text: Option<&str>, id: Option<usize>) -> Value {
    let mut loc = json!({
        "physicalLocation": {
            "artifactLocation": {"uri": escape::uri(&p.file)},
            "region": {
                "startLine": p.line,
                "startColumn": p.column,
                "endLine": p.end_line,
                "endColumn": p.end_column.max(if p.end_line == p.line { p.column + 1 } else { 1 })
            }
        }
    });
    if let Some(obj) = loc.as_object_mut() {
        if let Some(t) = text {
            obj.insert("message".into(), json!({"text": t}));
        }
        if let Some(i) = id {
            obj.insert("id".into(), json!(i));
        }
    }
    loc
}

/// SARIF 2.1.0: one run, the rule registry as `tool.driver.rules`, one result per finding.
pub(crate) fn render_sarif(
    findings: &[Finding],
    sources: &SourceMap,
    w: &mut dyn Write,
) -> io::Result<()> {
    let rules: Vec<&Rule> = lint::rules().collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let p = place(sources, f.source, f.span.start, f.span.end);
            let sensitive = sources.is_sensitive(f.source);
            let related: Vec<Value> = f
                .labels
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let lp = place(sources, f.source, l.span.start, l.span.end);
                    sarif_location(
                        &lp,
                        Some(if sensitive { SENSITIVE } else { &l.text }),
                        Some(i + 1),
                    )
                })
                .collect();
            let mut r = json!({
                "ruleId": f.rule.code,
                "ruleIndex": rules.iter().position(|r| std::ptr::eq(*r, f.rule)).unwrap_or(0),
                "level": sarif_level(f.severity),
                "message": {"text": message(f, sources)},
                "locations": [sarif_location(&p, None, None)],
            });
            // The resource address, where code scanning shows a logical location.
            if let Some(address) = super::resource(f, sources)
                .and_then(|r| r.split_once(" › ").map(|(_, a)| a.to_owned()))
            {
                if let Some(loc) = r
                    .get_mut("locations")
                    .and_then(|l| l.get_mut(0))
                    .and_then(Value::as_object_mut)
                {
                    loc.insert(
                        "logicalLocations".into(),
                        json!([{"fullyQualifiedName": address, "kind": "resource"}]),
                    );
                }
            }
            if let Some(obj) = r.as_object_mut() {
                if let Some(fp) = &f.fingerprint {
                    obj.insert(
                        "partialFingerprints".into(),
                        json!({"kmsauditFingerprint/v1": fp}),
                    );
                }
                if !related.is_empty() {
                    obj.insert("relatedLocations".into(), Value::Array(related));
                }
                if let (Some(h), false) = (&f.help, sensitive) {
                    obj.insert("properties".into(), json!({"help": h}));
                }
            }
            r
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "kmsaudit",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": option_env!("CARGO_PKG_HOMEPAGE").filter(|h| h.starts_with("https://")).unwrap_or("https://docs.aws.amazon.com/kms/latest/developerguide/control-access.html"),
                "rules": rules.iter().map(|r| sarif_rule(r)).collect::<Vec<_>>()
            }},
            "columnKind": "unicodeCodePoints",
            "results": results
        }]
    });
    serde_json::to_writer_pretty(&mut *w, &doc).map_err(io::Error::from)?;
    writeln!(w)
}

/// GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=CODE::message (help)`.
pub(crate) fn render_github(
    findings: &[Finding],
    sources: &SourceMap,
    w: &mut dyn Write,
) -> io::Result<()> {
    for f in findings {
        let p = place(sources, f.source, f.span.start, f.span.end);
        let kind = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        writeln!(
            w,
            "::{kind} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            escape::github_property(&p.file),
            p.line,
            p.column,
            p.end_line,
            p.end_column,
            escape::github_property(&format!("{} {}", f.rule.code, f.rule.name)),
            escape::github_data(&format!(
                "{}{}",
                message(f, sources),
                help_suffix(f, sources)
            ))
        )?;
    }
    Ok(())
}

/// The finding's help as a short suffix for the one-line formats (concise, GitHub):
/// `` (did you mean `kms:Decrypt`?)``, on one line; empty when there is no help or the finding
/// is in a sensitive value (whose help may quote it).
pub(crate) fn help_suffix(f: &Finding, sources: &SourceMap) -> String {
    match &f.help {
        Some(h) if !sources.is_sensitive(f.source) && !h.trim().is_empty() => {
            // Written into one buffer: this runs for every finding that has a help text.
            let mut out = String::with_capacity(h.len() + 3);
            out.push_str(" (");
            for (i, word) in h.split_whitespace().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(word);
            }
            out.push(')');
            out
        }
        _ => String::new(),
    }
}

/// JUnit XML: a test suite per file, a test case per rule that found something in the file (a
/// file without findings has one passing case, `kmsaudit`). A case fails when one of its findings
/// is at or above `fail_on`; the case of an input error (a file that could not be read) is an
/// `<error>`, counted in `errors`; findings below it are listed as output. The totals of
/// `<testsuites>` are the sums of its suites'.
pub(crate) fn render_junit(
    findings: &[Finding],
    sources: &SourceMap,
    files: &[String],
    fail_on: Option<Severity>,
    w: &mut dyn Write,
) -> io::Result<()> {
    let placed: Vec<(Place, &Finding)> = findings
        .iter()
        .map(|f| (place(sources, f.source, f.span.start, f.span.end), f))
        .collect();
    // Every file checked, and every file a finding is in (input errors name theirs).
    let mut names: Vec<String> = files.to_vec();
    names.extend(placed.iter().map(|(p, _)| p.file.clone()));
    names.sort();
    names.dedup();
    let mut total_failures = 0;
    let mut total_errors = 0;
    let mut total_tests = 0;
    let mut body = String::new();
    for name in &names {
        let mut cases = String::new();
        let mut failures = 0;
        let mut errors = 0;
        let mut tests = 0;
        let in_file: Vec<&(Place, &Finding)> =
            placed.iter().filter(|(p, _)| &p.file == name).collect();
        // The rules that found something here, in code order.
        let mut found: Vec<&Rule> = in_file.iter().map(|(_, f)| f.rule).collect();
        found.sort_by_key(|r| r.code);
        found.dedup_by_key(|r| r.code);
        if found.is_empty() {
            tests += 1;
            cases.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"kmsaudit\">\n    </testcase>\n",
                escape::xml(name)
            ));
        }
        for r in found {
            tests += 1;
            let hits: Vec<&(Place, &Finding)> = in_file
                .iter()
                .copied()
                .filter(|(_, f)| std::ptr::eq(f.rule, r))
                .collect();
            let failing = hits
                .iter()
                .filter(|(_, f)| f.rule.input_error || fail_on.is_some_and(|t| f.severity >= t))
                .count();
            let lines: Vec<String> = hits
                .iter()
                .map(|(p, f)| {
                    format!(
                        "{}:{}:{}: {} {} {}{}",
                        escape::terminal(&p.file),
                        p.line,
                        p.column,
                        f.severity.as_str(),
                        f.rule.code,
                        escape::terminal(&message(f, sources)),
                        escape::terminal(&help_suffix(f, sources))
                    )
                })
                .collect();
            cases.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{} {}\">\n",
                escape::xml(name),
                escape::xml(r.code),
                escape::xml(r.name)
            ));
            if failing > 0 {
                // An input that could not be read is an error of the run, not a failed check.
                let element = if r.input_error {
                    errors += 1;
                    "error"
                } else {
                    failures += 1;
                    "failure"
                };
                cases.push_str(&format!(
                    "      <{element} message=\"{}\" type=\"{}\">{}</{element}>\n",
                    escape::xml(&format!("{failing} finding(s)")),
                    escape::xml(r.code),
                    escape::xml(&lines.join("\n"))
                ));
            } else {
                cases.push_str(&format!(
                    "      <system-out>{}</system-out>\n",
                    escape::xml(&lines.join("\n"))
                ));
            }
            cases.push_str("    </testcase>\n");
        }
        total_failures += failures;
        total_errors += errors;
        total_tests += tests;
        body.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\">\n{cases}  </testsuite>\n",
            escape::xml(name)
        ));
    }
    writeln!(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(
        w,
        "<testsuites name=\"kmsaudit\" tests=\"{total_tests}\" failures=\"{total_failures}\" errors=\"{total_errors}\">"
    )?;
    write!(w, "{body}")?;
    writeln!(w, "</testsuites>")
}
