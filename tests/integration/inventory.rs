//! Real inputs: AWS CLI outputs, authorization details and Organizations trees, tied into one
//! inventory that `check` and `can` use.

use super::{fixture, run};

fn corpus_files() -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for d in [
        "corpus/aws-cli",
        "corpus/authz-details",
        "corpus/key-policy",
    ] {
        for e in std::fs::read_dir(fixture(d)).unwrap() {
            out.push(e.unwrap().path());
        }
    }
    out.sort();
    out
}

#[test]
fn every_real_input_loads_or_says_why_not() {
    let files = corpus_files();
    assert!(files.len() >= 40);
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let (code, out, err) = run(
            &["check", "--format", "concise", "-q", f.to_str().unwrap()],
            None,
        );
        match name.as_str() {
            // Genuinely broken: an unterminated string, and a statement without its policy.
            "awsdocs-list-grants-parent-grant-malformed.json" => {
                assert_eq!(code, 2);
                assert!(out.contains("KMS031 string is not closed"), "{out}");
            }
            "awsdocs-cloudtrail-statement-fragment.json" => {
                assert_eq!(code, 2);
                assert!(out.contains("KMS046 this is a single statement"), "{out}");
            }
            _ => assert!(code == 0 || code == 1, "{name}: exit {code}\n{out}{err}"),
        }
    }
}

#[test]
fn detection_and_its_override() {
    let f = "fixtures/corpus/aws-cli/botocore-list-grants-acm-truncated.json";
    // Paginated output warns that data may be incomplete.
    let (code, out, _) = run(&["check", "--format", "concise", "-q", f], None);
    assert_eq!(code, 1);
    assert!(
        out.contains("KMS048 this output is one page of several"),
        "{out}"
    );
    // An Organizations tree is not mistaken for authorization details (both have `Policies`).
    let (code, out, _) = run(
        &[
            "check",
            "--format",
            "json",
            "-q",
            "fixtures/corpus/authz-details/iamspy-scp-org-tree.json",
        ],
        None,
    );
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["policies"], 3);
    // `--input-kind` overrides detection; a wrong one is a clear error.
    let (code, _, err) = run(&["check", "--input-kind", "banana", f], None);
    assert_eq!(code, 2);
    assert!(err.contains("use one of policy, encoded-policy"), "{err}");
    let (code, out, _) = run(
        &[
            "check",
            "--format",
            "concise",
            "-q",
            "--input-kind",
            "describe-key",
            f,
        ],
        None,
    );
    assert_eq!(code, 2);
    assert!(out.contains("KMS050"), "{out}");
    // Unrecognised JSON names what it looked like and what is accepted.
    let (code, out, _) = run(
        &[
            "check",
            "--format",
            "json",
            "-q",
            "fixtures/parse-errors/not-a-policy.json",
        ],
        None,
    );
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        v["findings"][0]["help"]
            .as_str()
            .unwrap()
            .contains("get-account-authorization-details"),
        "{out}"
    );
}

#[test]
fn unknown_plan_versions_and_bad_yaml_are_refused_not_passed() {
    // Never fail open: an input kmsaudit cannot read yet is an error, not a clean pass.
    std::fs::create_dir_all(std::env::temp_dir().join("kmsaudit-tests")).unwrap();
    let plan = std::env::temp_dir().join("kmsaudit-tests/plan.json");
    std::fs::write(
        &plan,
        r#"{"format_version": "2.0", "resource_changes": []}"#,
    )
    .unwrap();
    let (code, out, _) = run(
        &["check", "--format", "concise", "-q", plan.to_str().unwrap()],
        None,
    );
    assert_eq!(code, 2);
    assert!(
        out.contains("KMS050 Terraform JSON `format_version` \"2.0\" is not one kmsaudit reads"),
        "{out}"
    );
    // Invalid YAML in a template is a clear error with its place.
    let yaml = std::env::temp_dir().join("kmsaudit-tests/template.yaml");
    std::fs::write(
        &yaml,
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Key:\n    Type: [AWS::KMS::Key\n",
    )
    .unwrap();
    let (code, out, _) = run(
        &["check", "--format", "concise", "-q", yaml.to_str().unwrap()],
        None,
    );
    assert_eq!(code, 2);
    assert!(out.contains("KMS050 invalid YAML"), "{out}");
}

/// A small account: authorization details and the `aws kms` outputs for its key.
const ACCOUNT_FILES: [&str; 4] = [
    "fixtures/inventory/authorization-details.json",
    "fixtures/inventory/get-key-policy.json",
    "fixtures/inventory/describe-key.json",
    "fixtures/inventory/list-aliases.json",
];

fn can_json(extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["can", "--format", "json"];
    args.extend_from_slice(extra);
    args.extend(ACCOUNT_FILES);
    let (code, out, err) = run(&args, None);
    assert_eq!(code, 0, "{out}{err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn e1_from_authorization_details_and_get_key_policy() {
    // A user's group policy (URL-encoded, as the IAM API returns it) through root delegation.
    let v = can_json(&[
        "--principal",
        "arn:aws:iam::111122223333:user/Alice",
        "--action",
        "kms:Decrypt",
        "--key",
        "alias/finance-key",
    ]);
    assert_eq!(v["decision"], "allow");
    assert_eq!(v["path"], "root delegation + IAM");
    assert_eq!(
        v["deciding"],
        serde_json::json!([
            "get-key-policy.json#Enable IAM User Permissions",
            "authorization-details.json › group/Devs › kms-use#UseFinanceKey"
        ])
    );
    // The trace names the outer file and the position of the statement inside the string.
    let step = v["trace"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "key policy (Allow)")
        .unwrap();
    assert_eq!(
        step["statements"][0]["location"],
        "fixtures/inventory/get-key-policy.json:2:105"
    );
    // Not in the group's policy: denied, with the reason.
    let v = can_json(&[
        "--principal",
        "arn:aws:iam::111122223333:user/Alice",
        "--action",
        "kms:ScheduleKeyDeletion",
        "--key",
        "1234abcd-12ab-34cd-56ef-1234567890ab",
    ]);
    assert_eq!(v["decision"], "implicit-deny");
}

#[test]
fn a_roles_managed_policy_default_version_path_and_boundary() {
    // The session's role path (/team/) comes from the inventory; v2 is the default version.
    let v = can_json(&[
        "--principal",
        "arn:aws:sts::111122223333:assumed-role/TeamApp/i-1",
        "--action",
        "kms:Encrypt",
        "--key",
        "alias/finance-key",
    ]);
    assert_eq!(v["decision"], "allow");
    assert!(
        v["deciding"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d == "authorization-details.json › policy/finance-key-use#UseFinanceKey"),
        "{v}"
    );
    assert!(v["notes"].as_array().unwrap().is_empty(), "{v}");
    // v1 (not the default) allowed DescribeKey; v2 does not.
    let v = can_json(&[
        "--principal",
        "arn:aws:sts::111122223333:assumed-role/TeamApp/i-1",
        "--action",
        "kms:DescribeKey",
        "--key",
        "alias/finance-key",
    ]);
    assert_eq!(v["decision"], "implicit-deny");
}

#[test]
fn a_missing_aws_managed_policy_body_comes_from_the_snapshot() {
    // The dump does not hold `AdministratorAccess` (issue 21): the embedded snapshot does.
    let v = can_json(&[
        "--principal",
        "arn:aws:iam::111122223333:user/Carol",
        "--action",
        "kms:Decrypt",
        "--key",
        "alias/finance-key",
    ]);
    assert_eq!(v["decision"], "allow", "{v}");
    assert!(
        v["deciding"].as_array().unwrap().iter().any(|d| d
            .as_str()
            .unwrap()
            .starts_with("aws-managed:AdministratorAccess (snapshot ")),
        "{v}"
    );
}

#[test]
fn scp_levels_come_from_an_organizations_tree() {
    let tree = "fixtures/corpus/authz-details/iamspy-scp-org-tree.json";
    let kp = "fixtures/cases/policies/F1.json";
    let ask = |acct: &str| {
        let key = format!("arn:aws:kms:us-east-1:{acct}:key/1234abcd-12ab-34cd-56ef-1234567890ab");
        let (code, out, err) = run(
            &[
                "can",
                "--format",
                "json",
                "--principal",
                acct,
                "--action",
                "kms:Decrypt",
                "--key",
                &key,
                "--key-policy",
                kp,
                tree,
            ],
            None,
        );
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["decision"].as_str().unwrap().to_owned()
    };
    // 123456789012 sits under the root with FullAWSAccess: its root user may use its key…
    let k = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let (_, out, _) = run(
        &[
            "can",
            "--format",
            "json",
            "--principal",
            "123456789012",
            "--action",
            "kms:Decrypt",
            "--key",
            k,
            "--key-policy",
            "fixtures/inventory/acct-123456789012-default.json",
            tree,
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["decision"], "allow", "{out}");
    // …while 023456789012 is the management account, which SCPs do not affect (R48): its
    // BlockAWSAccess SCP does not apply. The key policy (F1) names another account, so the
    // answer is an implicit deny from the key policy, not the SCP.
    assert_eq!(ask("023456789012"), "implicit-deny");
}

#[test]
fn an_scp_in_an_ou_denies_a_member_account() {
    let k1 = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let ask = |action: &str| {
        let (code, out, err) = run(
            &[
                "can",
                "--format",
                "json",
                "--principal",
                "arn:aws:iam::111122223333:user/Alice",
                "--action",
                action,
                "--key",
                k1,
                "--key-policy",
                "fixtures/cases/policies/F1.json",
                "--identity-policy",
                "fixtures/cases/policies/I2.json",
                "fixtures/inventory/organizations-tree.json",
            ],
            None,
        );
        assert_eq!(code, 0, "{err}");
        serde_json::from_str::<serde_json::Value>(&out).unwrap()
    };
    let v = ask("kms:ScheduleKeyDeletion");
    assert_eq!(v["decision"], "explicit-deny");
    assert_eq!(
        v["deciding"],
        serde_json::json!([
            "organizations-tree.json › ou-ab12-workloads › ProtectKeys#NoKeyDeletion"
        ])
    );
    assert_eq!(ask("kms:Decrypt")["decision"], "allow");
}

#[test]
fn can_refuses_inputs_over_its_size_cap_and_the_flag_raises_it() {
    // R122 inputs can be organisation-sized: `can` has the same cap and flag as `check`.
    let mut args = vec![
        "can",
        "--format",
        "json",
        "--principal",
        "arn:aws:iam::111122223333:user/Alice",
        "--action",
        "kms:Decrypt",
        "--key",
        "alias/finance-key",
        "--max-file-size",
        "100",
    ];
    args.extend(ACCOUNT_FILES);
    let (code, out, err) = run(&args, None);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("KMS033"), "{err}");
    assert!(err.contains("authorization-details.json"), "{err}");
    // A grants file over the cap (here 1,118 bytes against 1,000; the SDK default key policy
    // is under it) is refused the same way, before it is read.
    let (code, _, err) = run(
        &[
            "can",
            "--principal",
            "arn:aws:iam::111122223333:role/App",
            "--action",
            "kms:Decrypt",
            "--key",
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "--key-policy",
            "fixtures/defaults/sdk-default.json",
            "--grants",
            "fixtures/can/grants.json",
            "--max-file-size",
            "1000",
        ],
        None,
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("grants.json:1:1: KMS033"), "{err}");
    // Raised above the files' sizes, the same question is answered.
    let v = can_json(&[
        "--max-file-size",
        "1000000",
        "--principal",
        "arn:aws:iam::111122223333:user/Alice",
        "--action",
        "kms:Decrypt",
        "--key",
        "alias/finance-key",
    ]);
    assert_eq!(v["decision"], "allow");
}
