//! The command-level targets: each input becomes files in a scratch directory and a command
//! line, run through `kmsaudit::app::run` as the binary runs it (the same entry point, with
//! the output captured), then checked: exit status 0, 1 or 2, no panic on any thread, and
//! output that parses in its format (`formats`).
//!
//! - `can`, `graph`, `report`: structure-aware (`generate`): the input is a tape of choices.
//! - `config`: mutated bytes as `kmsaudit.toml` (`check --config`).
//! - `baseline`: mutated bytes as a baseline (`check --baseline`), seeded with baselines
//!   `check --write-baseline` writes at start-up; a run also writes one back and reads it
//!   again.

use std::path::{Path, PathBuf};

use clap::Parser as _;

use crate::formats;
use crate::generate::{self, ByteTape, Case};

pub const TARGETS: [&str; 5] = ["can", "graph", "report", "config", "baseline"];

/// Whether a target's input is a tape of choices rather than a file's bytes.
pub fn structured(target: &str) -> bool {
    matches!(target, "can" | "graph" | "report")
}

/// The case an input stands for (also used by `replay` to print it).
pub fn case_of(target: &str, bytes: &[u8]) -> Option<Case> {
    let mut t = ByteTape::new(bytes);
    let case = match target {
        "can" => generate::can(&mut t),
        "graph" => generate::graph(&mut t),
        "report" => generate::report(&mut t),
        "config" => Case {
            files: vec![
                ("kmsaudit.toml".into(), bytes.to_vec()),
                ("policy.json".into(), POLICY.as_bytes().to_vec()),
            ],
            args: [
                "check",
                "--format",
                "json",
                "--config",
                "@kmsaudit.toml",
                "@policy.json",
            ]
            .map(String::from)
            .to_vec(),
            format: "json",
        },
        "baseline" => Case {
            files: vec![
                ("baseline.json".into(), bytes.to_vec()),
                ("policy.json".into(), POLICY.as_bytes().to_vec()),
            ],
            args: [
                "check",
                "--no-config",
                "--format",
                "sarif",
                "--baseline",
                "@baseline.json",
                "@policy.json",
            ]
            .map(String::from)
            .to_vec(),
            format: "sarif",
        },
        _ => return None,
    };
    Some(case)
}

/// A key policy with findings of several rules, for the config and baseline targets.
const POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Sid1", "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"},
    {"Sid": "Allow use", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
     "Action": ["kms:Decrypt", "kms:CreateGrant"], "Resource": "*",
     "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}},
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}
  ]
}"#;

fn path_in(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

/// Writes the case's files into `dir` and returns its command line.
pub fn materialise(case: &Case, dir: &Path) -> Vec<String> {
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::create_dir_all(dir);
    let dir_text = dir.display().to_string();
    for (name, bytes) in &case.files {
        let text = String::from_utf8_lossy(bytes);
        let bytes = if text.contains("@DIR@") {
            text.replace("@DIR@", &dir_text).into_bytes()
        } else {
            bytes.clone()
        };
        let _ = std::fs::write(dir.join(name), bytes);
    }
    let mut argv = vec!["kmsaudit".to_owned()];
    argv.extend(case.args.iter().map(|a| match a.strip_prefix('@') {
        Some(name) => path_in(dir, name),
        None => a.clone(),
    }));
    argv
}

/// Runs one input of a command-level target in `scratch`; a broken property panics (the
/// driver catches it and keeps the input).
pub fn run_one(target: &str, bytes: &[u8], scratch: &Path) {
    let Some(case) = case_of(target, bytes) else {
        return;
    };
    let argv = materialise(&case, scratch);
    let cli = match kmsaudit::cli::Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(e) => panic!("the generator made a command line the CLI refuses: {e}\n{argv:?}"),
    };
    let mut out = Vec::new();
    let mut err = Vec::new();
    // Writing to memory cannot fail: an I/O error would show as status 2 with its message.
    let code = kmsaudit::app::run(cli, &mut out, &mut err).code();
    let out = String::from_utf8_lossy(&out);
    let err = String::from_utf8_lossy(&err);
    assert!(code <= 2, "exit {code}: {argv:?}\n{err}");
    if let Some(line) = formats::forged(&err) {
        panic!("a value started a line of its own on stderr: {line:?}\n{argv:?}");
    }
    // An input error (status 2) may print no report; whatever is printed must parse.
    if !(code == 2 && out.trim().is_empty()) {
        if let Some(p) = formats::problem(case.format, &out) {
            panic!("{} output: {p}\n{argv:?}\n{out}", case.format);
        }
    }
    if target == "can" && case.format == "json" && code != 2 {
        // The untraced engine decides as the traced one does.
        let traced: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        let mut argv2 = argv.clone();
        argv2.push("--no-trace".into());
        if let Ok(cli) = kmsaudit::cli::Cli::try_parse_from(&argv2) {
            let mut out2 = Vec::new();
            let _ = kmsaudit::app::run(cli, &mut out2, &mut Vec::new());
            let fast: serde_json::Value = serde_json::from_slice(&out2).unwrap_or_default();
            assert_eq!(
                traced["decision"], fast["decision"],
                "--no-trace changes the decision: {argv:?}"
            );
        }
    }
    if target == "baseline" && code != 2 {
        // The baseline written over this one (the report is not printed then) reads back.
        let written = path_in(scratch, "written.json");
        let policy = path_in(scratch, "policy.json");
        let baseline = path_in(scratch, "baseline.json");
        let write = [
            "kmsaudit",
            "check",
            "--no-config",
            "--baseline",
            &baseline,
            "--write-baseline",
            &written,
            &policy,
        ];
        let read = [
            "kmsaudit",
            "check",
            "--no-config",
            "--format",
            "json",
            "--baseline",
            &written,
            &policy,
        ];
        for argv in [&write, &read] {
            if let Ok(cli) = kmsaudit::cli::Cli::try_parse_from(argv) {
                let mut err = Vec::new();
                let code = kmsaudit::app::run(cli, &mut Vec::new(), &mut err).code();
                assert!(
                    code < 2,
                    "exit {code} on {argv:?} (a written baseline must read back): {}",
                    String::from_utf8_lossy(&err)
                );
            }
        }
    }
}

/// Baselines as `check --write-baseline` writes them, to seed the `baseline` target.
pub fn baseline_seeds(scratch: &Path, fixtures: &[PathBuf]) -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for (i, f) in fixtures.iter().enumerate() {
        let out = scratch.join(format!("seed-baseline-{i}.json"));
        let argv = [
            "kmsaudit".to_owned(),
            "check".into(),
            "--no-config".into(),
            "--format".into(),
            "json".into(),
            "--write-baseline".into(),
            out.display().to_string(),
            f.display().to_string(),
        ];
        if let Ok(cli) = kmsaudit::cli::Cli::try_parse_from(argv) {
            let _ = kmsaudit::app::run(cli, &mut Vec::new(), &mut Vec::new());
        }
        if let Ok(b) = std::fs::read(&out) {
            seeds.push(b);
        }
    }
    seeds
}
