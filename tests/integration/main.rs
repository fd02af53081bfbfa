//! The integration test binary: what users see, on fixtures they would recognise.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod adversary;
mod can;
mod cases;
mod cli;
mod cloudformation;
mod collect;
mod config;
mod cost;
mod diff;
mod docs;
mod engine;
mod first_hour;
mod formats;
mod graph;
mod hostile;
mod inventory;
mod keys_and_grants;
mod layering;
mod limits;
mod lockout;
mod managed;
mod parse_errors;
mod properties;
mod request_keys;
mod robustness;
mod rule_fixtures;
mod security_rules;
mod snapshots;
mod soundness;
mod terraform;
mod tf_world;
mod walkthrough;

use std::path::{Path, PathBuf};

use kmsaudit::input::{self, InputName, InputOptions, LoadedPolicy};
use kmsaudit::inventory::Inventory;
use kmsaudit::lint::{self, Finding, LintContext};
use kmsaudit::policy::PolicyKind;
use kmsaudit::source::SourceMap;

/// The project root.
pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture path.
pub(crate) fn fixture(rel: &str) -> PathBuf {
    root().join("fixtures").join(rel)
}

/// Everything `check` computes for one file, through the library.
#[derive(Debug)]
pub(crate) struct Checked {
    pub(crate) sources: SourceMap,
    pub(crate) policies: Vec<LoadedPolicy>,
    pub(crate) findings: Vec<Finding>,
}

pub(crate) fn check_file(path: &Path, kind: Option<PolicyKind>) -> Checked {
    let mut sources = SourceMap::new();
    let opts = InputOptions {
        policy_kind: kind,
        ..InputOptions::default()
    };
    let mut loaded = input::load(&InputName::Path(path.to_path_buf()), &opts, &mut sources);
    let mut findings = std::mem::take(&mut loaded.findings);
    for p in &loaded.policies {
        let src = sources.get(p.doc.source).unwrap();
        let cx = LintContext {
            doc: &p.doc,
            source: src,
            problems: &p.problems,
        };
        lint::check_document(&cx, &mut findings);
    }
    // The key-level rules, as `check` runs them.
    let policies = loaded.policies.clone();
    let (this_input, shared) = kmsaudit::inventory::split_for_keys(loaded);
    let config = lint::Config::default();
    lint::check_declared(&this_input, &config, &mut findings);
    lint::check_grants(&this_input, &config, &mut findings);
    let pending = lint::keys_to_check(&this_input);
    let mut inventory = Inventory::new();
    inventory.add(&path.display().to_string(), shared);
    lint::check_keys(
        pending,
        &inventory,
        &sources,
        None,
        None,
        &config,
        &mut findings,
    );
    Checked {
        sources,
        policies,
        findings,
    }
}

/// Runs the binary.
pub(crate) fn run(args: &[&str], stdin: Option<&[u8]>) -> (i32, String, String) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kmsaudit"));
    cmd.args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(data) = stdin {
        let mut si = child.stdin.take().unwrap();
        // The child may stop reading early (size cap): ignore a broken pipe.
        let _ = si.write_all(data);
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
