//! `kmsaudit check`: settings → configuration → every input read and judged on any core,
//! merged in input order → the key-level rules → the findings the user asked for, less those
//! accepted → sorted → the report and the verdict.

use std::io::{self, IsTerminal, Write};

use super::outcome::{Exit, error_line, unless_reader_gone};
use super::settings::CheckSettings;
use super::write_file;
use crate::cli::CheckArgs;
use crate::diag::{Finding, Rule};
use crate::input::{self, InputOptions};
use crate::inventory::Inventory;
use crate::lint::{self, LintContext};
use crate::policy::PolicyKind;
use crate::report::{self, RenderOptions, Summary};
use crate::source::SourceMap;

/// `kmsaudit check`.
pub(super) fn check(
    args: &CheckArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> io::Result<Exit> {
    let settings = match CheckSettings::from_args(args) {
        Ok(s) => s,
        Err(msg) => {
            error_line(stderr, msg)?;
            return Ok(Exit::Error);
        }
    };
    let mut run = Gathered::default();
    // kmsaudit.toml: a broken one is reported (exit 2) and the defaults are used meanwhile.
    let cfg = match config_path(args) {
        Some(path) => match crate::config::load(&path, &crate::config::today(), &mut run.sources) {
            Ok(c) => c,
            Err(problems) => {
                run.summary.input_errors += 1;
                run.findings.extend(problems);
                crate::config::Loaded::default()
            }
        },
        None => crate::config::Loaded::default(),
    };
    run.findings.extend(cfg.expired.iter().cloned());
    let config = lint::Config {
        deployer: args.deployer.clone().or(cfg.rules.deployer.clone()),
        run: rules_to_run(&settings, &cfg),
        ..cfg.rules.clone()
    };
    let (inputs, not_read) = input::expand_paths(&args.paths, &settings.exclude, args.follow);
    for n in not_read {
        let path = report::escape::terminal(&n.path.display().to_string()).into_owned();
        let reason = report::escape::terminal(&n.reason).into_owned();
        if n.error {
            error_line(stderr, format_args!("cannot read `{path}`: {reason}"))?;
            run.summary.input_errors += 1;
        } else {
            writeln!(stderr, "kmsaudit: warning: not read `{path}`: {reason}")?;
            run.summary.not_read += 1;
        }
    }
    let progress = progress_bar(&inputs, args.quiet);
    read_all(&inputs, args, &settings.opts, &config, &progress, &mut run);
    if let Some(bar) = &progress {
        bar.set_prefix("judging keys");
        bar.set_message("");
    }
    let Gathered {
        mut sources,
        mut findings,
        mut summary,
        inventory,
        pending,
        checked_files,
        previous_documents,
    } = run;
    lint::check_keys(
        pending,
        &inventory,
        &sources,
        args.place.account.as_deref(),
        args.place.region.as_deref(),
        &config,
        &mut findings,
    );
    // The team's `[[guard]]` rules, on the inputs as one world (KMS080).
    if !cfg.guards.is_empty() {
        let world = guard_world(&inputs, &settings.opts, args, &mut sources, stderr)?;
        findings.extend(crate::diff::guard::check(&cfg.guards, &world));
    }
    if inputs.is_empty() && summary.input_errors == 0 {
        writeln!(stderr, "kmsaudit: warning: no input files found")?;
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    std::mem::forget(previous_documents);
    lint::stamp_rest(&mut findings, &sources);
    keep_asked_for(&mut findings, &settings, &cfg, &mut summary);
    if let Err(msg) = accept(
        &mut findings,
        &cfg,
        args.baseline.as_deref(),
        args.limits.max_file_size,
        &mut summary,
    ) {
        error_line(stderr, msg)?;
        return Ok(Exit::Error);
    }
    sort_findings(&mut findings, &sources);
    if let Some(path) = &args.write_baseline {
        return write_baseline(path, &findings, &summary, args.quiet, stderr);
    }
    summary.count(&findings);
    let opts = RenderOptions {
        human: settings.human,
        files: checked_files,
        fail_on: settings.threshold,
    };
    // A reader that has gone (`… | head`) cuts the report short, not the verdict: the exit
    // status below is the one the findings call for.
    unless_reader_gone(
        report::render(settings.format, &findings, &sources, summary, &opts, stdout)
            .and_then(|()| stdout.flush()),
    )?;
    if !args.quiet {
        report::render_summary(&summary, cfg.path.as_deref(), stderr)?;
    }
    Ok(verdict(args, &settings, &findings, &summary))
}

/// What the inputs gave, merged in input order.
#[derive(Debug, Default)]
struct Gathered {
    sources: SourceMap,
    findings: Vec<Finding>,
    summary: Summary,
    /// What every key is judged against.
    inventory: Inventory,
    /// The key policies, for the key-level rules.
    pending: Vec<lint::KeyToCheck>,
    /// The inputs read (not skipped), for the report.
    checked_files: Vec<String>,
    /// The last input's documents (see [`Gathered::merge`]).
    previous_documents: Option<Vec<input::LoadedPolicy>>,
}

/// Reads and judges every input on its own on any core (sources in a block of their own,
/// numbered after the config's block 0), and merges each into `run` in input order.
fn read_all(
    inputs: &input::FoundInputs,
    args: &CheckArgs,
    opts: &InputOptions,
    config: &lint::Config,
    progress: &Option<indicatif::ProgressBar>,
    run: &mut Gathered,
) {
    let skip_unrecognised = args.skip_unrecognised;
    let read = |i: usize, (name, explicit): &(input::InputName, bool)| {
        let block = u32::try_from(i + 1).unwrap_or(u32::MAX);
        read_input(name, *explicit && !skip_unrecognised, block, opts, config)
    };
    let merge = |i: usize, one: ReadInput| {
        let Some((name, _)) = inputs.get(i) else {
            return;
        };
        if let Some(bar) = progress {
            bar.set_message(name.display());
            bar.inc(1);
        }
        run.merge(name, one, args.limits.max_policies);
    };
    // Files go to the workers 16 at a time: most are a few kilobytes, and passing each alone
    // cost more than reading it.
    let workers = crate::parallel::cores();
    crate::parallel::ordered(inputs, workers, 16, 4 * workers, read, merge);
}

impl Gathered {
    /// Takes in one input read on its own (its sources absorbed first, so the progress bar
    /// and the inventory see them).
    fn merge(&mut self, name: &input::InputName, mut one: ReadInput, max_policies: usize) {
        self.sources.absorb(std::mem::take(&mut one.sources));
        if one.skipped {
            self.summary.skipped += 1;
            return;
        }
        self.summary.files += 1;
        self.checked_files.push(name.display());
        if self.summary.policies + one.policies > max_policies {
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
                            "the inputs hold more than {max_policies} policies: this file is not read"
                        ),
                        "too many policies",
                    )
                    .help("check the inputs, or raise `--max-policies`"),
                );
            }
            one.pending.clear();
            one.shared = input::Loaded::default();
        } else {
            self.summary.policies += one.policies;
            self.summary.unchecked += one.unchecked;
        }
        if one.found.iter().any(|f| f.rule.input_error) {
            self.summary.input_errors += 1;
        }
        self.findings.append(&mut one.found);
        self.pending.append(&mut one.pending);
        self.inventory.add(&name.display(), one.shared);
        // An input's documents are freed when the next input has been merged, and the last
        // input's not at all: `check` ends the process, and giving an account dump's millions
        // of small blocks back to the allocator just before exiting made it consolidate them
        // all at the next large allocation (a fifth of the run).
        drop(self.previous_documents.replace(one.done_with));
    }
}

/// The rules worth running: those whose findings [`keep_asked_for`] keeps. Only when the
/// command line chooses: the findings the configuration's own lists take out are counted in
/// the summary, so those rules still run.
fn rules_to_run(settings: &CheckSettings, cfg: &crate::config::Loaded) -> lint::RuleSet {
    if settings.select.is_empty() && settings.ignore.is_empty() {
        return lint::RuleSet::ALL;
    }
    let (select, ignore) = asked_for(settings, cfg);
    lint::RuleSet::only(|rule| {
        rule.input_error
            || ((select.is_empty() || select.iter().any(|r| std::ptr::eq(*r, rule)))
                && !ignore.iter().any(|r| std::ptr::eq(*r, rule)))
    })
}

/// The `--select` and `--ignore` lists, else the configuration's.
fn asked_for<'a>(
    settings: &'a CheckSettings,
    cfg: &'a crate::config::Loaded,
) -> (&'a [&'static Rule], &'a [&'static Rule]) {
    let select: &[&Rule] = if settings.select.is_empty() {
        &cfg.select
    } else {
        &settings.select
    };
    let ignore: &[&Rule] = if settings.ignore.is_empty() {
        &cfg.ignore
    } else {
        &settings.ignore
    };
    (select, ignore)
}

/// Keeps the findings `--select`/`--ignore` (else the configuration's lists) ask for — input
/// errors always, as they explain exit code 2 — and applies the configuration's severities.
fn keep_asked_for(
    findings: &mut Vec<Finding>,
    settings: &CheckSettings,
    cfg: &crate::config::Loaded,
    summary: &mut Summary,
) {
    let (select, ignore) = asked_for(settings, cfg);
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
    for f in findings {
        if let Some((_, s)) = cfg.severity.iter().find(|(r, _)| std::ptr::eq(*r, f.rule)) {
            f.severity = *s;
        }
    }
}

/// The status the findings call for: 2 after an input error; 1 for a finding at or above
/// `--fail-on`, or, with `--fail-on-unchecked`, a key policy known only after apply (not
/// checked at all), whatever `--fail-on` says; else 0.
fn verdict(
    args: &CheckArgs,
    settings: &CheckSettings,
    findings: &[Finding],
    summary: &Summary,
) -> Exit {
    if summary.input_errors > 0 {
        return Exit::Error;
    }
    let failing = settings.threshold.is_some_and(|t| {
        findings
            .iter()
            .any(|f| !f.rule.input_error && f.severity >= t)
    });
    Exit::failing_if(failing || (args.fail_on_unchecked && summary.unchecked > 0))
}

/// `--write-baseline`: records the fingerprints of today's findings (not input errors) in
/// place of a report; 2 after an input error, else 0.
fn write_baseline(
    path: &std::path::Path,
    findings: &[Finding],
    summary: &Summary,
    quiet: bool,
    stderr: &mut dyn Write,
) -> io::Result<Exit> {
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
        error_line(
            stderr,
            format_args!("cannot write `{}`: {e}", path.display()),
        )?;
        return Ok(Exit::Error);
    }
    if !quiet {
        writeln!(
            stderr,
            "kmsaudit: wrote {} finding(s) to the baseline `{}`",
            prints.len(),
            path.display()
        )?;
    }
    Ok(if summary.input_errors > 0 {
        Exit::Error
    } else {
        Exit::Clean
    })
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
        lint::check_document_with(&cx, config.run, &mut found);
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
        .count()
        + this_input.late_key_policies();
    lint::check_declared(&this_input, config, &mut found);
    lint::check_grants(&this_input, config, &mut found);
    for f in &found {
        sources.prepare_locations(f.source);
    }
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

/// Every input read again into one inventory, whole (the key-level rules' inventory keeps
/// only what places each key policy), for the guards: they ask the access graph. Sources go
/// into a block after the inputs' own. Standard input cannot be read twice: the guards are
/// then not checked, and a warning says so.
fn guard_world(
    inputs: &input::FoundInputs,
    opts: &InputOptions,
    args: &CheckArgs,
    sources: &mut SourceMap,
    stderr: &mut dyn Write,
) -> io::Result<Inventory> {
    let block = u32::try_from(inputs.len() + 1).unwrap_or(u32::MAX);
    let mut own = SourceMap::block(block);
    let mut world = Inventory::new();
    for (name, _) in inputs {
        if matches!(name, input::InputName::Stdin) {
            writeln!(
                stderr,
                "kmsaudit: warning: the guards of the configuration were not checked on standard input: give the file by name"
            )?;
            continue;
        }
        let loaded = input::load(name, opts, &mut own);
        if loaded.unrecognised {
            continue;
        }
        world.add(&name.display(), loaded);
    }
    world.set_account_region(args.place.account.clone(), args.place.region.clone());
    sources.absorb(own);
    Ok(world)
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
