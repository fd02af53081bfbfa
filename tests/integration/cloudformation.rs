//! CloudFormation templates, JSON and YAML, with intrinsics resolved from the command line.

use super::run;

fn can(template: &str, extra: &[&str], with_account: bool) -> serde_json::Value {
    let mut args = vec!["can", "--format", "json", "--region", "us-east-1"];
    if with_account {
        args.extend(["--account", "111122223333"]);
    }
    args.extend_from_slice(extra);
    args.push(template);
    let (code, out, err) = run(&args, None);
    assert_eq!(code, 0, "{out}{err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn sub_root_delegation_resolves_with_account_in_yaml_and_json() {
    for t in [
        "fixtures/cloudformation/key-with-sub.yaml",
        "fixtures/cloudformation/key-with-sub.json",
    ] {
        let root = [
            "--principal",
            "111122223333",
            "--action",
            "kms:ScheduleKeyDeletion",
            "--key",
            "AppKey",
        ];
        let v = can(t, &root, true);
        assert_eq!(v["decision"], "allow", "{t}: {v}");
        assert!(
            v["deciding"][0]
                .as_str()
                .unwrap()
                .ends_with("AppKey › Properties › KeyPolicy#EnableIamPolicies"),
            "{v}"
        );
        // Without the account the `Fn::Sub` stays open: undetermined, never a guess.
        let (code, out, _) = run(
            &[
                "can",
                "--format",
                "json",
                "--principal",
                "111122223333",
                "--action",
                "kms:ScheduleKeyDeletion",
                "--key",
                "arn:aws:kms:us-east-1:111122223333:key/planned-AppKey",
                t,
            ],
            None,
        );
        assert_eq!(code, 0);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["decision"], "undetermined", "{t}: {v}");
    }
}

#[test]
fn yaml_short_forms_aliases_parameters_and_default_policy() {
    let t = "fixtures/cloudformation/key-with-sub.yaml";
    // `!Join` with `!Ref AWS::AccountId` and a parameter default names the App role.
    let v = can(
        t,
        &[
            "--principal",
            "arn:aws:sts::111122223333:assumed-role/App/s1",
            "--action",
            "kms:Decrypt",
            "--key",
            "alias/app",
        ],
        true,
    );
    assert_eq!(v["decision"], "allow", "{v}");
    assert!(
        v["deciding"][0]
            .as_str()
            .unwrap()
            .ends_with("KeyPolicy#AppUse"),
        "{v}"
    );
    // `--param` overrides the default.
    let v = can(
        t,
        &[
            "--principal",
            "arn:aws:sts::111122223333:assumed-role/App/s1",
            "--action",
            "kms:Decrypt",
            "--key",
            "AppKey",
            "--param",
            "AppRoleName=Other",
        ],
        true,
    );
    assert_eq!(v["decision"], "implicit-deny", "{v}");
    // A key without KeyPolicy gets the default key policy.
    let v = can(
        t,
        &[
            "--principal",
            "111122223333",
            "--action",
            "kms:ScheduleKeyDeletion",
            "--key",
            "DefaultKey",
        ],
        true,
    );
    assert_eq!(
        v["deciding"][0],
        "default key policy#Enable IAM User Permissions"
    );
}

#[test]
fn check_points_into_the_template_and_names_open_values() {
    let (code, out, _) = run(
        &[
            "check",
            "--format",
            "concise",
            "-q",
            "--account",
            "111122223333",
            "fixtures/cloudformation/key-with-sub.json",
        ],
        None,
    );
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.contains(&"fixtures/cloudformation/key-with-sub.json:7:22: KMS051 `AppKey › Properties › KeyPolicy` holds values the template leaves open (GetAtt ConsumerRole.Arn): statements using them cannot be judged (give `--account`, `--region`, `--partition` or `--param NAME=VALUE` for the values kmsaudit can resolve)"), "{out}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("KMS010 `kms:Decrpyt` matches no KMS action")),
        "{out}"
    );
    // Open values are not reported as malformed principals.
    assert!(!out.contains("KMS045"), "{out}");
    let (code, out, _) = run(
        &[
            "check",
            "--format",
            "concise",
            "-q",
            "fixtures/cloudformation/key-with-sub.yaml",
            "--account",
            "111122223333",
        ],
        None,
    );
    assert_eq!(code, 0, "{out}");
}

/// `cdk synth` output for an `aws_kms.Key` with its default policy, and for one granted to a
/// role (`key.grantEncryptDecrypt(role)`): the root through `Fn::Join` of `AWS::Partition`
/// and `AWS::AccountId`, the key through `Fn::GetAtt Key.Arn`.
#[test]
fn r134_cdk_root_join_and_own_key_getatt_are_the_stacks_own_with_or_without_account() {
    for t in [
        "fixtures/cloudformation/cdk-key-default.template.json",
        "fixtures/cloudformation/cdk-key-grant.template.json",
    ] {
        for account in [None, Some("111122223333")] {
            let mut args = vec!["check", "--format", "concise", "-q"];
            if let Some(a) = account {
                args.extend(["--account", a]);
            }
            args.push(t);
            let (code, out, err) = run(&args, None);
            assert_eq!(code, 0, "{t} {account:?}: {out}{err}");
            assert!(
                !out.contains("KMS003") && !out.contains("KMS051"),
                "{t} {account:?}: {out}"
            );
        }
    }
    // The grant's identity policy names the stack's key, not every key (no KMS006).
    let (_, out, _) = run(
        &[
            "check",
            "--format",
            "concise",
            "fixtures/cloudformation/cdk-key-grant.template.json",
        ],
        None,
    );
    assert!(!out.contains("KMS006"), "{out}");
    // `can` does not guess the account: without `--account` the root stays open.
    let (_, out, _) = run(
        &[
            "can",
            "--format",
            "json",
            "--principal",
            "111122223333",
            "--action",
            "kms:ScheduleKeyDeletion",
            "--key",
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "--key-policy",
            "fixtures/cloudformation/cdk-key-default.template.json",
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_ne!(v["decision"], "implicit-deny", "{v}");
}

/// `Fn::GetAtt` of the key in its own policy: the key itself in `Resource` (`"*"`), a value
/// naming the key elsewhere (never `"*"`, which a condition could read as a wildcard) (R134).
#[test]
fn r134_own_key_getatt_is_this_key_in_resource_and_a_key_arn_in_conditions() {
    let t = "fixtures/cloudformation/own-key-getatt.json";
    let (code, out, err) = run(&["check", "--format", "json", t], None);
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    // No open value (KMS051), no `Resource` other than `*` (KMS028), no lockout (KMS003).
    assert_eq!(v["findings"].as_array().unwrap().len(), 0, "{out}");
    // The condition names the key, not every ARN: a log group's ARN does not meet it.
    let v = can(
        t,
        &[
            "--principal",
            "logs.amazonaws.com",
            "--action",
            "kms:Decrypt",
            "--key",
            "LogsKey",
            "--context",
            "aws:SourceArn=arn:aws:logs:us-east-1:111122223333:log-group:app",
        ],
        true,
    );
    assert_eq!(v["decision"], "implicit-deny", "{v}");
}

/// R133: a key policy holding `Fn::If` is read once per branch, `AWS::NoValue` removing what it
/// stands for; a public branch is reported with the parameter value that selects it, and a
/// template scoped in every branch draws no finding.
#[test]
fn r133_fn_if_and_no_value_are_resolved_per_branch() {
    let check = |t: &str| -> Vec<(String, String, String)> {
        let (_, out, err) = run(
            &[
                "check",
                "-q",
                "--format",
                "json",
                "--account",
                "111122223333",
                t,
            ],
            None,
        );
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
                    f["message"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let f = check("fixtures/cloudformation/if-branches/shared-key.yaml");
    let public: Vec<_> = f.iter().filter(|(c, _, _)| c == "KMS005").collect();
    assert_eq!(public.len(), 1, "{f:?}");
    assert_eq!(public[0].1, "error");
    assert!(
        public[0].2.contains("ScopeToOrg ≠ `yes`") && public[0].2.contains("e.g. `arn:aws:iam::"),
        "{f:?}"
    );
    // Every branch is a policy that can be judged: no open value, no malformed Condition.
    assert!(
        !f.iter().any(|(c, _, _)| c == "KMS051" || c == "KMS037"),
        "{f:?}"
    );
    let f = check("fixtures/cloudformation/if-branches/scoped-in-both-branches.yaml");
    assert!(f.is_empty(), "{f:?}");
}
