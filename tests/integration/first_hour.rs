//! A new user's first hour (issue 23): the
//! help on every one-line format, JUnit cases per rule found, the hook skipping files that are
//! not ours, and Region and partition names checked.

use super::run;

/// Issue 23 item 4: concise and GitHub lines carry the help (the "did you mean").
#[test]
fn issue_23_one_line_formats_carry_the_help() {
    for format in ["concise", "github"] {
        let (code, out, _) = run(
            &[
                "check",
                "-q",
                "--format",
                format,
                "fixtures/mistakes/three-mistakes.json",
            ],
            None,
        );
        assert_eq!(code, 1, "{out}");
        let line = out.lines().find(|l| l.contains("KMS010")).unwrap();
        assert!(
            line.ends_with("`kms:Decrpyt` matches no KMS action (did you mean `kms:Decrypt`?)"),
            "{format}: {line}"
        );
    }
}

/// Issue 23 item 4: JUnit has one case per rule that found something in a file, and one
/// passing case for a clean file; never one per possible rule.
#[test]
fn issue_23_junit_has_a_case_per_rule_found_per_file() {
    let (code, out, _) = run(
        &[
            "check",
            "-q",
            "--format",
            "junit",
            "fixtures/mistakes/three-mistakes.json",
            "fixtures/defaults/sdk-default.json",
        ],
        None,
    );
    assert_eq!(code, 1, "{out}");
    assert_eq!(out.matches("<testcase ").count(), 4, "{out}");
    assert!(
        out.contains("<testsuites name=\"kmsaudit\" tests=\"4\" failures=\"3\""),
        "{out}"
    );
    assert!(
        out.contains(
            "<testcase classname=\"fixtures/defaults/sdk-default.json\" name=\"kmsaudit\">"
        ),
        "{out}"
    );
}

/// Issue 23 item 5: with `--skip-unrecognised` (the pre-commit hook), a JSON-with-comments
/// settings file is skipped although it does not parse; a broken policy still fails, and
/// named without the flag the settings file is still reported.
#[test]
fn issue_23_hook_skips_a_jsonc_settings_file_but_not_a_broken_policy() {
    let settings = "fixtures/hook/.vscode/settings.json";
    let (code, out, err) = run(
        &[
            "check",
            "--skip-unrecognised",
            "--format",
            "concise",
            settings,
            "fixtures/rules/KMS005.json",
        ],
        None,
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(!out.contains("settings.json"), "{out}");
    assert!(out.contains("fixtures/rules/KMS005.json"), "{out}");
    assert!(err.contains("1 file skipped"), "{err}");

    let (code, out, _) = run(
        &[
            "check",
            "--skip-unrecognised",
            "--format",
            "concise",
            settings,
            "fixtures/parse-errors/trailing-comma.json",
        ],
        None,
    );
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("trailing-comma.json") && out.contains("KMS031"),
        "{out}"
    );
    assert!(!out.contains("settings.json"), "{out}");

    let (code, out, _) = run(&["check", "--format", "concise", settings], None);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("settings.json:2:5: KMS031"), "{out}");
}

/// Issue 23 item 7: a misspelt Region or partition in a policy's ARNs is a warning with the
/// nearest name; a Region shaped like one but newer than the build is a note.
#[test]
fn issue_23_kms073_checks_region_and_partition_names_in_arns() {
    let (code, out, _) = run(
        &[
            "check",
            "-q",
            "--format",
            "concise",
            "--select",
            "KMS073",
            "fixtures/rules/KMS073.json",
        ],
        None,
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "`aws-foo` in `arn:aws-foo:iam::444455556666:role/Partner` is not an AWS partition"
        ),
        "{out}"
    );
    assert!(out.contains("`eu-wset-1` in `arn:aws:kms:eu-wset-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab` is not an AWS Region: the ARN names nothing (did you mean `eu-west-1`?)"), "{out}");
    assert!(
        out.contains("Region `cn-north-1` is in partition `aws-cn`, not `aws`"),
        "{out}"
    );
    assert_eq!(out.lines().count(), 3, "{out}");

    let policy = br#"{"Version": "2012-10-17", "Statement": [{"Sid": "Future", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:eu-south-3:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}]}"#;
    let (code, out, _) = run(
        &["check", "-q", "--format", "json", "--select", "KMS073", "-"],
        Some(policy),
    );
    assert_eq!(code, 0, "a newer Region is a note: {out}");
    assert!(out.contains("\"severity\": \"info\""), "{out}");
    assert!(out.contains("taken as a newer Region"), "{out}");
}

/// Issue 23 item 7: Region, partition and ARN flags are checked too, with a warning on
/// standard error; the answer is the one the name as written gives.
#[test]
fn issue_23_region_flags_are_checked_and_the_answer_is_unchanged() {
    let key = "--key=arn:aws:kms:eu-wset-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let args = [
        "can",
        "--no-trace",
        "--principal",
        "arn:aws:iam::111122223333:role/TenantWorker",
        "--action",
        "kms:Decrypt",
        key,
        "--key-policy",
        "fixtures/examples/walkthrough/key-tenant-context.json",
        "--encryption-context",
        "tenant=c1",
    ];
    let (code, out, err) = run(&args, None);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("decision: allow"), "{out}");
    assert!(
        err.contains("warning: `--key arn:aws:kms:eu-wset-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab`: `eu-wset-1` is not an AWS Region: did you mean `eu-west-1`?"),
        "{err}"
    );

    let (code, _, err) = run(
        &[
            "check",
            "-q",
            "--region",
            "eu-south-3",
            "--partition",
            "aws-foo",
            "fixtures/defaults/sdk-default.json",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("note: `--region eu-south-3`: `eu-south-3` is not a Region this build of kmsaudit knows: taken as a newer Region"), "{err}");
    assert!(
        err.contains("warning: `--partition aws-foo`: `aws-foo` is not an AWS partition"),
        "{err}"
    );
}
