//! Lockout (spec R109–R116, E72): decided by asking the engine who can call
//! `kms:PutKeyPolicy`, with and without IAM data.

use super::run;

/// `(code, severity, line)` of every finding `check --format json` reports.
fn findings(files: &[&str]) -> Vec<(String, String, u64)> {
    let mut args = vec!["check", "-q", "--format", "json"];
    args.extend(files);
    let (_, out, err) = run(&args, None);
    let v: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn has(f: &[(String, String, u64)], code: &str, severity: &str) -> bool {
    f.iter().any(|(c, s, _)| c == code && s == severity)
}

const F2: &str = "fixtures/lockout/f2-no-root-delegation.json";

#[test]
fn e72_f2_with_iam_data_lacking_the_admin_role_is_an_l003_error_r110() {
    let f = findings(&[
        F2,
        "fixtures/lockout/authorization-details-without-admin.json",
    ]);
    assert!(has(&f, "KMS003", "error"), "{f:?}");
    // It points at the only administrator, role/Admin (line 14).
    assert!(f.iter().any(|(c, _, l)| c == "KMS003" && *l == 14), "{f:?}");
}

#[test]
fn e72_f1_with_a_deny_of_put_key_policy_to_everyone_is_an_l004_error_r110() {
    let f = findings(&["fixtures/lockout/f1-deny-put-key-policy.json"]);
    assert!(has(&f, "KMS004", "error"), "{f:?}");
    // The Deny is the finding (line 15 is its Action); L003 does not repeat it.
    assert!(f.iter().any(|(c, _, l)| c == "KMS004" && *l == 15), "{f:?}");
    assert!(!f.iter().any(|(c, _, _)| c == "KMS003"), "{f:?}");
}

#[test]
fn e72_f1_draws_no_finding() {
    assert_eq!(findings(&["fixtures/lockout/f1-sdk-default.json"]), vec![]);
}

#[test]
fn r110_without_iam_data_f2_warns_naming_the_principal_it_depends_on() {
    let (_, out, _) = run(&["check", "-q", "--format", "concise", F2], None);
    let line = out
        .lines()
        .find(|l| l.contains("KMS003"))
        .unwrap_or_default();
    assert!(
        line.contains("arn:aws:iam::111122223333:role/Admin"),
        "{out}"
    );
    assert!(has(&findings(&[F2]), "KMS003", "warning"));
}

#[test]
fn r110_with_iam_data_showing_the_admin_exists_there_is_no_l003() {
    let f = findings(&[F2, "fixtures/lockout/authorization-details-with-admin.json"]);
    assert!(!f.iter().any(|(c, _, _)| c == "KMS003"), "{f:?}");
    // The missing root delegation is still reported.
    assert!(has(&f, "KMS001", "warning"), "{f:?}");
}

#[test]
fn r116_an_admin_conditioned_on_an_encryption_context_is_dead_for_put_key_policy() {
    let (_, out, _) = run(
        &[
            "check",
            "-q",
            "--format",
            "concise",
            "fixtures/rules/KMS003.bad.json",
        ],
        None,
    );
    assert!(
        out.contains("KMS003 no existing principal can call kms:PutKeyPolicy"),
        "{out}"
    );
    assert!(
        out.contains("`kms:EncryptionContext:app`, which `kms:PutKeyPolicy` requests never carry"),
        "{out}"
    );
    assert!(has(
        &findings(&["fixtures/rules/KMS003.bad.json"]),
        "KMS003",
        "error"
    ));
}

#[test]
fn r116_an_admin_only_through_kms_via_service_is_not_a_human_admin() {
    let (_, out, _) = run(
        &[
            "check",
            "-q",
            "--format",
            "concise",
            "fixtures/lockout/admin-via-service-only.json",
        ],
        None,
    );
    assert!(
        out.contains("KMS003") && out.contains("only through an AWS service"),
        "{out}"
    );
}

#[test]
fn r114_aws_managed_key_policies_draw_no_lockout_findings() {
    for f in [
        "fixtures/defaults/aws-managed-s3.json",
        "fixtures/defaults/aws-managed-workmail.json",
    ] {
        let got = findings(&[f]);
        assert!(
            !got.iter()
                .any(|(c, _, _)| ["KMS001", "KMS002", "KMS003", "KMS004"].contains(&c.as_str())),
            "{f}: {got:?}"
        );
    }
}

#[test]
fn r110_an_mfa_conditioned_admin_still_counts() {
    let f = findings(&["fixtures/rules/KMS003.good.json"]);
    assert!(!f.iter().any(|(c, _, _)| c == "KMS003"), "{f:?}");
}

const DEPLOYER: &str = "arn:aws:sts::111122223333:assumed-role/Deployer/ci";

fn put_policy(extra: &[&str]) -> (i32, serde_json::Value) {
    let mut args = vec!["check-put-policy", "--caller", DEPLOYER, "--format", "json"];
    args.extend(extra);
    let (code, out, err) = run(&args, None);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    (code, v)
}

#[test]
fn e71_a_policy_without_the_deployer_or_root_would_be_rejected_r111_r112() {
    let (code, v) = put_policy(&["--policy", F2]);
    assert_eq!(code, 1);
    assert_eq!(v["verdict"], "would-be-rejected", "{v}");
    assert_eq!(v["decision"], "implicit-deny", "{v}");
}

#[test]
fn e71_f1_passes_when_the_deployers_iam_allows_put_key_policy() {
    let (code, v) = put_policy(&[
        "--policy",
        "fixtures/lockout/f1-sdk-default.json",
        "--identity-policy",
        "fixtures/lockout/deployer-identity.json",
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["verdict"], "passes");
}

#[test]
fn e71_f1_is_undetermined_when_the_deployers_iam_is_unknown_r112() {
    let (code, v) = put_policy(&["--policy", "fixtures/lockout/f1-sdk-default.json"]);
    assert_eq!(code, 1, "an unknown answer never passes silently");
    assert_eq!(v["verdict"], "undetermined", "{v}");
    let (_, out, _) = run(
        &[
            "check-put-policy",
            "--caller",
            DEPLOYER,
            "--policy",
            "fixtures/lockout/f1-sdk-default.json",
        ],
        None,
    );
    assert!(
        out.starts_with("undetermined: the new policy passes only if"),
        "{out}"
    );
}

#[test]
fn r110_step_4_an_scp_denying_put_key_policy_is_a_note_naming_it() {
    let f = findings(&[
        "fixtures/lockout/f1-sdk-default.json",
        "fixtures/lockout/organizations-tree-freezing-key-policies.json",
    ]);
    assert!(has(&f, "KMS064", "info"), "{f:?}");
    // Not a lockout: an organisation administrator can lift it.
    assert!(
        !f.iter().any(|(c, _, _)| c == "KMS003" || c == "KMS004"),
        "{f:?}"
    );
    let (_, out, _) = run(
        &[
            "check",
            "--format",
            "concise",
            "fixtures/lockout/f1-sdk-default.json",
            "fixtures/lockout/organizations-tree-freezing-key-policies.json",
        ],
        None,
    );
    assert!(
        out.contains("FreezeKeyPolicies#NoKeyPolicyChanges"),
        "{out}"
    );
    // The same tree without that SCP (it denies only ScheduleKeyDeletion): no note.
    let f = findings(&[
        "fixtures/lockout/f1-sdk-default.json",
        "fixtures/inventory/organizations-tree.json",
    ]);
    assert!(!f.iter().any(|(c, _, _)| c == "KMS064"), "{f:?}");
}

/// R110 as reachability: the finding says the graph searched every path and found none.
#[test]
fn r110_lockout_finding_carries_the_graph_proof() {
    let (_, out, _) = run(
        &[
            "check",
            "-q",
            "--format",
            "concise",
            F2,
            "fixtures/lockout/authorization-details-without-admin.json",
        ],
        None,
    );
    let line = out.lines().find(|l| l.contains("KMS003")).unwrap_or("");
    assert!(
        line.contains("no principal in the inputs reaches it through any path"),
        "{out}"
    );
}

/// When the key is not locked out, `who-can --action kms:PutKeyPolicy` names who keeps
/// control.
#[test]
fn r110_who_can_put_key_policy_names_the_admin_that_keeps_control() {
    let (code, out, err) = run(
        &[
            "who-can",
            "--action",
            "kms:PutKeyPolicy",
            "--key",
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "--key-policy",
            F2,
            "--format",
            "json",
            "fixtures/lockout/authorization-details-with-admin.json",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let who: Vec<&str> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["decision"] == "allow")
        .map(|r| r["principal"].as_str().unwrap())
        .collect();
    assert_eq!(who, ["arn:aws:iam::111122223333:role/Admin"], "{out}");
}

const PIPELINE: &str = "fixtures/lockout/pipeline";

/// R110: "Deny kms:PutKeyPolicy unless aws:PrincipalArn is role X" leaves X in control: in
/// every input form it is at most a KMS003 warning naming X, never an error.
#[test]
fn r110_deny_put_key_policy_unless_role_x_is_a_warning_naming_x_in_every_form() {
    let forms: [&[&str]; 4] = [
        &[
            "fixtures/lockout/pipeline/key-policy.json",
            "--account",
            "111122223333",
        ],
        &["fixtures/lockout/pipeline/put-key-policy.json"],
        &[
            "fixtures/lockout/pipeline/plan.json",
            "--account",
            "111122223333",
        ],
        &[
            "fixtures/lockout/pipeline/template.json",
            "--account",
            "111122223333",
        ],
    ];
    for form in forms {
        let f = findings(form);
        assert!(!f.iter().any(|(_, s, _)| s == "error"), "{form:?}: {f:?}");
        assert!(!f.iter().any(|(c, _, _)| c == "KMS004"), "{form:?}: {f:?}");
        let mut args = vec!["check", "-q", "--format", "concise"];
        args.extend(form);
        let (_, out, _) = run(&args, None);
        let lines: Vec<&str> = out.lines().filter(|l| l.contains("KMS003")).collect();
        assert!(!lines.is_empty(), "{form:?}: {out}");
        assert!(
            lines
                .iter()
                .all(|l| l.contains("`arn:aws:iam::111122223333:role/Pipeline`")),
            "{form:?}: {out}"
        );
        assert!(has(&f, "KMS003", "warning"), "{form:?}: {f:?}");
    }
}

/// R110: with authorization details showing role X, the pattern draws no lockout finding; with
/// details lacking X, a warning says the key needs X created again.
#[test]
fn r110_deny_unless_role_x_with_iam_data_showing_x_draws_no_lockout_finding() {
    let kp = format!("{PIPELINE}/key-policy.json");
    let with = format!("{PIPELINE}/authorization-details-pipeline.json");
    let f = findings(&[&kp, "--account", "111122223333", &with]);
    assert!(
        !f.iter().any(|(c, _, _)| c == "KMS003" || c == "KMS004"),
        "{f:?}"
    );
    let without = format!("{PIPELINE}/authorization-details-without-pipeline.json");
    let f = findings(&[&kp, "--account", "111122223333", &without]);
    assert!(has(&f, "KMS003", "warning"), "{f:?}");
    assert!(!f.iter().any(|(_, s, _)| s == "error"), "{f:?}");
}

/// R110, R113: the bypass flag of a put-key-policy request and of an aws_kms_key_policy is
/// KMS017.
#[test]
fn r113_the_bypass_flag_of_put_key_policy_input_and_aws_kms_key_policy_is_kms017() {
    let f = findings(&["fixtures/lockout/pipeline/put-key-policy.json"]);
    assert!(has(&f, "KMS017", "warning"), "{f:?}");
    let f = findings(&[
        "fixtures/lockout/pipeline/plan.json",
        "--account",
        "111122223333",
    ]);
    // `aws_kms_key.other` takes the flag of the aws_kms_key_policy that replaces its policy
    // (line 75); `aws_kms_key.data` has none.
    let hits: Vec<_> = f.iter().filter(|(c, _, _)| c == "KMS017").collect();
    assert_eq!(hits.len(), 1, "{f:?}");
    assert_eq!(hits[0].2, 75, "{f:?}");
}

/// Issue 25 (R110): `Principal: "*"` scoped by `aws:PrincipalArn` to a role of the account
/// leaves that role in control: a warning, not an error.
#[test]
fn r110_principal_star_scoped_to_a_named_admin_by_principal_arn_is_a_warning() {
    let f = findings(&[
        "fixtures/lockout/pipeline/principal-star-scoped-to-admin.json",
        "--account",
        "111122223333",
    ]);
    assert!(has(&f, "KMS003", "warning"), "{f:?}");
    assert!(!f.iter().any(|(_, s, _)| s == "error"), "{f:?}");
}

/// R116: conditions an administrator's own kms:PutKeyPolicy call never meets (through a
/// service, a private aws:SourceIp without an endpoint, a past time, plain HTTP, aws:SourceArn
/// on a direct call) leave no admin path: each `.bad` policy is a lockout error, its `.good`
/// twin is manageable.
#[test]
fn r116_conditions_an_administrator_never_meets_leave_no_admin_path() {
    let mut paths: Vec<_> = std::fs::read_dir(super::fixture("lockout/owner"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    let mut n = 0;
    for p in paths {
        let rel = format!(
            "fixtures/lockout/owner/{}",
            p.file_name().unwrap().to_string_lossy()
        );
        let f = findings(&[&rel, "--account", "111122223333"]);
        let lockout = f
            .iter()
            .any(|(c, s, _)| (c == "KMS003" || c == "KMS004") && s == "error");
        if rel.contains(".bad.") {
            assert!(lockout, "{rel}: {f:?}");
        } else {
            assert!(
                !f.iter().any(|(c, _, _)| c == "KMS003" || c == "KMS004"),
                "{rel}: {f:?}"
            );
        }
        n += 1;
    }
    assert!(n >= 10, "{n}");
}

/// R19, R21: a key ARN in `NotResource` names a key the statement is not about; it says nothing
/// of this key's account. The root delegation of the policy's own account stays the key's own
/// (no lockout, no cross-account findings); only the ARN itself draws KMS028.
#[test]
fn r21_a_key_arn_in_not_resource_is_not_taken_for_the_keys_own_arn() {
    let f = findings(&["fixtures/lockout/not-resource/other-key-in-not-resource.json"]);
    for code in ["KMS001", "KMS003", "KMS004", "KMS015", "KMS022", "KMS056"] {
        assert!(!f.iter().any(|(c, _, _)| c == code), "{code}: {f:?}");
    }
    assert!(has(&f, "KMS028", "info"), "{f:?}");
}

/// R1, R112: a plan deployed by a session whose role path is not known
/// (`assumed-role/App/*`) may be the role `/team/App`, which the key policy denies
/// PutKeyPolicy, so the lockout safety check is open for it (KMS052). The role `App` itself,
/// which the policy names, is plainly allowed; its answer is not the deployer's, whichever
/// order the policy names the roles in (the probe memo once took one for the other).
#[test]
fn r1_r112_a_deployer_session_with_an_assumed_role_path_is_not_answered_as_the_role() {
    for f in [
        "fixtures/lockout/deployer-session/plan-role-first.json",
        "fixtures/lockout/deployer-session/plan-role-second.json",
    ] {
        let got = findings(&[f]);
        assert!(has(&got, "KMS052", "warning"), "{f}: {got:?}");
    }
}
