//! `kmsaudit diff`: two worlds read the normal way, their access rows from the access graph,
//! compared (`crate::diff`), rendered.
//!
//! With a Terraform plan, the plan is parsed once and read twice by the Terraform reader: the
//! world after takes each resource's `after` (as every other command reads the plan), the
//! world before each resource's `before` and the prior state's values. Both point into the
//! plan, and both read the plan's place (account, Region, partition) from the whole plan.

use std::io::{self, Write};
use std::path::Path;

use super::can::{file_name, inventory_of, inventory_options};
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
            let (before, after) = plan_worlds(plan, args, &base, sources)?;
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

/// The two worlds of a plan, read from one parse of it: the world after apply, as the other
/// commands read the plan, and the world before it.
fn plan_worlds(
    plan: &Path,
    args: &DiffArgs,
    base: &InputOptions,
    sources: &mut SourceMap,
) -> Result<(Inventory, Inventory), Failure> {
    let opts = inventory_options(&args.place, base)?;
    let (after, before) =
        input::load_plan_worlds(&InputName::Path(plan.to_owned()), &opts, sources);
    let errors = after.input_errors();
    if !errors.is_empty() {
        return Err(Failure {
            message: format!("cannot read `{}`", plan.display()),
            findings: errors,
        });
    }
    let Some(before) = before else {
        let what = after
            .kind
            .map_or("nothing kmsaudit reads", |k| k.describe());
        return Err(fail(format!(
            "`{}` is not a Terraform plan kmsaudit can diff: it reads as {what}; give `terraform show -json` of a plan, or compare two sets of inputs with `--before` and `--after`",
            plan.display()
        )));
    };
    for (world, loaded) in [("after", &after), ("before", &before)] {
        if loaded.policies.len() > args.limits.max_policies {
            return Err(fail(format!(
                "the world {world} `{}` holds more than {} policies: check it, or raise `--max-policies`",
                plan.display(),
                args.limits.max_policies
            )));
        }
    }
    // The world before's findings are not reported: the plan's own are, in the world after.
    // An input error there (a prior value that cannot be read) still stops the diff.
    let errors = before.input_errors();
    if !errors.is_empty() {
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
    let name = file_name(plan);
    let mut worlds = [Inventory::new(), Inventory::new()];
    for (inv, loaded) in worlds.iter_mut().zip([before, after]) {
        inv.add(&name, loaded);
        inv.set_account_region(args.place.account.clone(), args.place.region.clone());
    }
    let [before, after] = worlds;
    Ok((before, after))
}
