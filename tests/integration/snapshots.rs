//! What users read on a terminal: the human report at a fixed width, without colour.

use super::run;

fn human(path: &str) -> String {
    use std::process::Command;
    let out = Command::new(env!("CARGO_BIN_EXE_kmsaudit"))
        .args(["check", "--format", "human", path])
        .current_dir(super::root())
        .env("NO_COLOR", "1")
        .env("COLUMNS", "90")
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn three_mistakes_human() {
    insta::assert_snapshot!(human("fixtures/mistakes/three-mistakes.json"));
}

#[test]
fn not_json_human() {
    insta::assert_snapshot!(human("fixtures/mistakes/not-json.json"));
}

#[test]
fn embedded_policy_human() {
    insta::assert_snapshot!(human(
        "fixtures/parse-errors/get-key-policy-broken-string.json"
    ));
}

#[test]
fn rules_fixture_human() {
    insta::assert_snapshot!(human("fixtures/rules/KMS008.json"));
    let _ = run;
}

/// Every rule's finding as users read it: the human report of its Bad fixture, that rule only.
#[test]
fn every_rule_renders_its_finding() {
    use std::process::Command;
    let mut files: Vec<_> = std::fs::read_dir(super::fixture("rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_string_lossy().contains(".good."))
        .collect();
    files.sort();
    let mut n = 0;
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let code = &name[..6];
        let rel = format!("fixtures/rules/{name}");
        let mut args = vec!["check", "--format", "human", "--select", code];
        if name.contains(".identity.") {
            args.extend(["--policy-kind", "identity"]);
        }
        args.push(&rel);
        let out = Command::new(env!("CARGO_BIN_EXE_kmsaudit"))
            .args(&args)
            .current_dir(super::root())
            .env("NO_COLOR", "1")
            .env("COLUMNS", "100")
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(code), "{name}: no {code} finding rendered");
        insta::assert_snapshot!(format!("rule_{code}"), text);
        n += 1;
    }
    assert!(n >= 50, "{n}");
}
