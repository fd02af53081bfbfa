//! Rendering `who-can`, `what-can` and `matrix` answers: a table with each row's path for
//! humans, one JSON object for machines.

use std::io::{self, Write};

use serde::Serialize;

use super::escape;
use crate::graph::{Row, Step};

/// Version of the JSON output of the graph commands.
pub const ACCESS_JSON_VERSION: u32 = 1;

#[derive(Serialize)]
struct JsonStep<'a> {
    actor: &'a str,
    action: &'a str,
    target: &'a str,
    how: &'a str,
    via: &'a [String],
    conditions: &'a [String],
}

#[derive(Serialize)]
struct JsonRow<'a> {
    principal: &'a str,
    kind: &'static str,
    key: &'a str,
    action: &'a str,
    decision: &'static str,
    conditions: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    reasons: &'a [String],
    escalated: bool,
    iam_assumed: bool,
    path: Vec<JsonStep<'a>>,
}

#[derive(Serialize)]
struct JsonAnswer<'a> {
    version: u32,
    command: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    principal: Option<&'a str>,
    rows: Vec<JsonRow<'a>>,
    notes: &'a [String],
}

/// What the answer was about, for headings and JSON.
#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    /// `who-can`, `what-can` or `matrix`.
    pub command: &'a str,
    /// The action asked about.
    pub action: Option<&'a str>,
    /// The key asked about.
    pub key: Option<&'a str>,
    /// The principal asked about.
    pub principal: Option<&'a str>,
}

fn json_step(s: &Step) -> JsonStep<'_> {
    JsonStep {
        actor: &s.actor,
        action: &s.action,
        target: &s.target,
        how: &s.how,
        via: &s.via,
        conditions: &s.conditions,
    }
}

/// One JSON object with a `rows` array.
pub fn render_json(
    q: Question<'_>,
    rows: &[Row],
    notes: &[String],
    w: &mut dyn Write,
) -> io::Result<()> {
    let answer = JsonAnswer {
        version: ACCESS_JSON_VERSION,
        command: q.command,
        action: q.action,
        key: q.key,
        principal: q.principal,
        rows: rows
            .iter()
            .map(|r| JsonRow {
                principal: &r.principal,
                kind: r.kind.as_str(),
                key: &r.key,
                action: &r.action,
                decision: r.decision.as_str(),
                conditions: &r.conditions,
                reasons: &r.reasons,
                escalated: r.escalated,
                iam_assumed: r.iam_assumed,
                path: r.path.iter().map(json_step).collect(),
            })
            .collect(),
        notes,
    };
    serde_json::to_writer_pretty(&mut *w, &answer).map_err(io::Error::from)?;
    writeln!(w)
}

/// One line per step: `1. role/A sts:AssumeRole on role/B — assumes the role [trust#1]`.
fn path_text(path: &[Step]) -> String {
    path.iter()
        .enumerate()
        .map(|(i, s)| {
            let mut line = format!(
                "{}. {} {} on {}: {}",
                i + 1,
                escape::terminal(short(&s.actor)),
                escape::terminal(&s.action),
                escape::terminal(short(&s.target)),
                escape::terminal(&s.how)
            );
            if !s.via.is_empty() {
                line.push_str(&format!(" [{}]", escape::terminal(&s.via.join(", "))));
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The readable tail of an ARN (`role/App`, `key/1234…`).
fn short(arn: &str) -> &str {
    if arn.starts_with("arn:") {
        arn.splitn(6, ':').nth(5).unwrap_or(arn)
    } else {
        arn
    }
}

/// A table: principal, decision, conditions, path (and key and action when they vary).
pub fn render_human(
    q: Question<'_>,
    rows: &[Row],
    notes: &[String],
    w: &mut dyn Write,
) -> io::Result<()> {
    // Every value is one field of a table or a line: escaped so that none can break the
    // table, start a line of its own or send a terminal a control sequence.
    let e = |s: &str| escape::terminal(s).into_owned();
    match q.command {
        "who-can" => writeln!(
            w,
            "who can {} on {}: {} principal(s)",
            e(q.action.unwrap_or_default()),
            e(q.key.unwrap_or_default()),
            rows.len()
        )?,
        "what-can" => writeln!(
            w,
            "what {} can do: {} key × action pair(s)",
            e(q.principal.unwrap_or_default()),
            rows.len()
        )?,
        _ => writeln!(w, "access matrix: {} cell(s) allowed", rows.len())?,
    }
    if !rows.is_empty() {
        let mut table = comfy_table::Table::new();
        table
            .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
            .set_width(160);
        let by_principal = q.command == "who-can";
        let mut header = Vec::new();
        if q.command != "what-can" {
            header.push("principal");
        }
        if !by_principal {
            header.extend(["key", "action"]);
        }
        header.extend(["decision", "conditions", "path"]);
        table.set_header(header);
        for r in rows {
            let mut cells = Vec::new();
            if q.command != "what-can" {
                cells.push(e(&r.principal));
            }
            if !by_principal {
                cells.push(e(short(&r.key)));
                cells.push(e(&r.action));
            }
            let decision = if r.escalated {
                format!("{} (escalation)", r.decision.as_str())
            } else {
                r.decision.as_str().to_owned()
            };
            cells.push(decision);
            let list = if r.reasons.is_empty() {
                &r.conditions
            } else {
                &r.reasons
            };
            let conditions = list.iter().map(|c| e(c)).collect::<Vec<_>>().join("\n");
            cells.push(conditions);
            cells.push(path_text(&r.path));
            table.add_row(cells);
        }
        writeln!(w, "{table}")?;
    }
    for n in notes {
        writeln!(w, "note: {}", e(n))?;
    }
    Ok(())
}
