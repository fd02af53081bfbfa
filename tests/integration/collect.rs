//! Issue 23 item 2: `scripts/collect-account.sh` against a fake `aws` replaying recorded
//! outputs, and kmsaudit reading the directory it writes (pairing each key's outputs by the
//! directory layout, aliases by `list-aliases` alone).

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use super::{fixture, root, run};

const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/// Runs the collect script with the fake `aws` first on `PATH`; returns the directory.
fn collect(name: &str) -> PathBuf {
    let out = std::env::temp_dir().join(format!("kmsaudit-collect-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let path = format!(
        "{}:{}",
        fixture("collect/bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let status = Command::new("sh")
        .arg(root().join("scripts/collect-account.sh"))
        .arg(&out)
        .arg("us-east-1")
        .env("PATH", path)
        .status()
        .unwrap();
    assert!(status.success());
    assert!(
        out.join("keys/us-east-1/1234abcd-12ab-34cd-56ef-1234567890ab/get-key-policy.json")
            .is_file()
    );
    out
}

fn rows(v: &Value) -> Vec<(String, String)> {
    let mut r: Vec<(String, String)> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["principal"].as_str().unwrap().to_owned(),
                r["decision"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    r.sort();
    r
}

fn json(args: &[&str]) -> Value {
    let (code, out, err) = run(args, None);
    assert_eq!(code, 0, "{args:?}\n{out}\n{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// The collected directory answers `who-can … --key alias/app-data DIR` as the same key's
/// files given one by one do, although the directory holds two keys' `get-key-policy`
/// outputs, neither naming its key.
#[test]
fn who_can_on_a_collected_account_directory_by_alias() {
    let dir = collect("who-can");
    let d = dir.display().to_string();
    let got = json(&[
        "who-can",
        "--action",
        "kms:Decrypt",
        "--key",
        "alias/app-data",
        "--format",
        "json",
        &d,
    ]);
    assert_eq!(got["key"], KEY, "{got}");
    let files: Vec<String> = [
        "authorization-details.json",
        "describe-key.json",
        "get-key-policy.json",
        "list-grants.json",
    ]
    .iter()
    .map(|f| fixture(&format!("graph/org/{f}")).display().to_string())
    .collect();
    let mut args = vec![
        "who-can",
        "--action",
        "kms:Decrypt",
        "--key",
        KEY,
        "--format",
        "json",
    ];
    args.extend(files.iter().map(String::as_str));
    let want = json(&args);
    assert!(!rows(&want).is_empty());
    assert_eq!(rows(&got), rows(&want));
    // The other key has the default key policy: only the account (root delegation) and the
    // principals whose IAM allows, not the first key's partner account.
    let other = json(&[
        "who-can",
        "--action",
        "kms:Decrypt",
        "--key",
        "alias/other-data",
        "--format",
        "json",
        &d,
    ]);
    let principals: Vec<String> = rows(&other).into_iter().map(|(p, _)| p).collect();
    assert!(
        !principals.iter().any(|p| p.contains("444455556666")),
        "{other}"
    );
    assert!(principals.iter().any(|p| p.ends_with(":root")), "{other}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `can` and `check` take the directory too.
#[test]
fn can_and_check_read_a_collected_directory() {
    let dir = collect("can");
    let d = dir.display().to_string();
    let v = json(&[
        "can",
        "--principal",
        "arn:aws:iam::111122223333:role/Admin",
        "--action",
        "kms:Decrypt",
        "--key",
        "alias/app-data",
        "--format",
        "json",
        &d,
    ]);
    assert_eq!(v["decision"], "allow", "{v}");
    let (code, out, err) = run(&["check", "--format", "concise", &d], None);
    assert!(code == 0 || code == 1, "{out}\n{err}");
    assert!(err.contains("files checked"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
