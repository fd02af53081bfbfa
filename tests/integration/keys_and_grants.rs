//! `kmsaudit can` on grants, second keys, the root user, the key manager and policy versions
//! (spec v2: R3, R11, R58, R60, R62, R71, R73, R75, R79), as users run it.

use super::run;

const K1: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const K2: &str = "arn:aws:kms:us-east-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321";
const KR1: &str = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab";
const KR2: &str = "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab";
const APP: &str = "arn:aws:sts::111122223333:assumed-role/App/s1";
/// A role session that no key policy here names.
const WORKER: &str = "arn:aws:sts::111122223333:assumed-role/Worker/s1";
const ALICE: &str = "arn:aws:iam::111122223333:user/Alice";
const ROOT: &str = "arn:aws:iam::111122223333:root";
const F1: &str = "fixtures/cases/policies/F1.json";
/// Names App for use and Admin for administration; no root delegation.
const F2: &str = "fixtures/cases/policies/F2.json";

/// The decision of `can --format json` with `args`, and the whole answer.
fn decide(args: &[&str]) -> (String, serde_json::Value) {
    let mut all = vec!["can", "--format", "json"];
    all.extend_from_slice(args);
    let (code, out, err) = run(&all, None);
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    (v["decision"].as_str().unwrap().to_owned(), v)
}

// ---- R79: a grant belongs to one key, by full ARN ----

#[test]
fn r79_grant_on_us_east_1_copy_gives_nothing_on_eu_west_1_replica() {
    let args = |key| {
        [
            "--principal",
            APP,
            "--action",
            "kms:Decrypt",
            "--key",
            key,
            "--key-policy",
            F1,
            "--grants",
            "fixtures/can/grants-multi-region.json",
        ]
    };
    // On the key the grant was created for, it allows (F1 alone gives App nothing).
    let (d, v) = decide(&args(KR1));
    assert_eq!(d, "allow", "{v}");
    assert_eq!(v["path"], "grant", "{v}");
    // The replica shares the key id, not the Region: the grant is not its.
    let (d, v) = decide(&args(KR2));
    assert_eq!(d, "implicit-deny", "{v}");
}

#[test]
fn r79_grant_listed_as_input_file_binds_only_to_its_own_region() {
    // The same grant list read as an input file: the inventory binds it by full ARN too.
    let (d, v) = decide(&[
        "fixtures/can/grants-multi-region.json",
        "--principal",
        APP,
        "--action",
        "kms:Decrypt",
        "--key",
        KR2,
        "--key-policy",
        F1,
    ]);
    assert_eq!(d, "implicit-deny", "{v}");
}

#[test]
fn r79_who_can_does_not_credit_the_replica_with_the_primarys_grant() {
    let app_row = |key: &str| {
        let (code, out, err) = run(
            &[
                "who-can",
                "--action",
                "kms:Decrypt",
                "--key",
                key,
                "--key-policy",
                F1,
                "--grants",
                "fixtures/can/grants-multi-region.json",
                "fixtures/inventory/authorization-details.json",
                "--format",
                "json",
            ],
            None,
        );
        assert_eq!(code, 0, "{out}{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let row = v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["principal"] == "arn:aws:iam::111122223333:role/App")
            .cloned();
        row.unwrap_or(serde_json::Value::Null)
    };
    let primary = app_row(KR1);
    assert_eq!(primary["decision"], "allow", "{primary}");
    assert_eq!(primary["path"][0]["how"], "grant", "{primary}");
    // On the replica, App is at most what the key policy's delegation gives, never the grant.
    let replica = app_row(KR2);
    assert_ne!(replica["decision"], "allow", "{replica}");
    assert!(!replica.to_string().contains("grant"), "{replica}");
}

#[test]
fn r79_grant_on_another_accounts_key_with_same_id_gives_nothing() {
    let (d, v) = decide(&[
        "--principal",
        APP,
        "--action",
        "kms:Decrypt",
        "--key",
        K1,
        "--key-policy",
        F1,
        "--grants",
        "fixtures/can/grants-other-account.json",
    ]);
    assert_eq!(d, "implicit-deny", "{v}");
}

#[test]
fn r62_reencrypt_destination_check_considers_the_destination_keys_grants() {
    // The source key's grant allows ReEncryptFrom, the destination key's ReEncryptTo; neither
    // key policy (F2) names ReEncrypt.
    let (d, v) = decide(&[
        "--principal",
        APP,
        "--action",
        "kms:ReEncrypt",
        "--key",
        K1,
        "--key-policy",
        F2,
        "--destination-key",
        K2,
        "--destination-key-policy",
        F2,
        "--grants",
        "fixtures/can/grants-reencrypt.json",
    ]);
    assert_eq!(d, "allow", "{v}");
    let checks = v["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 2, "{v}");
    assert_eq!(checks[1]["action"], "kms:ReEncryptTo", "{v}");
    assert_eq!(checks[1]["path"], "grant", "{v}");
}

// ---- R73: constraint keys in any case, values exact, pairs as a set ----

fn equals_grant(ec: &[&str]) -> (String, serde_json::Value) {
    let mut args = vec![
        "--principal",
        ALICE,
        "--action",
        "kms:Decrypt",
        "--key",
        K1,
        "--key-policy",
        F2,
        "--grants",
        "fixtures/can/grant-equals.json",
    ];
    args.extend_from_slice(ec);
    decide(&args)
}

#[test]
fn r73_grant_constraint_keys_are_case_insensitive_values_are_not() {
    // The grant says `department`, the request `Department`: the same key.
    let (d, v) = equals_grant(&["--encryption-context", "Department=IT"]);
    assert_eq!(d, "allow", "{v}");
    // The value differs in case: not the same value.
    let (d, v) = equals_grant(&["--encryption-context", "department=it"]);
    assert_eq!(d, "implicit-deny", "{v}");
}

#[test]
fn r73_encryption_context_equals_compares_sets_of_distinct_pairs() {
    // The same pair given twice (as the context and as a condition key) is one pair.
    let (d, v) = equals_grant(&[
        "--encryption-context",
        "department=IT",
        "--context",
        "kms:EncryptionContext:department=IT",
    ]);
    assert_eq!(d, "allow", "{v}");
    // Two keys that differ only by case: AWS documents no answer, so neither is assumed.
    let (d, v) = equals_grant(&[
        "--encryption-context",
        "department=IT",
        "--context",
        "kms:EncryptionContext:Department=Sales",
    ]);
    assert_eq!(d, "undetermined", "{v}");
    // A pair more than the constraint lists fails Equals.
    let (d, v) = equals_grant(&["--encryption-context", "department=IT,project=x"]);
    assert_ne!(d, "allow", "{v}");
}

// ---- R71, R75: grant paths through IAM are limited by boundary and session policies ----

fn account_grant(action: &str, extra: &[&str]) -> (String, serde_json::Value) {
    let mut args = vec![
        "--principal",
        WORKER,
        "--action",
        action,
        "--key",
        K1,
        "--key-policy",
        F2,
        "--grants",
        "fixtures/can/grant-to-account.json",
        "--identity-policy",
        "fixtures/can/identity-decrypt-and-retire.json",
    ];
    args.extend_from_slice(extra);
    decide(&args)
}

#[test]
fn r71_account_grantee_path_is_limited_by_permissions_boundary() {
    // The grant names the account; the caller's IAM allows Decrypt, and the key policy (F2)
    // does not name the caller: the grant path holds…
    let (d, v) = account_grant("kms:Decrypt", &[]);
    assert_eq!(d, "allow", "{v}");
    assert_eq!(v["path"], "grant", "{v}");
    // …unless the caller's permissions boundary does not allow it.
    let (d, v) = account_grant(
        "kms:Decrypt",
        &["--boundary", "fixtures/cases/policies/PBs3.json"],
    );
    assert_eq!(d, "implicit-deny", "{v}");
}

#[test]
fn r71_account_grantee_path_is_limited_by_session_policies() {
    let (d, v) = account_grant(
        "kms:Decrypt",
        &["--session-policy", "fixtures/can/session-s3-only.json"],
    );
    assert_eq!(d, "implicit-deny", "{v}");
}

#[test]
fn r75_retiring_account_and_issuing_account_paths_are_limited_by_boundary() {
    let retire = |extra: &[&str]| {
        let mut args = vec![
            "--grant-id",
            "6666ffff7f76e4ba7987489ac329fbfba6ad343d6f7075dbd1ef191f0120514a",
        ];
        args.extend_from_slice(extra);
        account_grant("kms:RetireGrant", &args)
    };
    // Items 1 and 3: the account is the retiring principal and the issuer; IAM allows.
    let (d, v) = retire(&[]);
    assert_eq!(d, "allow", "{v}");
    let (d, v) = retire(&["--boundary", "fixtures/cases/policies/PBs3.json"]);
    assert_eq!(d, "implicit-deny", "{v}");
    let (d, v) = retire(&["--session-policy", "fixtures/can/session-s3-only.json"]);
    assert_eq!(d, "implicit-deny", "{v}");
}

// ---- R58: the root user needs no identity policy for IAM-only actions ----

#[test]
fn r58_root_user_creates_keys_and_aliases_without_identity_policy() {
    let (d, v) = decide(&[
        "--principal",
        ROOT,
        "--action",
        "kms:CreateKey",
        "--key",
        K1,
    ]);
    assert_eq!(d, "allow", "{v}");
    // The alias half needs no identity policy; the key half is allowed by F1's account
    // statement, which names the root user directly.
    let (d, v) = decide(&[
        "--principal",
        ROOT,
        "--action",
        "kms:CreateAlias",
        "--key",
        K1,
        "--key-policy",
        F1,
        "--alias",
        "arn:aws:kms:us-east-1:111122223333:alias/finance",
    ]);
    assert_eq!(d, "allow", "{v}");
}

#[test]
fn r58_root_user_is_still_limited_by_scps() {
    let (d, v) = decide(&[
        "--principal",
        ROOT,
        "--action",
        "kms:CreateKey",
        "--key",
        K1,
        "--scp",
        "fixtures/cases/policies/FullAWSAccess.json",
        "--scp",
        "fixtures/cases/policies/PBs3.json",
    ]);
    assert_eq!(d, "implicit-deny", "{v}");
}

// ---- R3: a second key not given leaves its check undetermined ----

#[test]
fn r3_reencrypt_without_destination_key_is_undetermined() {
    let (d, v) = decide(&[
        "--principal",
        ROOT,
        "--action",
        "kms:ReEncrypt",
        "--key",
        K1,
        "--key-policy",
        F1,
    ]);
    assert_eq!(d, "undetermined", "{v}");
    let to = &v["checks"][1];
    assert_eq!(to["action"], "kms:ReEncryptTo", "{v}");
    assert!(
        to["unknowns"][0]
            .as_str()
            .unwrap()
            .contains("--destination-key"),
        "{v}"
    );
    // Given, both checks are judged.
    let (d, v) = decide(&[
        "--principal",
        ROOT,
        "--action",
        "kms:ReEncrypt",
        "--key",
        K1,
        "--key-policy",
        F1,
        "--destination-key",
        K2,
        "--destination-key-policy",
        F1,
    ]);
    assert_eq!(d, "allow", "{v}");
}

#[test]
fn r3_update_alias_without_new_target_key_is_undetermined() {
    let (d, v) = decide(&[
        "--principal",
        ROOT,
        "--action",
        "kms:UpdateAlias",
        "--key",
        K1,
        "--key-policy",
        F1,
        "--alias",
        "arn:aws:kms:us-east-1:111122223333:alias/finance",
    ]);
    assert_eq!(d, "undetermined", "{v}");
    assert_eq!(v["checks"].as_array().unwrap().len(), 3, "{v}");
}

#[test]
fn r3_create_alias_without_alias_still_checks_the_target_key() {
    // The alias is not given, but the target key's policy denies CreateAlias outright.
    let (d, v) = decide(&[
        "--principal",
        ROOT,
        "--action",
        "kms:CreateAlias",
        "--key",
        K1,
        "--key-policy",
        "fixtures/can/key-policy-no-aliases.json",
    ]);
    assert_eq!(d, "explicit-deny", "{v}");
    assert_eq!(v["checks"][0]["decision"], "undetermined", "{v}");
}

// ---- R60: a given customer key policy makes the key customer managed ----

#[test]
fn r60_rcp_deny_applies_with_certainty_to_a_customer_key_policy() {
    let (d, v) = decide(&[
        "--principal",
        ALICE,
        "--action",
        "kms:Decrypt",
        "--key",
        K1,
        "--key-policy",
        F1,
        "--rcp",
        "fixtures/can/rcp-deny-decrypt-outside-org.json",
    ]);
    assert_eq!(d, "explicit-deny", "{v}");
    // The AWS managed template says nothing certain: the key manager stays unknown.
    let (d, v) = decide(&[
        "--principal",
        ALICE,
        "--action",
        "kms:Decrypt",
        "--key",
        K1,
        "--key-policy",
        "fixtures/examples/aws-managed-key-policy.json",
        "--rcp",
        "fixtures/can/rcp-deny-decrypt-outside-org.json",
    ]);
    assert_ne!(d, "explicit-deny", "{v}");
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
