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
