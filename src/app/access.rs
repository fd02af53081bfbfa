//! `kmsaudit who-can`, `what-can`, `matrix` and `graph`: load the inventory and the flags'
//! inputs, build the access graph, ask it, render.

use std::io::{self, Write};

use super::can::{Failure, fail, inventory_of, load_grants, load_levels, load_policies};
use crate::cli::{
    CanFormat, GraphArgs, GraphFormatArg, GraphInputArgs, MatrixArgs, PathsArg, WhatCanArgs,
    WhoCanArgs,
};
use crate::graph::{AccessGraph, ExportFormat, Extras, Paths, Row};
use crate::inventory::Inventory;
use crate::policy::PolicyKind;
use crate::report::access;
use crate::source::SourceMap;

/// The six actions `matrix` shows by default.
pub(crate) const DEFAULT_MATRIX_ACTIONS: [&str; 6] = [
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:CreateGrant",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
];

fn load(
    args: &GraphInputArgs,
    key: Option<&str>,
    sources: &mut SourceMap,
) -> Result<(Inventory, Extras), Failure> {
    let base = args.limits.input_options();
    let inv = inventory_of(
        &args.files,
        &args.place,
        &base,
        args.limits.max_policies,
        sources,
    )?;
    let nodes = inv.users().len() + inv.roles().len() + inv.groups().len() + inv.key_arns().len();
    if nodes > args.max_graph_nodes {
        return Err(fail(format!(
            "the access graph would have more than {} nodes ({nodes} principals and keys): raise `--max-graph-nodes` or give fewer inputs",
            args.max_graph_nodes
        )));
    }
    let mut extras = Extras {
        scp: load_levels(&args.scp, PolicyKind::Scp, sources, &base)?,
        rcp: load_levels(&args.rcp, PolicyKind::Rcp, sources, &base)?,
        identity_unknown: args.identity_unknown,
        ..Extras::default()
    };
    if !args.identity_policy.is_empty() {
        let mut v = Vec::new();
        for p in &args.identity_policy {
            v.extend(load_policies(p, PolicyKind::Identity, sources, &base)?);
        }
        extras.identity = Some(v);
    }
    if let Some(k) = key {
        let arn = match inv.resolve_key(k) {
            Some(a) => a,
            None if inv.unknown_address(k).is_some() => {
                return Err(fail(inv.unknown_address(k).unwrap_or_default()));
            }
            None => crate::eval::KeyFacts::from_arn(k)
                .map(|f| f.arn)
                .map_err(|e| {
                    fail(format!(
                        "{e}; no key id or alias of that name is in the input files"
                    ))
                })?,
        };
        extras.key = Some(arn);
        if let Some(p) = &args.key_policy {
            extras.key_policy = Some(load_policies(p, PolicyKind::Key, sources, &base)?);
        }
        if let Some(p) = &args.grants {
            extras.grants = load_grants(p, sources, &base)?;
        }
    }
    Ok((inv, extras))
}

fn paths(p: PathsArg) -> Paths {
    match p {
        PathsArg::Direct => Paths::Direct,
        PathsArg::All => Paths::All,
    }
}

fn finish(
    result: Result<u8, Failure>,
    sources: &SourceMap,
    stderr: &mut dyn Write,
) -> io::Result<u8> {
    super::outcome::finish(result.map(super::Exit::from_code), sources, stderr)
        .map(super::Exit::code)
}

fn render(
    format: CanFormat,
    detail: access::Detail,
    q: access::Question<'_>,
    rows: &[Row],
    notes: &[String],
    stdout: &mut dyn Write,
) -> Result<u8, Failure> {
    let out = match format {
        CanFormat::Human => access::render_human(q, detail, rows, notes, stdout),
        CanFormat::Json => access::render_json(q, rows, notes, stdout),
    };
    super::outcome::unless_reader_gone(out)
        .map(|()| 0)
        .map_err(|e| fail(format!("cannot write the answer: {e}")))
}

fn check_action(action: &str) -> Result<String, Failure> {
    let bare = action.split_once(':').map_or(action, |(_, n)| n);
    match crate::catalog::action_index(bare).and_then(crate::catalog::action) {
        Some(a) => Ok(format!("kms:{}", a.name)),
        None => {
            let hint = crate::catalog::suggest_action(bare)
                .map(|s| format!(": did you mean `kms:{s}`?"))
                .unwrap_or_default();
            Err(fail(format!("`{action}` is not a KMS action{hint}")))
        }
    }
}

/// What a row-answering command asks, for the answer's header.
struct Ask<'a> {
    command: &'static str,
    action: Option<&'a str>,
    principal: Option<&'a str>,
    actions: &'a [String],
    detail: access::Detail,
}

/// Loads the inputs, builds the graph, takes the rows `rows` asks of it (given the key the
/// inputs resolve `--key` to), keeps those of that key, and renders them.
fn answer_rows(
    input: &GraphInputArgs,
    key: Option<&str>,
    ask: Ask<'_>,
    format: CanFormat,
    rows: impl FnOnce(&mut AccessGraph, Option<&str>) -> Result<Vec<Row>, Failure>,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> io::Result<u8> {
    let mut sources = SourceMap::new();
    let result = (|| {
        let (inv, extras) = load(input, key, &mut sources)?;
        let mut g = AccessGraph::build(&inv, &extras);
        let key = extras.key.as_deref().or(key);
        let mut rows = rows(&mut g, key)?;
        if let Some(k) = &extras.key {
            rows.retain(|r| r.key == *k);
        }
        let q = access::Question {
            command: ask.command,
            action: ask.action,
            key,
            principal: ask.principal,
            actions: ask.actions,
        };
        let mut notes = g.notes();
        // A planned key whose Region nothing gives: an answer that depends on it is not
        // settled here, so say so rather than drop those principals silently (spec R133).
        if let Some(k) = key.filter(|k| k.split(':').nth(3) == Some(crate::arn::UNKNOWN_REGION)) {
            notes.push(format!(
                "the Region of `{k}` is not in the inputs: principals whose policies name a Region may be missing or undetermined here; give `--region`"
            ));
        }
        render(format, ask.detail, q, &rows, &notes, stdout)
    })();
    finish(result, &sources, stderr)
}

/// `kmsaudit who-can`.
pub(crate) fn who_can(
    args: &WhoCanArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> io::Result<u8> {
    let action = match check_action(&args.action) {
        Ok(a) => a,
        Err(f) => return finish(Err(f), &SourceMap::new(), stderr),
    };
    let ask = Ask {
        command: "who-can",
        action: Some(&action),
        principal: None,
        actions: std::slice::from_ref(&action),
        detail: access::Detail::Wide,
    };
    answer_rows(
        &args.input,
        Some(&args.key),
        ask,
        args.format,
        |g, key| {
            g.who_can(&action, key.unwrap_or(&args.key), paths(args.paths))
                .map_err(fail)
        },
        stdout,
        stderr,
    )
}

/// `kmsaudit what-can`.
pub(crate) fn what_can(
    args: &WhatCanArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> io::Result<u8> {
    let ask = Ask {
        command: "what-can",
        action: None,
        principal: Some(&args.principal),
        actions: &[],
        detail: access::Detail::wide_if(args.verbose),
    };
    answer_rows(
        &args.input,
        args.key.as_deref(),
        ask,
        args.format,
        |g, _| g.what_can(&args.principal, paths(args.paths)).map_err(fail),
        stdout,
        stderr,
    )
}

/// `kmsaudit matrix`.
pub(crate) fn matrix(
    args: &MatrixArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> io::Result<u8> {
    let actions: Result<Vec<String>, Failure> = if args.actions.is_empty() {
        Ok(DEFAULT_MATRIX_ACTIONS
            .iter()
            .map(|s| (*s).to_owned())
            .collect())
    } else {
        args.actions
            .iter()
            .map(|a| check_action(a.trim()))
            .collect()
    };
    let actions = match actions {
        Ok(a) => a,
        Err(f) => return finish(Err(f), &SourceMap::new(), stderr),
    };
    let ask = Ask {
        command: "matrix",
        action: None,
        principal: None,
        actions: &actions,
        detail: access::Detail::wide_if(args.wide),
    };
    answer_rows(
        &args.input,
        args.key.as_deref(),
        ask,
        args.format,
        |g, _| Ok(g.matrix(&actions, paths(args.paths))),
        stdout,
        stderr,
    )
}

/// `kmsaudit graph`.
pub(crate) fn graph(
    args: &GraphArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> io::Result<u8> {
    let mut sources = SourceMap::new();
    let result = (|| {
        let (inv, extras) = load(&args.input, args.key.as_deref(), &mut sources)?;
        let mut g = AccessGraph::build(&inv, &extras);
        let format = match args.format {
            GraphFormatArg::Dot => ExportFormat::Dot,
            GraphFormatArg::Mermaid => ExportFormat::Mermaid,
            GraphFormatArg::Json => ExportFormat::Json,
        };
        let text = g.export(extras.key.as_deref(), format).map_err(fail)?;
        // What the drawing leaves out (a cut, keys without a policy) goes to standard error:
        // the output stays one document of its format.
        for note in g.notes() {
            if note.starts_with("the graph has ") {
                let _ = writeln!(stderr, "kmsaudit: {note}");
            }
        }
        super::outcome::unless_reader_gone(stdout.write_all(text.as_bytes()))
            .map(|()| 0)
            .map_err(|e| fail(format!("cannot write the graph: {e}")))
    })();
    finish(result, &sources, stderr)
}
