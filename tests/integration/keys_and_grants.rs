//! `kmsaudit can` on grants, second keys, the root user, the key manager and policy versions
//! (spec v2), as users run it.

use super::run;

const K1: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const ROOT: &str = "arn:aws:iam::111122223333:root";

/// The decision of `can --format json` with `args`, and the whole answer.
fn decide(args: &[&str]) -> (String, serde_json::Value) {
    let mut all = vec!["can", "--format", "json"];
    all.extend_from_slice(args);
    let (code, out, err) = run(&all, None);
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    (v["decision"].as_str().unwrap().to_owned(), v)
}

// ---- R11: a Version AWS does not accept ----

#[test]
fn r11_invalid_version_is_a_check_finding_and_undetermined_in_can() {
    let (code, out, _) = run(
        &["check", "fixtures/can/key-policy-version-typo.json"],
        None,
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("KMS038"), "{out}");
    assert!(
        out.contains("`2012-10-18` is not a policy language version"),
        "{out}"
    );
    let (d, v) = decide(&[
        "--principal",
        ROOT,
        "--action",
        "kms:Decrypt",
        "--key",
        K1,
        "--key-policy",
        "fixtures/can/key-policy-version-typo.json",
    ]);
    assert_eq!(d, "undetermined", "{v}");
    let unknowns = v["unknowns"].to_string();
    assert!(unknowns.contains("Version"), "{v}");
}

// ---- `can --requests` without `--key` ----

#[test]
fn requests_without_key_use_the_given_key_policy_for_every_key() {
    let (code, out, err) = run(
        &[
            "can",
            "--requests",
            "fixtures/can/requests-keys.jsonl",
            "--key-policy",
            "fixtures/cases/policies/F5.json",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{out}");
    for l in &lines {
        assert_eq!(l["expect_met"], true, "{l}");
    }
}
