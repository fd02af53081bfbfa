//! Wires the modules into commands. The only module that knows them all.
//!
//! Every command runs in two steps: its settings (flags read and validated once), then the
//! orchestration. Every command ends in one place (`app/outcome.rs`): an [`Exit`] status, or a
//! failure told on standard error by one renderer; a closed standard output is one rule.
//!
//! `check` (`app/check.rs`): validate the flags (`app/settings.rs`) → expand paths → on every core,
//! `read_input` each file (`input::load`, the document, declared-key and grant rules) → merge
//! in input order → `lint::check_keys` → filter by `--select`/`--ignore` → sort →
//! `report::render` → exit status (0 clean, 1 findings at or above `--fail-on`, 2 when an
//! input could not be read, after everything else was reported).

mod access;
mod can;
mod check;
mod diff;
mod outcome;
mod plan_place;
mod policy;
mod put_policy;
mod settings;
mod write_file;

use std::io::{self, Write};

use crate::cli::{Cli, Command};
use crate::diag::Rule;
use crate::lint;
use crate::report;

pub(crate) use outcome::Exit;
pub(crate) use settings::template_context;

/// Runs a command, flushes standard output and returns the process's exit status; an error
/// writing the output is reported on `stderr` (see `app/outcome.rs`).
pub fn run(cli: Cli, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Exit {
    let outcome = dispatch(cli, stdout, stderr);
    let flushed = stdout.flush();
    outcome::conclude(outcome, flushed, stderr)
}

/// Runs a command; errors are I/O errors writing output.
fn dispatch(cli: Cli, stdout: &mut dyn Write, stderr: &mut dyn Write) -> io::Result<Exit> {
    for line in crate::arn::check_flags(&named_flags(&cli.command)) {
        writeln!(stderr, "kmsaudit: {}", report::escape::terminal(&line))?;
    }
    match cli.command {
        Command::Check(args) => check::check(&args, stdout, stderr),
        Command::Can(args) => can::can(&args, stdout, stderr),
        Command::WhoCan(args) => access::who_can(&args, stdout, stderr).map(Exit::from_code),
        Command::WhatCan(args) => access::what_can(&args, stdout, stderr).map(Exit::from_code),
        Command::Matrix(args) => access::matrix(&args, stdout, stderr).map(Exit::from_code),
        Command::Graph(args) => access::graph(&args, stdout, stderr).map(Exit::from_code),
        Command::Diff(args) => diff::diff(&args, stdout, stderr),
        Command::CheckPutPolicy(args) => put_policy::check_put_policy(&args, stdout, stderr),
        Command::Rule(args) => rule_doc(&args, stdout, stderr),
        Command::Policy(args) => policy::policy(&args, stdout, stderr),
        Command::Explain(args) => explain(&args, stdout, stderr),
        Command::Completions(args) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            // Into memory first: the generator panics on a write error, a closed pipe included.
            let mut buf = Vec::new();
            clap_complete::generate(args.shell, &mut cmd, "kmsaudit", &mut buf);
            stdout.write_all(&buf)?;
            Ok(Exit::Clean)
        }
        Command::Manpage => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd).render(stdout)?;
            Ok(Exit::Clean)
        }
        Command::Rules(args) => {
            let rules: Vec<&Rule> = lint::rules().collect();
            report::render_rules(&rules, args.json, stdout)?;
            Ok(Exit::Clean)
        }
    }
}

/// The flags of a command that name a Region, a partition or an ARN, for `arn::check_flags`.
fn named_flags(command: &Command) -> Vec<(&'static str, &str)> {
    fn place(p: &crate::cli::PlaceArgs) -> [(&'static str, Option<&str>); 2] {
        [
            ("--region", p.region.as_deref()),
            ("--partition", p.partition.as_deref()),
        ]
    }
    let mut flags: Vec<(&'static str, Option<&str>)> = Vec::new();
    match command {
        Command::Check(a) => flags.extend(place(&a.place)),
        Command::Can(a) => {
            flags.extend(place(&a.place));
            flags.extend([
                ("--principal", a.principal.as_deref()),
                ("--key", a.key.as_deref()),
            ]);
        }
        Command::CheckPutPolicy(a) => {
            flags.extend([
                ("--region", Some(a.region.as_str())),
                ("--caller", Some(a.caller.as_str())),
            ]);
            flags.push(("--key", a.key.as_deref()));
        }
        Command::WhoCan(a) => {
            flags.extend(place(&a.input.place));
            flags.push(("--key", Some(a.key.as_str())));
        }
        Command::WhatCan(a) => {
            flags.extend(place(&a.input.place));
            flags.extend([
                ("--principal", Some(a.principal.as_str())),
                ("--key", a.key.as_deref()),
            ]);
        }
        Command::Matrix(a) => {
            flags.extend(place(&a.input.place));
            flags.push(("--key", a.key.as_deref()));
        }
        Command::Graph(a) => {
            flags.extend(place(&a.input.place));
            flags.push(("--key", a.key.as_deref()));
        }
        Command::Diff(a) => flags.extend(place(&a.place)),
        Command::Rules(_)
        | Command::Rule(_)
        | Command::Policy(_)
        | Command::Explain(_)
        | Command::Completions(_)
        | Command::Manpage => {}
    }
    flags
        .into_iter()
        .filter_map(|(f, v)| Some((f, v?)))
        .collect()
}

/// `kmsaudit rule CODE` / `rule --all`.
fn rule_doc(
    args: &crate::cli::RuleArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> io::Result<Exit> {
    if args.all {
        let rules: Vec<&Rule> = lint::rules().collect();
        report::render_rule_table(&rules, stdout)?;
        return Ok(Exit::Clean);
    }
    let code = args.code.as_deref().unwrap_or_default();
    match lint::rule(code) {
        Some(r) => {
            report::render_rule_doc(r, lint::rule_doc(r), stdout)?;
            Ok(Exit::Clean)
        }
        None => {
            outcome::error_line(
                stderr,
                format_args!("unknown rule `{code}`: run `kmsaudit rule --all` to list them"),
            )?;
            Ok(Exit::Error)
        }
    }
}

/// `kmsaudit explain [PATH]`.
fn explain(
    args: &crate::cli::ExplainArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> io::Result<Exit> {
    let Some(query) = args.topic.as_deref() else {
        report::explain::render_list(stdout)?;
        return Ok(Exit::Clean);
    };
    match report::explain::find(query) {
        Some(t) => {
            report::explain::render_topic(t, stdout)?;
            Ok(Exit::Clean)
        }
        None => {
            outcome::error_line(
                stderr,
                format_args!(
                    "no path is named `{}`: run `kmsaudit explain` to list them",
                    report::escape::terminal(query)
                ),
            )?;
            Ok(Exit::Error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Exit, run};
    use crate::cli::Cli;

    fn status(args: &[&str]) -> (Exit, String) {
        let cli = <Cli as clap::Parser>::try_parse_from(args);
        let Ok(cli) = cli else {
            return (Exit::Error, "the arguments did not parse".into());
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let exit = run(cli, &mut out, &mut err);
        (exit, String::from_utf8_lossy(&err).into_owned())
    }

    /// A wrong flag of `check` is found in the settings step: exit 2 with one error line and
    /// nothing read; an unknown rule name likewise; a listing is clean.
    #[test]
    fn usage_errors_end_in_status_2_with_one_error_line() {
        let (exit, err) = status(&["kmsaudit", "check", "--select", "KMS999", "fixtures/x"]);
        assert_eq!(exit, Exit::Error);
        assert_eq!(
            err,
            "kmsaudit: error: unknown rule `KMS999`: run `kmsaudit rules` to list them\n"
        );
        let (exit, err) = status(&["kmsaudit", "rule", "NOPE"]);
        assert_eq!(exit, Exit::Error);
        assert!(
            err.starts_with("kmsaudit: error: unknown rule `NOPE`"),
            "{err}"
        );
        assert_eq!(status(&["kmsaudit", "rules"]), (Exit::Clean, String::new()));
    }
}
