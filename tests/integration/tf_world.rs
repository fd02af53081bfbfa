//! A Terraform plan (or a CloudFormation template) is a whole world: the principals it
//! creates, with everything it attaches to them, its grants, aliases and replica keys, and
//! the account, Region and partition it reveals. Every plan here was made by the real
//! Terraform from the configuration beside it (`plans_regenerated_with_real_terraform`).

use super::run;

fn plan(case: &str) -> String {
    format!("fixtures/terraform/{case}/plan.json")
}

/// `can` in JSON; the input is the last argument.
fn can(input: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["can", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(input);
    let (code, out, err) = run(&args, None);
    assert_eq!(code, 0, "{args:?}: {out}{err}");
    serde_json::from_str(&out).unwrap()
}

fn decision(input: &str, principal: &str, action: &str, key: &str, extra: &[&str]) -> String {
    let mut args = vec!["--principal", principal, "--action", action, "--key", key];
    args.extend_from_slice(extra);
    let v = can(input, &args);
    v["decision"].as_str().unwrap().to_owned()
}

/// `who-can` in JSON: (principal, decision) of each row.
fn who_can(input: &str, extra: &[&str]) -> Vec<(String, String)> {
    let mut args = vec!["who-can", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(input);
    let (code, out, err) = run(&args, None);
    assert_eq!(code, 0, "{args:?}: {out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["principal"].as_str().unwrap().to_owned(),
                r["decision"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn lists(rows: &[(String, String)], principal: &str) -> bool {
    rows.iter()
        .any(|(p, d)| p == principal && (d == "allow" || d == "conditional"))
}

/// `check` in JSON: (exit code, the codes of its findings, the whole output).
fn check(input: &str, extra: &[&str]) -> (i32, Vec<String>, String) {
    let mut args = vec!["check", "--format", "json", "-q"];
    args.extend_from_slice(extra);
    args.push(input);
    let (code, out, err) = run(&args, None);
    assert!(code <= 1, "{args:?}: {out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let codes = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect();
    (code, codes, out)
}

/// What an undetermined answer says is open: its unknowns and the notes that say why.
fn open(v: &serde_json::Value) -> String {
    format!("{} {}", v["unknowns"], v["notes"])
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

const APP: &str = "arn:aws:iam::111122223333:role/app";

// ---- the README walkthrough: a key, a role and its inline_policy ----

#[test]
fn tf_role_inline_policy_under_a_delegating_key_policy_allows() {
    let p = plan("role-inline-delegated");
    let v = can(
        &p,
        &[
            "--principal",
            "aws_iam_role.app",
            "--action",
            "kms:Decrypt",
            "--key",
            "aws_kms_key.x",
        ],
    );
    assert_eq!(v["decision"], "allow", "{v}");
    let deciding = strings(&v["deciding"]);
    // Both halves are named: the key policy's delegation and the role's inline statement.
    assert!(
        deciding
            .iter()
            .any(|d| d.ends_with("aws_kms_key.x › policy#EnableIAMPolicies")),
        "{v}"
    );
    assert!(
        deciding
            .iter()
            .any(|d| d.contains("aws_iam_role.app › inline_policy")
                && d.ends_with("#DecryptAppData")),
        "{v}"
    );
    // The role is the principal the plan creates, by address or by the ARN it will have.
    assert_eq!(
        decision(&p, APP, "kms:Decrypt", "aws_kms_key.x", &[]),
        "allow"
    );
    // Its inline policy allows only kms:Decrypt.
    assert_eq!(
        decision(&p, "aws_iam_role.app", "kms:Encrypt", "aws_kms_key.x", &[]),
        "implicit-deny"
    );
    // A planned role with no policy gets nothing from the delegation.
    assert_eq!(
        decision(
            &p,
            "aws_iam_role.batch",
            "kms:Decrypt",
            "aws_kms_key.x",
            &[]
        ),
        "implicit-deny"
    );
    let rows = who_can(&p, &["--action", "kms:Decrypt", "--key", "aws_kms_key.x"]);
    assert!(lists(&rows, APP), "{rows:?}");
    assert!(
        !lists(&rows, "arn:aws:iam::111122223333:role/jobs/batch"),
        "{rows:?}"
    );
    // The plan is not the whole account: its other principals may decrypt through their own
    // IAM policies, which the plan does not show.
    assert!(
        rows.iter()
            .any(|(p, d)| p == "account:111122223333" && d == "conditional"),
        "{rows:?}"
    );
    // Nothing in this plan is left open, and the key is not locked out.
    let (_, codes, out) = check(&p, &[]);
    for c in ["KMS051", "KMS001", "KMS003", "KMS004"] {
        assert!(!codes.iter().any(|x| x == c), "{c}: {out}");
    }
}

#[test]
fn tf_role_inline_policy_without_delegation_is_an_implicit_deny_with_the_fix() {
    let p = plan("role-inline-no-delegation");
    let v = can(
        &p,
        &[
            "--principal",
            "aws_iam_role.app",
            "--action",
            "kms:Decrypt",
            "--key",
            "aws_kms_key.x",
        ],
    );
    assert_eq!(v["decision"], "implicit-deny", "{v}");
    // E3's explanation: the IAM policy allows it, the key policy does not delegate.
    let reasons = v["reasons"].to_string();
    assert!(reasons.contains("aws_iam_role.app › inline_policy"), "{v}");
    assert!(reasons.contains("add the root delegation statement"), "{v}");
    let rows = who_can(&p, &["--action", "kms:Decrypt", "--key", "aws_kms_key.x"]);
    assert!(!lists(&rows, APP), "{rows:?}");
}

#[test]
fn tf_unknown_addresses_are_errors_that_list_close_matches() {
    let p = plan("role-inline-delegated");
    let (code, out, err) = run(
        &[
            "can",
            "--principal",
            "aws_iam_role.ap",
            "--action",
            "kms:Decrypt",
            "--key",
            "aws_kms_key.x",
            &p,
        ],
        None,
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("aws_iam_role.ap"), "{err}");
    assert!(err.contains("aws_iam_role.app"), "{err}");
    let (code, out, err) = run(
        &[
            "who-can",
            "--action",
            "kms:Decrypt",
            "--key",
            "aws_kms_key.y",
            &p,
        ],
        None,
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("aws_kms_key.x"), "{err}");
}

// ---- grants and aliases ----

#[test]
fn tf_grant_to_a_plan_role_with_encryption_context_subset() {
    let p = plan("grant-to-plan-role");
    let worker = [
        "--principal",
        "aws_iam_role.worker",
        "--action",
        "kms:Decrypt",
        "--key",
        "alias/billing",
    ];
    let mut a = worker.to_vec();
    a.extend(["--encryption-context", "app=billing"]);
    let v = can(&p, &a);
    assert_eq!(v["decision"], "allow", "{v}");
    assert_eq!(v["path"], "grant", "{v}");
    assert!(v.to_string().contains("aws_kms_grant.worker"), "{v}");
    // A superset of the constraint's context still matches (subset); another value does not.
    let mut a = worker.to_vec();
    a.extend([
        "--encryption-context",
        "app=billing",
        "--encryption-context",
        "year=2026",
    ]);
    assert_eq!(can(&p, &a)["decision"], "allow");
    let mut a = worker.to_vec();
    a.extend(["--encryption-context", "app=payroll"]);
    assert_eq!(can(&p, &a)["decision"], "implicit-deny");
    assert_eq!(can(&p, &worker)["decision"], "implicit-deny");
    // The grant gives the worker nothing else.
    assert_eq!(
        decision(
            &p,
            "arn:aws:iam::111122223333:role/billing-worker",
            "kms:Encrypt",
            "aws_kms_key.billing",
            &["--encryption-context", "app=billing"]
        ),
        "implicit-deny"
    );
    // The retiring principal retires the grant named by its address.
    let v = can(
        &p,
        &[
            "--principal",
            "aws_iam_role.operator",
            "--action",
            "kms:RetireGrant",
            "--key",
            "aws_kms_key.billing",
            "--grant-id",
            "aws_kms_grant.worker",
        ],
    );
    assert_eq!(v["decision"], "allow", "{v}");
    let rows = who_can(
        &p,
        &["--action", "kms:Decrypt", "--key", "aws_kms_key.billing"],
    );
    // who-can lists the grantee (the grant's constraint leaves its answer open there).
    assert!(
        rows.iter()
            .any(|(p, d)| p == "arn:aws:iam::111122223333:role/billing-worker" && d != "deny"),
        "{rows:?}"
    );
    // The grantee known only after apply is resolved, never skipped.
    let (_, codes, out) = check(&p, &[]);
    assert!(!codes.iter().any(|c| c == "KMS051"), "{out}");
}

// ---- modules ----

#[test]
fn tf_module_role_with_a_module_local_managed_policy_attachment() {
    let p = plan("module-role");
    let reader = "module.reader.aws_iam_role.this[0]";
    let v = can(
        &p,
        &[
            "--principal",
            reader,
            "--action",
            "kms:Decrypt",
            "--key",
            "aws_kms_key.shared",
        ],
    );
    assert_eq!(v["decision"], "allow", "{v}");
    assert!(
        strings(&v["deciding"])
            .iter()
            .any(|d| d.contains("module.reader.aws_iam_policy.kms") && d.ends_with("#UseKeys")),
        "{v}"
    );
    let writer = "module.writer.aws_iam_role.this[0]";
    assert_eq!(
        decision(&p, writer, "kms:Decrypt", "aws_kms_key.shared", &[]),
        "implicit-deny"
    );
    assert_eq!(
        decision(&p, writer, "kms:GenerateDataKey", "aws_kms_key.shared", &[]),
        "allow"
    );
    let rows = who_can(
        &p,
        &["--action", "kms:Decrypt", "--key", "aws_kms_key.shared"],
    );
    assert!(
        lists(&rows, "arn:aws:iam::111122223333:role/reader"),
        "{rows:?}"
    );
    assert!(
        !lists(&rows, "arn:aws:iam::111122223333:role/writer"),
        "{rows:?}"
    );
}

// ---- Regions: a provider alias, no Region at all, data sources ----

#[test]
fn tf_replica_key_through_a_provider_alias_is_in_its_own_region() {
    let p = plan("provider-alias-replica");
    let ask = |key: &str| {
        can(
            &p,
            &[
                "--principal",
                "aws_iam_role.eu_app",
                "--action",
                "kms:Decrypt",
                "--key",
                key,
            ],
        )
    };
    let v = ask("aws_kms_replica_key.eu");
    assert_eq!(v["decision"], "allow", "{v}");
    let key = v["key"].as_str().unwrap();
    assert!(
        key.starts_with("arn:aws:kms:eu-west-1:111122223333:key/mrk-"),
        "{v}"
    );
    // The alias made with the same provider alias names the replica.
    let v = ask("alias/eu-data");
    assert_eq!(v["decision"], "allow", "{v}");
    assert_eq!(v["key"].as_str().unwrap(), key);
    // The primary is in us-east-1: the role's policy does not reach it.
    let v = ask("aws_kms_key.primary");
    assert_eq!(v["decision"], "implicit-deny", "{v}");
    assert!(
        v["key"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:kms:us-east-1:111122223333:key/mrk-"),
        "{v}"
    );
    let rows = who_can(
        &p,
        &["--action", "kms:Decrypt", "--key", "aws_kms_replica_key.eu"],
    );
    assert!(
        lists(&rows, "arn:aws:iam::111122223333:role/eu-app"),
        "{rows:?}"
    );
    let (_, codes, out) = check(&p, &[]);
    assert!(!codes.iter().any(|c| c == "KMS051"), "{out}");
}

#[test]
fn tf_plan_without_a_region_answers_what_does_not_depend_on_it() {
    let p = plan("no-region");
    // Region-independent: the role may decrypt with any key.
    let v = can(
        &p,
        &[
            "--principal",
            "aws_iam_role.anywhere",
            "--action",
            "kms:Decrypt",
            "--key",
            "aws_kms_key.x",
        ],
    );
    assert_eq!(v["decision"], "allow", "{v}");
    // Region-dependent: undetermined, naming the flag that settles it.
    let ireland = [
        "--principal",
        "aws_iam_role.ireland",
        "--action",
        "kms:Decrypt",
        "--key",
        "aws_kms_key.x",
    ];
    let v = can(&p, &ireland);
    assert_eq!(v["decision"], "undetermined", "{v}");
    assert!(v["unknowns"].to_string().contains("--region"), "{v}");
    let mut a = ireland.to_vec();
    a.extend(["--region", "eu-west-1"]);
    assert_eq!(can(&p, &a)["decision"], "allow");
    let mut a = ireland.to_vec();
    a.extend(["--region", "us-east-1"]);
    assert_eq!(can(&p, &a)["decision"], "implicit-deny");
    let rows = who_can(&p, &["--action", "kms:Decrypt", "--key", "aws_kms_key.x"]);
    assert!(
        rows.iter()
            .any(|(p, d)| p == "arn:aws:iam::111122223333:role/anywhere" && d == "allow"),
        "{rows:?}"
    );
    // who-can does not settle the Region: it says so, naming the flag.
    let (_, out, _) = run(
        &[
            "who-can",
            "--format",
            "json",
            "--action",
            "kms:Decrypt",
            "--key",
            "aws_kms_key.x",
            &p,
        ],
        None,
    );
    assert!(out.contains("give `--region`"), "{out}");
    // The missing Region is no input error.
    let (_, codes, out) = check(&p, &[]);
    assert!(!codes.iter().any(|c| c == "KMS000"), "{out}");
    for c in ["KMS001", "KMS003", "KMS004"] {
        assert!(!codes.iter().any(|x| x == c), "{c}: {out}");
    }
}

#[test]
fn tf_region_and_partition_from_data_sources_and_account_from_the_flag() {
    let p = plan("data-sources");
    let v = can(
        &p,
        &[
            "--principal",
            "aws_iam_role.app",
            "--action",
            "kms:Decrypt",
            "--key",
            "aws_kms_key.data",
        ],
    );
    // The role and the key come from one provider configuration: one account, whatever its
    // number; the default key policy delegates to it and the role's policy names the
    // Region the data source read.
    assert_eq!(v["decision"], "allow", "{v}");
    assert!(
        v["key"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:kms:ap-southeast-2:"),
        "{v}"
    );
    // Whether another account's root is the key's own depends on the account.
    let root = [
        "--principal",
        "arn:aws:iam::444455556666:root",
        "--action",
        "kms:Decrypt",
        "--key",
        "aws_kms_key.data",
    ];
    let v = can(&p, &root);
    assert_eq!(v["decision"], "undetermined", "{v}");
    assert!(v["unknowns"].to_string().contains("--account"), "{v}");
    let mut a = root.to_vec();
    a.extend(["--account", "444455556666"]);
    assert_eq!(can(&p, &a)["decision"], "allow");
    let mut a = root.to_vec();
    a.extend(["--account", "111122223333"]);
    assert_eq!(can(&p, &a)["decision"], "implicit-deny");
}

// ---- aws_kms_key_policy, policies known only after apply ----

#[test]
fn tf_key_policy_resource_replaces_the_policy_and_late_identity_policies_are_unknown() {
    let p = plan("key-policy-replace");
    let v = can(
        &p,
        &[
            "--principal",
            "aws_iam_role.app",
            "--action",
            "kms:Decrypt",
            "--key",
            "aws_kms_key.x",
        ],
    );
    assert_eq!(v["decision"], "allow", "{v}");
    let deciding = strings(&v["deciding"]);
    assert!(
        deciding
            .iter()
            .any(|d| d.ends_with("aws_kms_key_policy.x › policy#EnableIAMPolicies")),
        "{v}"
    );
    assert!(
        deciding
            .iter()
            .any(|d| d.contains("aws_iam_role_policy.app › policy")
                && d.ends_with("#DecryptAppData")),
        "{v}"
    );
    // The role whose policy names the key's ARN (known only after apply): undetermined,
    // naming that policy — never an empty IAM side.
    let v = can(
        &p,
        &[
            "--principal",
            "aws_iam_role.late",
            "--action",
            "kms:Decrypt",
            "--key",
            "aws_kms_key.x",
        ],
    );
    assert_eq!(v["decision"], "undetermined", "{v}");
    assert!(open(&v).contains("aws_iam_role_policy.late"), "{v}");
    let (_, codes, out) = check(&p, &[]);
    assert!(codes.iter().any(|c| c == "KMS051"), "{out}");
    assert!(out.contains("aws_iam_role_policy.late"), "{out}");
    let rows = who_can(&p, &["--action", "kms:Decrypt", "--key", "aws_kms_key.x"]);
    assert!(lists(&rows, APP), "{rows:?}");
}

// ---- users, groups, memberships, attachments, boundaries ----

#[test]
fn tf_users_groups_memberships_attachments_and_boundary() {
    let p = plan("users-groups-boundary");
    let d = |who: &str| decision(&p, who, "kms:Decrypt", "aws_kms_key.x", &[]);
    // Group inline policy through aws_iam_group_membership.
    let v = can(
        &p,
        &[
            "--principal",
            "aws_iam_user.bob",
            "--action",
            "kms:Decrypt",
            "--key",
            "aws_kms_key.x",
        ],
    );
    assert_eq!(v["decision"], "allow", "{v}");
    assert!(
        strings(&v["deciding"])
            .iter()
            .any(|d| d.contains("aws_iam_group_policy.readers") && d.ends_with("#ReadersDecrypt")),
        "{v}"
    );
    // The same membership, but the boundary leaves kms:Decrypt out.
    assert_eq!(d("aws_iam_user.alice"), "implicit-deny");
    assert_eq!(
        decision(
            &p,
            "aws_iam_user.alice",
            "kms:Encrypt",
            "aws_kms_key.x",
            &[]
        ),
        "implicit-deny",
        "the boundary allows Encrypt, but no identity policy does"
    );
    // A managed policy through aws_iam_policy_attachment to a group of
    // aws_iam_user_group_membership, and through aws_iam_user_policy_attachment.
    assert_eq!(d("aws_iam_user.carol"), "allow");
    assert_eq!(
        d("arn:aws:iam::111122223333:user/contractors/carol"),
        "allow"
    );
    assert_eq!(d("aws_iam_user.dave"), "allow");
    let rows = who_can(&p, &["--action", "kms:Decrypt", "--key", "aws_kms_key.x"]);
    for u in ["bob", "contractors/carol", "dave"] {
        assert!(
            lists(&rows, &format!("arn:aws:iam::111122223333:user/{u}")),
            "{u}: {rows:?}"
        );
    }
    assert!(
        !lists(&rows, "arn:aws:iam::111122223333:user/alice"),
        "{rows:?}"
    );
}

// ---- a role the plan does not create, AWS managed policies, trust ----

#[test]
fn tf_existing_role_managed_arns_and_trust() {
    let p = plan("existing-role-managed");
    // The plan adds a policy to a role it does not create: the role's other policies are
    // unknown, and could deny.
    let v = can(
        &p,
        &[
            "--principal",
            "arn:aws:iam::111122223333:role/ExistingRole",
            "--action",
            "kms:Decrypt",
            "--key",
            "aws_kms_key.x",
        ],
    );
    assert_eq!(v["decision"], "undetermined", "{v}");
    assert!(open(&v).contains("ExistingRole"), "{v}");
    // An AWS managed policy attached by the plan: the snapshot's document decides.
    let v = can(
        &p,
        &[
            "--principal",
            "aws_iam_role.admin",
            "--action",
            "kms:Decrypt",
            "--key",
            "aws_kms_key.x",
        ],
    );
    assert_eq!(v["decision"], "allow", "{v}");
    assert!(
        v.to_string()
            .contains("aws-managed:AdministratorAccess (snapshot "),
        "{v}"
    );
    // ci cannot decrypt itself, but it may assume decrypter, which can.
    assert_eq!(
        decision(&p, "aws_iam_role.ci", "kms:Decrypt", "aws_kms_key.x", &[]),
        "implicit-deny"
    );
    assert_eq!(
        decision(
            &p,
            "aws_iam_role.decrypter",
            "kms:Decrypt",
            "aws_kms_key.x",
            &[]
        ),
        "allow"
    );
    let rows = who_can(
        &p,
        &[
            "--action",
            "kms:Decrypt",
            "--key",
            "aws_kms_key.x",
            "--paths",
            "all",
        ],
    );
    assert!(
        lists(&rows, "arn:aws:iam::111122223333:role/decrypter"),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|(p, _)| p == "arn:aws:iam::111122223333:role/ci"),
        "ci reaches the key by assuming decrypter: {rows:?}"
    );
    let direct = who_can(
        &p,
        &[
            "--action",
            "kms:Decrypt",
            "--key",
            "aws_kms_key.x",
            "--paths",
            "direct",
        ],
    );
    assert!(
        !lists(&direct, "arn:aws:iam::111122223333:role/ci"),
        "{direct:?}"
    );
}

// ---- findings name the resource in every format ----

#[test]
fn tf_findings_name_the_resource_address_in_every_format() {
    let p = plan("key-policy-replace");
    for format in ["concise", "github", "junit"] {
        let (_, out, err) = run(&["check", "--format", format, "-q", &p], None);
        assert!(
            out.contains("plan.json › aws_iam_role_policy.late"),
            "{format}: {out}{err}"
        );
    }
    let (_, out, _) = run(&["check", "--format", "sarif", "-q", &p], None);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert!(
        results.iter().any(|r| {
            r["locations"][0]["logicalLocations"]
                .to_string()
                .contains("aws_iam_role_policy.late")
                && r["message"]["text"]
                    .as_str()
                    .unwrap_or("")
                    .contains("aws_iam_role_policy.late")
        }),
        "{out}"
    );
}

// ---- CloudFormation: the stack's own account and principals ----

const CFN: &str = "fixtures/cloudformation/key-and-roles.yaml";

#[test]
fn cfn_canonical_key_template_draws_no_lockout_with_or_without_account() {
    for account in [None, Some("111122223333")] {
        let extra: Vec<&str> = account.map(|a| vec!["--account", a]).unwrap_or_default();
        let (_, codes, out) = check(CFN, &extra);
        for c in ["KMS001", "KMS003", "KMS004", "KMS051"] {
            assert!(!codes.iter().any(|x| x == c), "{c} {account:?}: {out}");
        }
    }
}

#[test]
fn cfn_template_principals_resolve_by_logical_id_and_getatt() {
    let d =
        |who: &str, action: &str| decision(CFN, who, action, "DataKey", &["--region", "us-east-1"]);
    // The stack's own account, though its number is unknown: the !Sub root delegation lets
    // the role's inline policy (on !GetAtt DataKey.Arn) take effect.
    assert_eq!(d("AppRole", "kms:Decrypt"), "allow");
    assert_eq!(d("AppRole", "kms:Encrypt"), "implicit-deny");
    // A customer managed policy attached through its Roles and Groups.
    assert_eq!(d("ReportRole", "kms:GenerateDataKey"), "allow");
    assert_eq!(d("Erin", "kms:Encrypt"), "allow");
    assert_eq!(d("Erin", "kms:Decrypt"), "implicit-deny");
    // The administrator named by !GetAtt KeyAdminRole.Arn in the key policy.
    assert_eq!(d("KeyAdminRole", "kms:ScheduleKeyDeletion"), "allow");
    let mut args = vec!["--region", "us-east-1", "--account", "111122223333"];
    args.extend(["--action", "kms:Decrypt", "--key", "alias/data"]);
    let rows = who_can(CFN, &args);
    assert!(
        lists(&rows, "arn:aws:iam::111122223333:role/services/app"),
        "{rows:?}"
    );
}
