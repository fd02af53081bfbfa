//! Rendering `diff`: rows grouped by key (added first) for humans, one JSON object for
//! machines, and a Markdown pull-request comment (a short table, collapsible details). SARIF
//! and GitHub annotations go through `ci` as findings.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::access::{JsonDecision, json_decision};
use super::escape;
use crate::diff::{Change, ChangeKind};
use crate::graph::{Row, Step};

/// Version of the JSON output of `diff`.
pub(crate) const DIFF_JSON_VERSION: u32 = 1;

#[derive(Serialize)]
struct JsonChange<'a> {
    change: &'static str,
    principal: &'a str,
    kind: &'static str,
    key: &'a str,
    action: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    before: Option<JsonDecision<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    after: Option<JsonDecision<'a>>,
}

#[derive(Serialize)]
struct JsonAnswer<'a> {
    version: u32,
    command: &'static str,
    added: usize,
    removed: usize,
    changed: usize,
    changes: Vec<JsonChange<'a>>,
    notes: &'a [String],
}

fn count(changes: &[Change], kind: ChangeKind) -> usize {
    changes.iter().filter(|c| c.kind == kind).count()
}

/// One JSON object with a `changes` array.
pub(crate) fn render_json(
    changes: &[Change],
    notes: &[String],
    w: &mut dyn Write,
) -> io::Result<()> {
    let answer = JsonAnswer {
        version: DIFF_JSON_VERSION,
        command: "diff",
        added: count(changes, ChangeKind::Added),
        removed: count(changes, ChangeKind::Removed),
        changed: count(changes, ChangeKind::Changed),
        changes: changes
            .iter()
            .filter_map(|c| {
                let r = c.row()?;
                Some(JsonChange {
                    change: c.kind.as_str(),
                    principal: &r.principal,
                    kind: r.kind.as_str(),
                    key: &r.key,
                    action: &r.action,
                    before: c.before.as_ref().map(json_decision),
                    after: c.after.as_ref().map(json_decision),
                })
            })
            .collect(),
        notes,
    };
    serde_json::to_writer_pretty(&mut *w, &answer).map_err(io::Error::from)?;
    writeln!(w)
}

/// The readable tail of an ARN (`role/App`, `key/1234…`).
fn short(arn: &str) -> &str {
    if arn.starts_with("arn:") {
        arn.splitn(6, ':').nth(5).unwrap_or(arn)
    } else {
        arn
    }
}

/// The statements and grants a path goes through.
fn via(path: &[Step]) -> String {
    let v: Vec<&str> = path
        .iter()
        .flat_map(|s| s.via.iter().map(String::as_str))
        .collect();
    if v.is_empty() {
        "-".to_owned()
    } else {
        v.join(", ")
    }
}

/// A row's decision with what it hinges on.
fn decision(r: &Row) -> String {
    let mut d = r.decision.as_str().to_owned();
    if r.escalated {
        d.push_str(" (escalation)");
    }
    let list = if r.reasons.is_empty() {
        &r.conditions
    } else {
        &r.reasons
    };
    if !list.is_empty() {
        d.push_str(&format!(": {}", list.join("; or ")));
    }
    d
}

/// Changes by key, each key's in the order given (added first).
fn by_key(changes: &[Change]) -> BTreeMap<&str, Vec<&Change>> {
    let mut out: BTreeMap<&str, Vec<&Change>> = BTreeMap::new();
    for c in changes {
        if let Some(r) = c.row() {
            out.entry(r.key.as_str()).or_default().push(c);
        }
    }
    out
}

fn sign(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Added => "+",
        ChangeKind::Changed => "~",
        ChangeKind::Removed => "-",
    }
}

/// Rows grouped by key, added first: `+ principal action (decision) via …`.
pub(crate) fn render_human(
    changes: &[Change],
    notes: &[String],
    w: &mut dyn Write,
) -> io::Result<()> {
    let e = |s: &str| escape::terminal(s).into_owned();
    writeln!(
        w,
        "access diff: {} added, {} removed, {} changed",
        count(changes, ChangeKind::Added),
        count(changes, ChangeKind::Removed),
        count(changes, ChangeKind::Changed)
    )?;
    for (key, list) in by_key(changes) {
        writeln!(w, "\n{}", e(key))?;
        for c in list {
            let Some(r) = c.row() else { continue };
            writeln!(w, "  {} {} {}", sign(c.kind), e(&r.principal), e(&r.action))?;
            if let Some(b) = &c.before {
                writeln!(w, "      before: {}", e(&decision(b)))?;
                writeln!(w, "        via {}", e(&via(&b.path)))?;
            }
            if let Some(a) = &c.after {
                writeln!(w, "      after: {}", e(&decision(a)))?;
                writeln!(w, "        via {}", e(&via(&a.path)))?;
            }
        }
    }
    for n in notes {
        writeln!(w, "note: {}", e(n))?;
    }
    Ok(())
}

/// Text for one cell of a Markdown table: no line breaks, pipes or HTML.
fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '`' => out.push('\''),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A pull-request comment: a heading with the counts, one table row per change, and the paths
/// in a collapsible section.
pub(crate) fn render_markdown(
    changes: &[Change],
    notes: &[String],
    w: &mut dyn Write,
) -> io::Result<()> {
    let (a, r, c) = (
        count(changes, ChangeKind::Added),
        count(changes, ChangeKind::Removed),
        count(changes, ChangeKind::Changed),
    );
    writeln!(
        w,
        "### KMS access changes: {a} added, {r} removed, {c} changed"
    )?;
    writeln!(w)?;
    if changes.is_empty() {
        writeln!(
            w,
            "This change gives no principal new access to a key, and takes none away."
        )?;
    } else {
        writeln!(w, "| | principal | action | key | decision |")?;
        writeln!(w, "|---|---|---|---|---|")?;
        for ch in changes {
            let Some(row) = ch.row() else { continue };
            writeln!(
                w,
                "| {} | `{}` | `{}` | `{}` | {} |",
                ch.kind.as_str(),
                cell(&row.principal),
                cell(&row.action),
                cell(short(&row.key)),
                cell(&decision(row))
            )?;
        }
        writeln!(w)?;
        writeln!(w, "<details><summary>Paths</summary>")?;
        writeln!(w)?;
        for ch in changes {
            let Some(row) = ch.row() else { continue };
            writeln!(
                w,
                "- **{}** `{}` `{}` on `{}`",
                ch.kind.as_str(),
                cell(&row.principal),
                cell(&row.action),
                cell(short(&row.key))
            )?;
            for (label, side) in [("before", &ch.before), ("after", &ch.after)] {
                if let Some(s) = side {
                    writeln!(
                        w,
                        "  - {label}: {}",
                        cell(&crate::diff::guard::path_words(&s.path))
                    )?;
                }
            }
        }
        writeln!(w)?;
        writeln!(w, "</details>")?;
    }
    for n in notes {
        writeln!(w)?;
        writeln!(w, "> note: {}", cell(n))?;
    }
    Ok(())
}
