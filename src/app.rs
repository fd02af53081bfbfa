//! Wires the modules into commands. The only module that knows them all.
//!
//! `check`: expand paths → on every core, `read_input` each file (`input::load`, the document,
//! declared-key and grant rules) → merge in input order → `lint::check_keys` → filter by
//! `--select`/`--ignore` → sort → `report::render` → exit code (0 clean, 1 findings at or above
//! `--fail-on`, 2 when an input could not be read, after everything else was reported).

mod access;
mod can;
mod plan_place;
mod put_policy;
mod write_file;

use std::io::{self, IsTerminal, Write};

use globset::{Glob, GlobSetBuilder};

use crate::cli::{CheckArgs, Cli, Command, FailOn, FormatArg, PolicyKindArg};
use crate::diag::{Finding, Rule, Severity};
use crate::input::{self, InputOptions};
use crate::inventory::Inventory;
use crate::lint::{self, LintContext};
use crate::policy::PolicyKind;
use crate::report::{self, Format, HumanOptions, RenderOptions, Summary};
use crate::source::SourceMap;

/// Runs a command; returns the exit code. Errors are I/O errors writing output.
pub fn run(cli: Cli, stdout: &mut dyn Write, stderr: &mut dyn Write) -> io::Result<u8> {
    match cli.command {
        Command::Check(args) => {
            let color = use_color(
                std::io::stdout().is_terminal(),
                std::env::var_os("NO_COLOR").as_deref(),
                std::env::var_os("TERM").as_deref(),
            );
            let format = match args.format {
                Some(FormatArg::Human) => Format::Human,
                Some(FormatArg::Concise) => Format::Concise,
                Some(FormatArg::Json) => Format::Json,
                Some(FormatArg::Sarif) => Format::Sarif,
                Some(FormatArg::Github) => Format::Github,
                Some(FormatArg::Junit) => Format::Junit,
                None if std::io::stdout().is_terminal() => Format::Human,
                None => Format::Concise,
            };
            let width = terminal_width().unwrap_or(100);
            check(
                &args,
                format,
                &HumanOptions { color, width },
                stdout,
                stderr,
            )
        }
        Command::Can(args) => can::can(&args, stdout, stderr),
        Command::WhoCan(args) => access::who_can(&args, stdout, stderr),
        Command::WhatCan(args) => access::what_can(&args, stdout, stderr),
        Command::Matrix(args) => access::matrix(&args, stdout, stderr),
        Command::Graph(args) => access::graph(&args, stdout, stderr),
        Command::CheckPutPolicy(args) => put_policy::check_put_policy(&args, stdout, stderr),
        Command::Rule(args) => rule_doc(&args, stdout, stderr),
        Command::Completions(args) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            // Into memory first: the generator panics on a write error, a closed pipe included.
            let mut buf = Vec::new();
            clap_complete::generate(args.shell, &mut cmd, "kmsaudit", &mut buf);
            stdout.write_all(&buf)?;
            Ok(0)
        }
        Command::Manpage => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd).render(stdout)?;
            Ok(0)
        }
        Command::Rules(args) => {
            let rules: Vec<&Rule> = lint::rules().collect();
            report::render_rules(&rules, args.json, stdout)?;
            Ok(0)
        }
    }
}

/// `kmsaudit rule CODE` / `rule --all`.
fn rule_doc(
    args: &crate::cli::RuleArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> io::Result<u8> {
    if args.all {
        let rules: Vec<&Rule> = lint::rules().collect();
        report::render_rule_table(&rules, stdout)?;
        return Ok(0);
    }
    let code = args.code.as_deref().unwrap_or_default();
    match lint::rule(code) {
        Some(r) => {
            report::render_rule_doc(r, lint::rule_doc(r), stdout)?;
            Ok(0)
        }
        None => {
            writeln!(
                stderr,
                "kmsaudit: error: unknown rule `{code}`: run `kmsaudit rule --all` to list them"
            )?;
            Ok(2)
        }
    }
}

/// Colour only on a terminal that takes escape sequences: not with `NO_COLOR` set (any value,
/// as no-color.org asks), not with `TERM=dumb`.
fn use_color(
    terminal: bool,
    no_color: Option<&std::ffi::OsStr>,
    term: Option<&std::ffi::OsStr>,
) -> bool {
    terminal && no_color.is_none() && term.is_none_or(|t| t != "dumb")
}

fn terminal_width() -> Option<usize> {
    std::env::var("COLUMNS").ok()?.parse().ok()
}

/// Validated settings of `check`.
#[derive(Debug)]
struct CheckSettings {
    select: Vec<&'static Rule>,
    ignore: Vec<&'static Rule>,
    exclude: globset::GlobSet,
    opts: InputOptions,
}

fn settings(args: &CheckArgs) -> Result<CheckSettings, String> {
    let codes = |list: &[String]| -> Result<Vec<&'static Rule>, String> {
        list.iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                lint::rule(s.trim())
                    .ok_or_else(|| format!("unknown rule `{s}`: run `kmsaudit rules` to list them"))
            })
            .collect()
    };
    let mut builder = GlobSetBuilder::new();
    for g in &args.exclude {
        let glob = Glob::new(g).map_err(|e| format!("invalid `--exclude` glob `{g}`: {e}"))?;
        builder.add(glob);
    }
    let exclude = builder
        .build()
        .map_err(|e| format!("invalid `--exclude` globs: {e}"))?;
    Ok(CheckSettings {
        select: codes(&args.select)?,
        ignore: codes(&args.ignore)?,
        exclude,
        opts: InputOptions {
            policy_kind: args.policy_kind.map(|k| match k {
                PolicyKindArg::Key => PolicyKind::Key,
                PolicyKindArg::Identity => PolicyKind::Identity,
                PolicyKindArg::Boundary => PolicyKind::Boundary,
                PolicyKindArg::Session => PolicyKind::Session,
                PolicyKindArg::Scp => PolicyKind::Scp,
                PolicyKindArg::Rcp => PolicyKind::Rcp,
                PolicyKindArg::Vpce => PolicyKind::VpcEndpoint,
            }),
            parse: crate::policy::ParseOptions::default(),
            template: crate::input::TemplateContext {
                stand_in_account: true,
                ..template_context(&args.place)?
            },
            input_kind: match &args.input_kind {
                Some(k) => Some(crate::input::InputKind::from_name(k).ok_or_else(|| {
                    let names: Vec<&str> = crate::input::InputKind::NAMES
                        .iter()
                        .map(|(_, n)| *n)
                        .collect();
                    format!(
                        "unknown `--input-kind {k}`: use one of {}",
                        names.join(", ")
                    )
                })?),
                None => None,
            },
            ..args.limits.input_options()
        },
    })
}

/// Values for CloudFormation intrinsics from `--account`, `--region`, `--partition`, `--param`.
pub(crate) fn template_context(
    place: &crate::cli::PlaceArgs,
) -> Result<crate::input::TemplateContext, String> {
    let mut ctx = crate::input::TemplateContext {
        account: place.account.clone(),
        region: place.region.clone(),
        partition: place.partition.clone(),
        params: std::collections::BTreeMap::new(),
        stand_in_account: false,
    };
    for p in &place.param {
        let (k, v) = p
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| format!("`--param {p}`: expected NAME=VALUE"))?;
        ctx.params.insert(k.to_owned(), v.to_owned());
    }
    Ok(ctx)
}

/// `kmsaudit check`.
pub fn check(
    args: &CheckArgs,
    format: Format,
    human: &HumanOptions,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> io::Result<u8> {
    let settings = match settings(args) {
        Ok(s) => s,
        Err(msg) => {
            writeln!(stderr, "kmsaudit: error: {msg}")?;
            return Ok(2);
        }
    };
    let mut sources = SourceMap::new();
    let mut findings: Vec<Finding> = Vec::new();
    let mut summary = Summary::default();
    let mut inventory = Inventory::new();
    // kmsaudit.toml: a broken one is reported (exit 2) and the defaults are used meanwhile.
    let cfg = match config_path(args) {
        Some(path) => match crate::config::load(&path, &crate::config::today(), &mut sources) {
            Ok(c) => c,
            Err(problems) => {
                summary.input_errors += 1;
                findings.extend(problems);
                crate::config::Loaded::default()
            }
        },
        None => crate::config::Loaded::default(),
    };
    findings.extend(cfg.expired.iter().cloned());
    let select = if settings.select.is_empty() {
        &cfg.select
    } else {
        &settings.select
    };
    let ignore = if settings.ignore.is_empty() {
        &cfg.ignore
    } else {
        &settings.ignore
    };
    let mut pending = Vec::new();
    let mut checked_files: Vec<String> = Vec::new();
    let mut previous_documents = None;
    let config = lint::Config {
        deployer: args.deployer.clone().or(cfg.rules.deployer.clone()),
        ..cfg.rules.clone()
    };
    let (inputs, not_read) = input::expand_paths(&args.paths, &settings.exclude, args.follow);
    for n in not_read {
        let path = report::escape::terminal(&n.path.display().to_string()).into_owned();
        let reason = report::escape::terminal(&n.reason).into_owned();
        if n.error {
            writeln!(stderr, "kmsaudit: error: cannot read `{path}`: {reason}")?;
            summary.input_errors += 1;
        } else {
            writeln!(stderr, "kmsaudit: warning: not read `{path}`: {reason}")?;
            summary.not_read += 1;
        }
    }
    let progress = progress_bar(&inputs, args.quiet);
    // Each input is read and judged on its own on any core (sources in a block of their own,
    // numbered after the config's block 0), then merged here in input order.
    let skip_unrecognised = args.skip_unrecognised;
    let read = |i: usize, (name, explicit): &(input::InputName, bool)| {
        let block = u32::try_from(i + 1).unwrap_or(u32::MAX);
        read_input(
            name,
            *explicit && !skip_unrecognised,
            block,
            &settings.opts,
            &config,
        )
    };
    let merge = |i: usize, mut one: ReadInput| {
        let Some((name, _)) = inputs.get(i) else {
            return;
        };
        sources.absorb(std::mem::take(&mut one.sources));
        if let Some(bar) = &progress {
            bar.set_message(name.display());
            bar.inc(1);
        }
        if one.skipped {
            summary.skipped += 1;
            return;
        }
        summary.files += 1;
        checked_files.push(name.display());
        if summary.policies + one.policies > args.limits.max_policies {
            // Over the limit the file's policies are not read: only its input findings stay,
            // as they were before any policy was looked at.
            one.found.truncate(one.input_findings);
            for f in &mut one.found {
                f.fingerprint = None;
                f.about = None;
            }
            if let Some(id) = one.first_source {
                one.found.push(
                    Finding::new(
                        &crate::diag::input_rules::INPUT_LIMIT,
                        id,
                        crate::source::Span::point(0),
                        format!(
                            "the inputs hold more than {} policies: this file is not read",
                            args.limits.max_policies
                        ),
                        "too many policies",
                    )
                    .help("check the inputs, or raise `--max-policies`"),
                );
            }
            one.pending.clear();
            one.shared = input::Loaded::default();
        } else {
            summary.policies += one.policies;
            summary.unchecked += one.unchecked;
        }
        if one.found.iter().any(|f| f.rule.input_error) {
            summary.input_errors += 1;
        }
        findings.append(&mut one.found);
        pending.append(&mut one.pending);
        inventory.add(&name.display(), one.shared);
        // An input's documents are freed when the next input has been merged, and the last
        // input's not at all: `check` ends the process, and giving an account dump's millions
        // of small blocks back to the allocator just before exiting made it consolidate them
        // all at the next large allocation (a fifth of the run).
        drop(previous_documents.replace(one.done_with));
    };
    // Files go to the workers 16 at a time: most are a few kilobytes, and passing each alone
    // cost more than reading it.
    let workers = crate::parallel::cores();
    crate::parallel::ordered(&inputs, workers, 16, 4 * workers, read, merge);
    if let Some(bar) = &progress {
        bar.set_prefix("judging keys");
        bar.set_message("");
    }
    lint::check_keys(
        pending,
        &inventory,
        &sources,
        args.place.account.as_deref(),
        args.place.region.as_deref(),
        &config,
        &mut findings,
    );
    if inputs.is_empty() && summary.input_errors == 0 {
        writeln!(stderr, "kmsaudit: warning: no input files found")?;
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    std::mem::forget(previous_documents);
    lint::stamp_rest(&mut findings, &sources);
    // Input errors are always shown: they explain exit code 2.
    let before = findings.len();
    findings.retain(|f| {
        f.rule.input_error
            || ((select.is_empty() || select.iter().any(|r| std::ptr::eq(*r, f.rule)))
                && !ignore.iter().any(|r| std::ptr::eq(*r, f.rule)))
    });
    // What the configuration's own lists took out (the command line's are the user's choice).
    if settings.select.is_empty() && settings.ignore.is_empty() {
        summary.config_ignored = before - findings.len();
    }
    for f in &mut findings {
        if let Some((_, s)) = cfg.severity.iter().find(|(r, _)| std::ptr::eq(*r, f.rule)) {
            f.severity = *s;
        }
    }
    if let Err(msg) = accept(
        &mut findings,
        &cfg,
        args.baseline.as_deref(),
        args.limits.max_file_size,
        &mut summary,
    ) {
        writeln!(stderr, "kmsaudit: error: {msg}")?;
        return Ok(2);
    }
    sort_findings(&mut findings, &sources);
    if let Some(path) = &args.write_baseline {
        let mut prints: Vec<&str> = findings
            .iter()
            .filter(|f| !f.rule.input_error)
            .filter_map(|f| f.fingerprint.as_deref())
            .collect();
        prints.sort_unstable();
        prints.dedup();
        let body = serde_json::json!({"version": 1, "tool": "kmsaudit", "fingerprints": prints});
        let text = serde_json::to_string_pretty(&body).map_err(io::Error::other)? + "\n";
        if let Err(e) = write_file::write_atomic(path, text.as_bytes()) {
            writeln!(
                stderr,
                "kmsaudit: error: cannot write `{}`: {e}",
                path.display()
            )?;
            return Ok(2);
        }
        if !args.quiet {
            writeln!(
                stderr,
                "kmsaudit: wrote {} finding(s) to the baseline `{}`",
                prints.len(),
                path.display()
            )?;
        }
        return Ok(if summary.input_errors > 0 { 2 } else { 0 });
    }
    summary.count(&findings);
    let threshold = match args.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Info => Some(Severity::Info),
        FailOn::Never => None,
    };
    let opts = RenderOptions {
        human: *human,
        files: checked_files,
        fail_on: threshold,
    };
    // A reader that has gone (`… | head`) cuts the report short, not the verdict: the exit
    // status below is the one the findings call for.
    match report::render(format, &findings, &sources, summary, &opts, stdout)
        .and_then(|()| stdout.flush())
    {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(e),
    }
    if !args.quiet {
        report::render_summary(&summary, cfg.path.as_deref(), stderr)?;
    }
    if summary.input_errors > 0 {
        return Ok(2);
    }
    let failing = threshold.is_some_and(|t| {
        findings
            .iter()
            .any(|f| !f.rule.input_error && f.severity >= t)
    });
    // A key policy known only after apply was not checked at all: with `--fail-on-unchecked`
    // that fails the run whatever `--fail-on` says.
    Ok(u8::from(
        failing || (args.fail_on_unchecked && summary.unchecked > 0),
    ))
}

/// One input read and judged on its own: everything `check` does with a file that does not need
/// the other files.
#[derive(Debug, Default)]
struct ReadInput {
    /// Its sources, in its own block.
    sources: SourceMap,
    /// Not policy input, met in a directory walk or skipped by `--skip-unrecognised`.
    skipped: bool,
    /// Its input findings (the first `input_findings`), then what the document, declared-key
    /// and grant rules found.
    found: Vec<Finding>,
    input_findings: usize,
    /// How many policies it holds, and the source of the first.
    policies: usize,
    first_source: Option<crate::source::SourceId>,
    /// Its key policies, for the key-level rules.
    pending: Vec<lint::KeyToCheck>,
    /// What every key is judged against (principals, organisation trees, described keys).
    shared: input::Loaded,
    /// Its other documents, done with.
    done_with: Vec<input::LoadedPolicy>,
    /// Key policies it declares that could not be checked (known only after apply).
    unchecked: usize,
}

/// Reads input `name` into source block `block` and runs the rules that need only this input.
/// A file that is not policy input is skipped unless `named` (the user named it and did not
/// ask to skip such files), when it is an error.
fn read_input(
    name: &input::InputName,
    named: bool,
    block: u32,
    opts: &InputOptions,
    config: &lint::Config,
) -> ReadInput {
    let mut sources = SourceMap::block(block);
    let mut loaded = input::load(name, opts, &mut sources);
    if loaded.unrecognised && !named {
        return ReadInput {
            sources,
            skipped: true,
            ..ReadInput::default()
        };
    }
    let mut found = std::mem::take(&mut loaded.findings);
    let input_findings = found.len();
    for p in &loaded.policies {
        let Some(source) = sources.get(p.doc.source) else {
            continue;
        };
        let cx = LintContext {
            doc: &p.doc,
            source,
            problems: &p.problems,
        };
        lint::check_document(&cx, &mut found);
        // Identity policies are named by their place in the inputs; key policies by their
        // key, once it is known (in `check_keys`).
        if p.doc.kind != PolicyKind::Key {
            let identity = if p.label.is_empty() {
                source.name.trim_start_matches("./").to_owned()
            } else {
                p.label.clone()
            };
            lint::stamp(&mut found, &p.doc, source, &identity);
        }
    }
    let policies = loaded.policies.len();
    let first_source = loaded.policies.first().map(|p| p.doc.source);
    // Key policies wait for the key-level rules with what their own input says about their
    // key; principals and described keys join the inventory every key is judged against.
    // Identity policies are done with.
    let key_policies: Vec<_> = loaded
        .policies
        .extract_if(.., |p| {
            p.doc.kind == PolicyKind::Key
                || matches!(
                    p.role,
                    input::PolicyRole::Scp(_) | input::PolicyRole::Rcp(_)
                )
        })
        .collect();
    let done_with = std::mem::replace(&mut loaded.policies, key_policies);
    let (this_input, shared) = crate::inventory::split_for_keys(loaded);
    let unchecked = this_input
        .planned_keys()
        .iter()
        .filter(|k| k.policy == input::PlannedPolicy::Unknown)
        .count();
    lint::check_declared(&this_input, config, &mut found);
    lint::check_grants(&this_input, config, &mut found);
    ReadInput {
        sources,
        skipped: false,
        found,
        input_findings,
        policies,
        first_source,
        pending: lint::keys_to_check(&this_input),
        shared,
        done_with,
        unchecked,
    }
}

/// A progress bar on stderr for large runs on a terminal; none otherwise (CI logs, pipes,
/// tests): 50 inputs or more, or one over 8 MiB.
fn progress_bar(inputs: &input::FoundInputs, quiet: bool) -> Option<indicatif::ProgressBar> {
    let big = inputs.len() >= 50
        || inputs.iter().any(|(n, _)| match n {
            input::InputName::Path(p) => std::fs::metadata(p).is_ok_and(|m| m.len() > 8 << 20),
            input::InputName::Stdin | input::InputName::Memory(..) => false,
        });
    (big && !quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(inputs.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {wide_msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix("reading");
        bar
    })
}

/// Takes out what the team accepted: findings a suppression in `kmsaudit.toml` names, then
/// those recorded in the `--baseline` file — never input errors. Counts both in `summary`.
fn accept(
    findings: &mut Vec<Finding>,
    cfg: &crate::config::Loaded,
    baseline: Option<&std::path::Path>,
    max: u64,
    summary: &mut Summary,
) -> Result<(), String> {
    let before = findings.len();
    findings.retain(|f| f.rule.input_error || !cfg.suppressions.iter().any(|s| s.matches(f)));
    summary.suppressed = before - findings.len();
    if let Some(path) = baseline {
        let accepted = read_baseline(path, max)?;
        let before = findings.len();
        findings.retain(|f| {
            f.rule.input_error
                || f.fingerprint
                    .as_ref()
                    .is_none_or(|fp| accepted.binary_search(fp).is_err())
        });
        summary.baselined = before - findings.len();
    }
    Ok(())
}

/// `--config`, else the first `kmsaudit.toml` up from the working directory (none with
/// `--no-config`).
fn config_path(args: &CheckArgs) -> Option<std::path::PathBuf> {
    if args.no_config {
        return None;
    }
    args.config.clone().or_else(|| {
        std::env::current_dir()
            .ok()
            .and_then(|d| crate::config::find(&d))
    })
}

/// The fingerprints of a baseline file, sorted.
fn read_baseline(path: &std::path::Path, max: u64) -> Result<Vec<String>, String> {
    let text = input::capped::read_text(path, max)
        .map_err(|e| format!("cannot read the baseline `{}`: {e}", path.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "the baseline `{}` is not valid JSON ({e}): write it with `--write-baseline`",
            path.display()
        )
    })?;
    let list = v
        .get("fingerprints")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| {
            format!(
                "the baseline `{}` has no `fingerprints` list: write it with `--write-baseline`",
                path.display()
            )
        })?;
    let mut out: Vec<String> = list
        .iter()
        .filter_map(|x| x.as_str().map(str::to_owned))
        .collect();
    out.sort_unstable();
    Ok(out)
}

/// Deterministic order: by outer file name, then position, then code.
fn sort_findings(findings: &mut [Finding], sources: &SourceMap) {
    findings.sort_by_cached_key(|f| {
        let (outer, at) = sources
            .outer_location(f.source, f.span.start)
            .unwrap_or((f.source, f.span.start));
        let name = sources
            .get(outer)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        (
            name,
            outer,
            at,
            f.source,
            f.span.start,
            f.rule.code,
            f.message.clone(),
        )
    });
}

#[cfg(test)]
mod tests {
    use super::use_color;

    #[test]
    fn no_colour_off_a_terminal_with_no_color_or_on_a_dumb_terminal() {
        let os = |s: &'static str| Some(std::ffi::OsStr::new(s));
        assert!(use_color(true, None, os("xterm-256color")));
        assert!(use_color(true, None, None));
        assert!(!use_color(false, None, os("xterm")));
        assert!(!use_color(true, os(""), os("xterm")));
        assert!(!use_color(true, None, os("dumb")));
    }
}
