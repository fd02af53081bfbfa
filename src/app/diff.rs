//! `kmsaudit diff`: two worlds read the normal way, their access rows from the access graph,
//! compared (`crate::diff`), rendered.
//!
//! With a Terraform plan, the world after is the plan itself (the reader takes each resource's
//! `after`), so every location points into the plan; the world before is the same plan with
//! each `change.after` replaced by `change.before` (and `planned_values` by
//! `prior_state.values`), read by the same reader from memory under the plan's own name.

use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use super::can::{file_name, inventory_of};
use super::outcome::{Exit, Failure, fail, unless_reader_gone};
use crate::cli::{DiffArgs, DiffFormat, PathsArg};
use crate::diag::Finding;
use crate::diff::{Access, Change, ChangeKind};
use crate::graph::{Extras, Paths};
use crate::input::{self, InputName, InputOptions};
use crate::inventory::Inventory;
use crate::lint::access_added::ACCESS_ADDED;
use crate::report;
use crate::source::{SourceFile, SourceMap, Span};

/// `kmsaudit diff`.
pub(super) fn diff(
    args: &DiffArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> io::Result<Exit> {
    let mut sources = SourceMap::new();
    let result = run(args, &mut sources, stdout);
    super::outcome::finish(result, &sources, stderr)
}

fn run(args: &DiffArgs, sources: &mut SourceMap, stdout: &mut dyn Write) -> Result<Exit, Failure> {
    let actions = args
        .actions
        .iter()
        .map(|a| check_action(a.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    let base = args.limits.input_options();
    let (before, after, first_after) = match &args.plan {
        Some(plan) => {
            let before = plan_before(plan, args, &base, sources)?;
            let after = inventory_of(
                std::slice::from_ref(plan),
                &args.place,
                &base,
                args.limits.max_policies,
                sources,
            )?;
            (before, after, plan.clone())
        }
        None => {
            let before = inventory_of(
                &args.before,
                &args.place,
                &base,
                args.limits.max_policies,
                sources,
            )?;
            let after = inventory_of(
                &args.after,
                &args.place,
                &base,
                args.limits.max_policies,
                sources,
            )?;
            let first = args.after.first().cloned().unwrap_or_default();
            (before, after, first)
        }
    };
    let paths = match args.paths {
        PathsArg::Direct => Paths::Direct,
        PathsArg::All => Paths::All,
    };
    let extras = Extras::default();
    let (old, new) = crate::diff::changed_worlds(&before, &after, &extras, &actions, paths);
    let changes = crate::diff::compare(&old.rows, &new.rows);
    let notes = notes_of(&old, &new);
    let added = changes.iter().any(|c| c.kind == ChangeKind::Added);
    let out = match args.format {
        DiffFormat::Human => report::diff::render_human(&changes, &notes, stdout),
        DiffFormat::Json => report::diff::render_json(&changes, &notes, stdout),
        DiffFormat::Markdown => report::diff::render_markdown(&changes, &notes, stdout),
        DiffFormat::Sarif | DiffFormat::Github => {
            let findings = added_findings(&changes, &after, &first_after, sources);
            if args.format == DiffFormat::Sarif {
                report::ci::render_sarif(&findings, sources, stdout)
            } else {
                report::ci::render_github(&findings, sources, stdout)
            }
        }
    };
    unless_reader_gone(out).map_err(|e| fail(format!("cannot write the answer: {e}")))?;
    Ok(Exit::failing_if(args.fail_on_new_access && added))
}

/// Both worlds' notes, each said once, marked with the world it is about.
fn notes_of(old: &Access, new: &Access) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in &old.notes {
        if !new.notes.contains(n) {
            out.push(format!("before: {n}"));
        }
    }
    for n in &new.notes {
        out.push(n.clone());
    }
    out
}

fn check_action(action: &str) -> Result<String, Failure> {
    let bare = action.split_once(':').map_or(action, |(_, n)| n);
    match crate::catalog::action_index(bare).and_then(crate::catalog::action) {
        Some(a) => Ok(format!("kms:{}", a.name)),
        None => Err(fail(format!("`{action}` is not a KMS action"))),
    }
}

/// One KMS081 finding per added row, at the statement or grant of the world after that gives
/// the access (else at the start of the first input after).
fn added_findings(
    changes: &[Change],
    after: &Inventory,
    first_after: &Path,
    sources: &mut SourceMap,
) -> Vec<Finding> {
    let mut fallback = None;
    let mut out = Vec::new();
    for c in changes.iter().filter(|c| c.kind == ChangeKind::Added) {
        let Some(r) = &c.after else { continue };
        let at = crate::diff::guard::locate(after, &r.path);
        let (source, span) = match at {
            Some(x) => x,
            None => *fallback.get_or_insert_with(|| {
                let name = first_after.display().to_string();
                (sources.add(SourceFile::new(name, "", None)), Span::point(0))
            }),
        };
        let mut message = format!(
            "{} can now {} on {} ({}); path: {}",
            r.principal,
            r.action,
            r.key,
            r.decision.as_str(),
            crate::diff::guard::path_words(&r.path)
        );
        if !r.conditions.is_empty() {
            message.push_str(&format!("; if {}", r.conditions.join(", or ")));
        }
        if !r.reasons.is_empty() {
            message.push_str(&format!("; unknown: {}", r.reasons.join("; ")));
        }
        out.push(
            Finding::new(&ACCESS_ADDED, source, span, message, "adds the access").help(
                "confirm the access is intended; a `[[guard]]` in kmsaudit.toml makes a rule of it",
            ),
        );
    }
    crate::lint::stamp_rest(&mut out, sources);
    out
}

/// The world before a plan: the plan with each resource's `before` as its `after`, read from
/// memory under the plan's own name.
fn plan_before(
    plan: &Path,
    args: &DiffArgs,
    base: &InputOptions,
    sources: &mut SourceMap,
) -> Result<Inventory, Failure> {
    let text = input::capped::read_text(plan, args.limits.max_file_size)
        .map_err(|e| fail(format!("cannot read `{}`: {e}", plan.display())))?;
    let derived = before_document(&text).map_err(|e| {
        fail(format!(
            "`{}` is not a Terraform plan kmsaudit can diff: {e}",
            plan.display()
        ))
    })?;
    let name = file_name(plan);
    let opts = InputOptions {
        template: super::template_context(&args.place).map_err(fail)?,
        ..base.clone()
    };
    let bytes: Arc<[u8]> = derived.into_bytes().into();
    // The derived document's sources are the world before's: no finding is reported in them.
    let mut scratch = SourceMap::new();
    let loaded = input::load(&InputName::Memory(name.clone(), bytes), &opts, &mut scratch);
    let errors: Vec<Finding> = loaded
        .findings
        .iter()
        .filter(|f| f.rule.input_error)
        .cloned()
        .collect();
    if !errors.is_empty() {
        // The plan itself is read next as the world after: its own errors are reported there,
        // at their lines; here only the message.
        let _ = sources;
        return Err(fail(format!(
            "cannot read the prior state of `{}`: {}",
            plan.display(),
            errors
                .iter()
                .map(|f| f.message.clone())
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    let mut inv = Inventory::new();
    inv.add(&name, loaded);
    inv.set_account_region(args.place.account.clone(), args.place.region.clone());
    Ok(inv)
}

/// The plan JSON with the world before the change: every `resource_changes[].change.after`
/// replaced by its `before` (nothing unknown, `before_sensitive` as sensitive), and
/// `planned_values` by `prior_state.values`.
fn before_document(text: &str) -> Result<String, String> {
    let mut v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let Some(obj) = v.as_object_mut() else {
        return Err("it is not a JSON object".into());
    };
    if !obj.contains_key("resource_changes") && !obj.contains_key("planned_values") {
        return Err(
            "it has no `resource_changes` (is it `terraform show -json` of a plan?)".into(),
        );
    }
    let prior = obj
        .get("prior_state")
        .and_then(|p| p.get("values"))
        .cloned();
    match prior {
        Some(p) => {
            obj.insert("planned_values".into(), p);
        }
        None => {
            obj.remove("planned_values");
        }
    }
    if let Some(rcs) = obj
        .get_mut("resource_changes")
        .and_then(Value::as_array_mut)
    {
        for rc in rcs {
            let Some(ch) = rc.get_mut("change").and_then(Value::as_object_mut) else {
                continue;
            };
            let before = ch.get("before").cloned().unwrap_or(Value::Null);
            let sensitive = ch
                .get("before_sensitive")
                .cloned()
                .unwrap_or(Value::Bool(false));
            let action = if before.is_object() {
                "no-op"
            } else {
                "delete"
            };
            ch.insert("actions".into(), Value::Array(vec![Value::from(action)]));
            ch.insert("after".into(), before);
            ch.insert(
                "after_unknown".into(),
                Value::Object(serde_json::Map::new()),
            );
            ch.insert("after_sensitive".into(), sensitive);
        }
    }
    serde_json::to_string(&v).map_err(|e| e.to_string())
}
