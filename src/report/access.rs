//! Rendering `who-can`, `what-can` and `matrix` answers: a table with each row's path for
//! humans, one JSON object for machines.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use serde::Serialize;

use super::escape;
use crate::graph::{Row, RowDecision, Step};

/// Version of the JSON output of the graph commands.
pub(crate) const ACCESS_JSON_VERSION: u32 = 1;

/// One step of a path in JSON: the graph commands' rows and `diff`'s sides share it.
#[derive(Serialize)]
pub(super) struct JsonStep<'a> {
    pub(super) actor: &'a str,
    pub(super) action: &'a str,
    pub(super) target: &'a str,
    pub(super) how: &'a str,
    pub(super) via: &'a [String],
    pub(super) conditions: &'a [String],
}

/// A row's answer in JSON: the graph commands' rows and each side of a `diff` change share it.
#[derive(Serialize)]
pub(super) struct JsonDecision<'a> {
    decision: &'static str,
    conditions: &'a [String],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    reasons: &'a [String],
    escalated: bool,
    iam_assumed: bool,
    path: Vec<JsonStep<'a>>,
}

/// The answer of one row.
pub(super) fn json_decision(r: &Row) -> JsonDecision<'_> {
    JsonDecision {
        decision: r.decision.as_str(),
        conditions: &r.conditions,
        reasons: &r.reasons,
        escalated: r.escalated,
        iam_assumed: r.iam_assumed,
        path: r.path.iter().map(json_step).collect(),
    }
}

#[derive(Serialize)]
struct JsonRow<'a> {
    principal: &'a str,
    kind: &'static str,
    key: &'a str,
    action: &'a str,
    #[serde(flatten)]
    answer: JsonDecision<'a>,
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
pub(crate) struct Question<'a> {
    /// `who-can`, `what-can` or `matrix`.
    pub(crate) command: &'a str,
    /// The action asked about.
    pub(crate) action: Option<&'a str>,
    /// The key asked about.
    pub(crate) key: Option<&'a str>,
    /// The principal asked about.
    pub(crate) principal: Option<&'a str>,
    /// The actions asked about (the matrix's columns).
    pub(crate) actions: &'a [String],
}

pub(super) fn json_step(s: &Step) -> JsonStep<'_> {
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
pub(crate) fn render_json(
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
                answer: json_decision(r),
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

/// A human answer: the compact tables by default, every row with its path when `detail` is
/// [`Detail::Wide`] (who-can always lists rows).
pub(crate) fn render_human(
    q: Question<'_>,
    detail: Detail,
    rows: &[Row],
    notes: &[String],
    w: &mut dyn Write,
) -> io::Result<()> {
    match (q.command, detail) {
        ("matrix", Detail::Compact) => render_matrix(q.actions, rows, notes, w),
        ("what-can", Detail::Compact) => render_what_can(q, rows, notes, w),
        _ => render_rows(q, rows, notes, w),
    }
}

/// A table: principal, decision, conditions, path (and key and action when they vary).
fn render_rows(
    q: Question<'_>,
    rows: &[Row],
    notes: &[String],
    w: &mut dyn Write,
) -> io::Result<()> {
    // Every value is one field of a table or a line: escaped so that none can break the
    // table, start a line of its own or send a terminal a control sequence.
    let e = |s: &str| escape::terminal(s).into_owned();
    let by_principal = q.command == "who-can";
    let account = main_account(rows.iter().map(|r| r.principal.as_str()));
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
        _ => writeln!(w, "access matrix: {} cell(s) not denied", rows.len())?,
    }
    if q.command != "what-can" {
        if let (Some(a), false) = (&account, rows.is_empty()) {
            writeln!(
                w,
                "principals of account {a} are named without it; `account:N`: any principal of N whose IAM allows it"
            )?;
        }
    }
    if !rows.is_empty() {
        let mut table = comfy_table::Table::new();
        let width = if by_principal { TERMINAL_WIDTH } else { 160 };
        table
            .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
            .set_width(u16::try_from(width).unwrap_or(u16::MAX));
        let with_conditions = rows
            .iter()
            .any(|r| !r.conditions.is_empty() || !r.reasons.is_empty());
        let mut header = Vec::new();
        if q.command != "what-can" {
            header.push("principal");
        }
        if !by_principal {
            header.extend(["key", "action"]);
        }
        header.push("decision");
        if with_conditions {
            header.push("conditions");
        }
        header.push("path");
        table.set_header(header);
        for r in rows {
            let mut cells = Vec::new();
            if q.command != "what-can" {
                cells.push(e(&principal_name(&r.principal, account.as_deref())));
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
            if with_conditions {
                let list = if r.reasons.is_empty() {
                    &r.conditions
                } else {
                    &r.reasons
                };
                let conditions = list.iter().map(|c| e(c)).collect::<Vec<_>>().join("\n");
                cells.push(conditions);
            }
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

/// How much a human answer shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Detail {
    /// One symbol per cell (`matrix`), one line per key (`what-can`).
    Compact,
    /// Every row with its conditions and path.
    Wide,
}

impl Detail {
    /// `Wide` when the command's flag for it (`--verbose`, `--wide`) is set, else `Compact`.
    pub(crate) fn wide_if(wide: bool) -> Detail {
        if wide { Detail::Wide } else { Detail::Compact }
    }
}

/// Width the human tables are made to fit.
pub(crate) const TERMINAL_WIDTH: usize = 120;

/// The symbol of one cell of the compact tables, strongest answer first.
fn symbol(r: &Row) -> (u8, char) {
    match r.decision {
        RowDecision::Allow if r.escalated => (3, '↑'),
        RowDecision::Allow => (4, '✓'),
        RowDecision::Conditional => (2, '~'),
        RowDecision::Undetermined => (1, '?'),
    }
}

const LEGEND: &str =
    "legend: ✓ allowed  ↑ allowed through escalation  ~ conditional  ? undetermined  · denied";

/// The account most principals (or keys) of the rows belong to: named once in a header, left
/// out of the names.
fn main_account<'a>(arns: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for a in arns {
        if let Some(acct) = a.strip_prefix("arn:").and_then(|r| r.split(':').nth(3)) {
            if !acct.is_empty() {
                *count.entry(acct).or_default() += 1;
            }
        }
    }
    let best = count.values().copied().max()?;
    count
        .into_iter()
        .find(|(_, n)| *n == best)
        .map(|(a, _)| a.to_owned())
}

/// A principal's name without what the header says once: `role/Admin` for a principal of
/// `account`, `444455556666:root` for one of another account, classes as they are.
fn principal_name(arn: &str, account: Option<&str>) -> String {
    let Some(rest) = arn.strip_prefix("arn:") else {
        return arn.to_owned();
    };
    let parts: Vec<&str> = rest.splitn(5, ':').collect();
    match parts.as_slice() {
        [_, _, _, acct, resource] if Some(*acct) == account => (*resource).to_owned(),
        [_, _, _, acct, resource] => format!("{acct}:{resource}"),
        _ => arn.to_owned(),
    }
}

/// A key's name: the full ARN when keys of several accounts or Regions are in the answer,
/// `key/…` otherwise (the header names the account and Region once).
fn key_name(arn: &str, uniform: bool) -> String {
    if uniform {
        short(arn).to_owned()
    } else {
        arn.to_owned()
    }
}

/// The account and Region every key of the rows is in, if they share them.
fn key_place(rows: &[Row]) -> Option<(String, String)> {
    let mut places = rows.iter().map(|r| {
        let p: Vec<&str> = r.key.splitn(6, ':').collect();
        (
            p.get(3).copied().unwrap_or_default().to_owned(),
            p.get(4).copied().unwrap_or_default().to_owned(),
        )
    });
    let first = places.next()?;
    places.all(|p| p == first).then_some(first)
}

fn pad(s: &str, width: usize) -> String {
    let n = s.chars().count();
    format!("{s}{}", " ".repeat(width.saturating_sub(n)))
}

fn centre(c: char, width: usize) -> String {
    let left = width.saturating_sub(1) / 2;
    format!(
        "{}{c}{}",
        " ".repeat(left),
        " ".repeat(width.saturating_sub(left + 1))
    )
}

/// What is missing, said once: each reason of the undetermined cells with how many cells it
/// leaves open.
fn undetermined_summary(rows: &[Row], w: &mut dyn Write) -> io::Result<()> {
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r.decision == RowDecision::Undetermined)
    {
        if r.reasons.is_empty() {
            *reasons.entry("the inputs leave it open").or_default() += 1;
        }
        for why in &r.reasons {
            *reasons.entry(why).or_default() += 1;
        }
    }
    for (why, n) in reasons {
        writeln!(w, "undetermined ({n} cell(s)): {}", escape::terminal(why))?;
    }
    Ok(())
}

/// The strongest row of each (principal, key, action).
fn cells(rows: &[Row]) -> BTreeMap<(&str, &str, &str), char> {
    let mut best: BTreeMap<(&str, &str, &str), (u8, char)> = BTreeMap::new();
    for r in rows {
        let s = symbol(r);
        let e = best
            .entry((r.key.as_str(), r.principal.as_str(), r.action.as_str()))
            .or_insert(s);
        if s.0 > e.0 {
            *e = s;
        }
    }
    best.into_iter().map(|(k, (_, c))| (k, c)).collect()
}

/// `matrix`: per key, principals × actions, one symbol per cell.
fn render_matrix(
    actions: &[String],
    rows: &[Row],
    notes: &[String],
    w: &mut dyn Write,
) -> io::Result<()> {
    let e = |s: &str| escape::terminal(s).into_owned();
    let account = main_account(rows.iter().map(|r| r.principal.as_str()));
    let place = key_place(rows);
    let cells = cells(rows);
    let keys: BTreeSet<&str> = rows.iter().map(|r| r.key.as_str()).collect();
    let principals: BTreeSet<(&str, &str)> = rows
        .iter()
        .map(|r| (r.key.as_str(), r.principal.as_str()))
        .collect();
    writeln!(
        w,
        "access matrix: {} principal(s) × {} action(s) on {} key(s); {} cell(s) not denied",
        principals.len(),
        actions.len(),
        keys.len(),
        cells.len()
    )?;
    if rows.is_empty() {
        for n in notes {
            writeln!(w, "note: {}", e(n))?;
        }
        return Ok(());
    }
    if let Some(a) = &account {
        writeln!(
            w,
            "principals of account {a} are named without it; `account:N`: any principal of N whose IAM allows it"
        )?;
    }
    if let Some((region, acct)) = &place {
        writeln!(w, "keys: in {region}, account {acct}")?;
    }
    writeln!(w, "{LEGEND}")?;
    let names: Vec<String> = actions
        .iter()
        .map(|a| a.strip_prefix("kms:").unwrap_or(a).to_owned())
        .collect();
    let label = |p: &str| e(&principal_name(p, account.as_deref()));
    let first = principals
        .iter()
        .map(|(_, p)| label(p).chars().count())
        .max()
        .unwrap_or(0)
        .max("principal".len());
    let by_name: usize = names.iter().map(|n| n.chars().count() + 1).sum();
    // Numbered columns when the names do not fit the terminal.
    let numbered = 2 + first + by_name > TERMINAL_WIDTH;
    let heads: Vec<String> = if numbered {
        (1..=names.len()).map(|i| i.to_string()).collect()
    } else {
        names.clone()
    };
    if numbered {
        let list: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(i, n)| format!("{} {n}", i + 1))
            .collect();
        writeln!(w, "columns: {}", list.join(", "))?;
    }
    for key in &keys {
        writeln!(w)?;
        writeln!(w, "key {}", e(&key_name(key, place.is_some())))?;
        let mut line = format!("  {}", pad("principal", first));
        for h in &heads {
            line.push(' ');
            line.push_str(h);
        }
        writeln!(w, "{}", line.trim_end())?;
        for (_, p) in principals.iter().filter(|(k, _)| k == key) {
            let mut line = format!("  {}", pad(&label(p), first));
            for (h, a) in heads.iter().zip(actions) {
                let c = cells.get(&(*key, *p, a.as_str())).copied().unwrap_or('·');
                line.push(' ');
                line.push_str(&centre(c, h.chars().count()));
            }
            writeln!(w, "{}", line.trim_end())?;
        }
    }
    writeln!(w)?;
    undetermined_summary(rows, w)?;
    for n in notes {
        writeln!(w, "note: {}", e(n))?;
    }
    writeln!(w, "conditions and paths: `--wide`, or `--format json`")
}

/// `what-can`: one line per key, the actions grouped by answer.
fn render_what_can(
    q: Question<'_>,
    rows: &[Row],
    notes: &[String],
    w: &mut dyn Write,
) -> io::Result<()> {
    let e = |s: &str| escape::terminal(s).into_owned();
    let cells = cells(rows);
    let keys: BTreeSet<&str> = rows.iter().map(|r| r.key.as_str()).collect();
    writeln!(
        w,
        "what {} can do: {} key × action pair(s) on {} key(s)",
        e(q.principal.unwrap_or_default()),
        cells.len(),
        keys.len()
    )?;
    let place = key_place(rows);
    if let Some((region, acct)) = &place {
        writeln!(w, "keys: in {region}, account {acct}")?;
    }
    if !rows.is_empty() {
        writeln!(w, "{LEGEND}")?;
    }
    for key in &keys {
        let mut groups: BTreeMap<char, Vec<&str>> = BTreeMap::new();
        for ((k, _, a), c) in &cells {
            if k == key {
                groups
                    .entry(*c)
                    .or_default()
                    .push(a.strip_prefix("kms:").unwrap_or(a));
            }
        }
        let name = e(&key_name(key, place.is_some()));
        let mut line = name.clone();
        for c in ['✓', '↑', '~', '?'] {
            let Some(list) = groups.get(&c) else { continue };
            let mut part = format!("  {c} {}:", list.len());
            let mut shown = 0;
            for a in list {
                let room =
                    TERMINAL_WIDTH.saturating_sub(line.chars().count() + part.chars().count());
                if room < a.len() + 10 {
                    break;
                }
                part.push(' ');
                part.push_str(a);
                shown += 1;
            }
            if shown < list.len() {
                part.push_str(&format!(" +{}", list.len() - shown));
            }
            line.push_str(&part);
        }
        writeln!(w, "{line}")?;
    }
    undetermined_summary(rows, w)?;
    for n in notes {
        writeln!(w, "note: {}", e(n))?;
    }
    if !rows.is_empty() {
        writeln!(
            w,
            "each action with its conditions and path: `--verbose`, or `--format json`"
        )?;
    }
    Ok(())
}
