//! kmsaudit.toml, suppressions, severities and baselines; fingerprints that do not depend on
//! the input's format or layout.

use super::run;

const PUBLIC: &str = "fixtures/rules/KMS005.json";

fn codes(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|rest| rest.split(' ').next().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn a_suppression_with_a_reason_silences_exactly_its_finding() {
    let (code, out, err) = run(&["check", "--format", "concise", PUBLIC], None);
    assert_eq!(code, 1);
    assert_eq!(out.matches(": KMS005 ").count(), 2, "{out}");
    let (code, out, err2) = run(
        &[
            "check",
            "--format",
            "concise",
            "--config",
            "fixtures/config/suppress.toml",
            PUBLIC,
        ],
        None,
    );
    assert_eq!(code, 1, "the other public statement still fails: {out}");
    assert_eq!(out.matches(": KMS005 ").count(), 1, "{out}");
    assert!(
        out.contains("kms:DescribeKey") && !out.contains("kms:Decrypt"),
        "{out}"
    );
    assert!(err2.contains("1 suppressed"), "{err}{err2}");
}

#[test]
fn an_expired_suppression_is_reported_and_no_longer_suppresses() {
    let (code, out, _) = run(
        &[
            "check",
            "--format",
            "concise",
            "--config",
            "fixtures/config/expired.toml",
            PUBLIC,
        ],
        None,
    );
    assert_eq!(code, 1);
    assert!(out.contains("fixtures/config/expired.toml:1:1: KMS061 the suppression of KMS005 expired on 2020-01-31"), "{out}");
    assert_eq!(out.matches(": KMS005 ").count(), 2, "{out}");
}

#[test]
fn an_unknown_configuration_key_is_an_error_with_its_line_and_column() {
    let (code, out, _) = run(
        &[
            "check",
            "--format",
            "concise",
            "--config",
            "fixtures/config/unknown-key.toml",
            PUBLIC,
        ],
        None,
    );
    assert_eq!(code, 2);
    assert!(out.contains("fixtures/config/unknown-key.toml:3:1: KMS060 invalid configuration: unknown field `ignored`"), "{out}");
    // The rest is still checked.
    assert!(out.contains("KMS005"), "{out}");
}

#[test]
fn severities_ignores_and_the_deletion_window_come_from_the_configuration() {
    let f = "fixtures/rules/KMS057.bad.json";
    let (_, out, _) = run(
        &[
            "check",
            "--format",
            "concise",
            "--config",
            "fixtures/config/severity.toml",
            "--fail-on",
            "warning",
            f,
        ],
        None,
    );
    assert!(codes(&out).contains(&"KMS057".to_owned()), "{out}");
    let (code, _, _) = run(
        &[
            "check",
            "-q",
            "--config",
            "fixtures/config/severity.toml",
            "--fail-on",
            "warning",
            f,
        ],
        None,
    );
    assert_eq!(code, 1, "KMS057 raised to warning fails the run");
    let (code, _, _) = run(
        &["check", "-q", "--no-config", "--fail-on", "warning", f],
        None,
    );
    assert_eq!(code, 0, "KMS057 is info by default");
    // min_deletion_window = 7 accepts the 7-day window.
    let (_, out, _) = run(
        &[
            "check",
            "--format",
            "concise",
            "--config",
            "fixtures/config/severity.toml",
            "fixtures/rules/KMS058.bad.json",
        ],
        None,
    );
    assert!(!out.contains("KMS058"), "{out}");
}

#[test]
fn a_baseline_run_fails_only_on_new_findings() {
    let dir = std::env::temp_dir().join(format!("kmsaudit-baseline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (baseline, policy) = (dir.join("baseline.json"), dir.join("key-policy.json"));
    let (b, p) = (baseline.to_str().unwrap(), policy.to_str().unwrap());
    let original = std::fs::read_to_string(super::root().join(PUBLIC)).unwrap();
    std::fs::write(&policy, &original).unwrap();
    let (code, _, err) = run(&["check", "--write-baseline", b, p], None);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(&["check", "--format", "concise", "--baseline", b, p], None);
    assert_eq!(code, 0, "everything is in the baseline: {out}");
    assert!(
        out.is_empty() && err.contains("2 in the baseline"),
        "{out}{err}"
    );
    // A new public statement, and the old ones moved down a line: only the new one fails.
    let changed = original.replace(
        "  {\"Sid\": \"GoodRoot\"",
        "  {\"Sid\": \"BadNew\", \"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"kms:Encrypt\", \"Resource\": \"*\"},\n  {\"Sid\": \"GoodRoot\"",
    );
    assert_ne!(changed, original);
    std::fs::write(&policy, &changed).unwrap();
    let (code, out, _) = run(&["check", "--format", "concise", "--baseline", b, p], None);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.contains(" KMS005 ") && out.contains("kms:Encrypt"),
        "{out}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_same_finding_has_the_same_fingerprint_in_cli_output_and_terraform_state() {
    let fp = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["check", "-q", "--format", "json"];
        a.extend(args);
        let (_, out, _) = run(&a, None);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == "KMS005")
            .map(|f| f["fingerprint"].as_str().unwrap().to_owned())
            .collect()
    };
    let cli = fp(&[
        "fixtures/fingerprint/get-key-policy.json",
        "fixtures/fingerprint/describe-key.json",
    ]);
    let state = fp(&["fixtures/fingerprint/state.json"]);
    assert_eq!(cli.len(), 1);
    assert_eq!(cli, state);
}

#[test]
fn principals_outside_the_configured_admins_who_can_change_the_key_are_reported() {
    let (_, out, _) = run(
        &[
            "check",
            "--format",
            "concise",
            "--select",
            "KMS053",
            "--config",
            "fixtures/config/admins.toml",
            "fixtures/rules/KMS054.json",
        ],
        None,
    );
    assert!(
        out.contains(
            "`arn:aws:iam::111122223333:role/Ops` is not among the configured key administrators"
        ),
        "{out}"
    );
    assert!(!out.contains("role/KeyAdmin"), "{out}");
    let (_, out, _) = run(
        &[
            "check",
            "--format",
            "concise",
            "--select",
            "KMS053",
            "--no-config",
            "fixtures/rules/KMS054.json",
        ],
        None,
    );
    assert!(!out.contains("configured key administrators"), "{out}");
}

/// An `expires` that is no day of the calendar (30 February, month 13) is an invalid
/// configuration, never a suppression that applies; 29 February of a leap year is a day.
#[test]
fn a_suppression_expiring_on_no_calendar_day_is_refused() {
    let dir = std::env::temp_dir().join(format!("kmsaudit-expires-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (date, valid) in [
        ("2027-02-30", false),
        ("2027-13-01", false),
        ("2027-04-31", false),
        ("2027-00-10", false),
        ("2100-02-29", false),
        ("2028-02-29", true),
        ("2027-12-31", true),
    ] {
        let path = dir.join("kmsaudit.toml");
        std::fs::write(
            &path,
            format!("[[suppress]]\nrule = \"KMS005\"\nkey = \"{PUBLIC}\"\nreason = \"accepted\"\nexpires = \"{date}\"\n"),
        )
        .unwrap();
        let (code, out, _) = run(
            &[
                "check",
                "--format",
                "concise",
                "--config",
                path.to_str().unwrap(),
                PUBLIC,
            ],
            None,
        );
        let refused = out.contains(&format!("KMS060 `{date}` is not a date"));
        assert_eq!(refused, !valid, "{date}: {out}");
        if !valid {
            assert_eq!(code, 2, "{date}");
            assert!(
                out.contains(": KMS005 "),
                "{date}: the findings are still reported: {out}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
