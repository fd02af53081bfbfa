//! Terraform plans: the committed plan of each HCL fixture, and the same plan made again by
//! the real Terraform (mandatory in CI: `.ci/run` sets `KMSAUDIT_REQUIRE_TERRAFORM=1`).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{fixture, run};

fn can(plan: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["can", "--format", "json", "--account", "111122223333"];
    args.extend_from_slice(extra);
    args.push(plan.to_str().unwrap());
    let (code, out, err) = run(&args, None);
    assert_eq!(code, 0, "{out}{err}");
    serde_json::from_str(&out).unwrap()
}

/// What kmsaudit must answer on the `kms-basic` plan, committed or regenerated.
fn assert_kms_basic(plan: &Path) {
    let (code, out, _) = run(
        &["check", "--format", "json", "-q", plan.to_str().unwrap()],
        None,
    );
    assert_eq!(code, 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let codes: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_owned(),
                f["embedded"]["source"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let has = |code: &str, inside: &str| codes.iter().any(|(c, s)| c == code && s.contains(inside));
    // The public-looking principal in a policy rendered by jsonencode, in its own source.
    assert!(has("KMS014", "aws_kms_key.app › policy"), "{codes:?}");
    // A typo in an inline role policy.
    assert!(
        has("KMS010", "aws_iam_role_policy.app_kms › policy"),
        "{codes:?}"
    );
    // A policy known only after apply is named, never passed silently.
    assert!(codes.iter().any(|(c, _)| c == "KMS051"), "{codes:?}");
    assert!(out.contains("aws_kms_key.unknown_policy"), "{out}");

    let alice = [
        "--principal",
        "arn:aws:iam::111122223333:user/Alice",
        "--identity-policy",
        "fixtures/cases/policies/I2.json",
        "--action",
        "kms:Decrypt",
    ];
    // aws_kms_key_policy replaces the key's (default) policy.
    let mut a = alice.to_vec();
    a.extend(["--key", "aws_kms_key.default_policy"]);
    let v = can(plan, &a);
    assert_eq!(v["decision"], "allow", "{v}");
    assert!(
        v["deciding"][0]
            .as_str()
            .unwrap()
            .ends_with("aws_kms_key_policy.replace › policy#Root"),
        "{v}"
    );
    // A key whose policy is unknown until apply: undetermined, naming it.
    let mut a = alice.to_vec();
    a.extend(["--key", "aws_kms_key.unknown_policy"]);
    let v = can(plan, &a);
    assert_eq!(v["decision"], "undetermined", "{v}");
    assert!(
        v["unknowns"]
            .to_string()
            .contains("the policy of `aws_kms_key.unknown_policy` is known only after apply"),
        "{v}"
    );
    // A key in a for_each module with no policy argument gets the default key policy (R117).
    let v = can(
        plan,
        &[
            "--principal",
            "111122223333",
            "--action",
            "kms:ScheduleKeyDeletion",
            "--key",
            "module.keys[\"a\"].aws_kms_key.this",
        ],
    );
    assert_eq!(v["decision"], "allow", "{v}");
    assert_eq!(
        v["deciding"][0],
        "default key policy#Enable IAM User Permissions"
    );
    // A grant whose key_id refers to a key being created, with its constraint.
    let app = [
        "--principal",
        "arn:aws:sts::111122223333:assumed-role/App/s1",
        "--action",
        "kms:Decrypt",
        "--key",
        "aws_kms_key.app",
    ];
    let mut a = app.to_vec();
    a.extend(["--encryption-context", "Department=Finance"]);
    assert_eq!(can(plan, &a)["path"], "grant");
    assert_eq!(can(plan, &app)["decision"], "implicit-deny");
}

#[test]
fn committed_plans_are_read() {
    assert_kms_basic(&fixture("terraform/kms-basic/plan.json"));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else if p.extension().is_some_and(|x| x == "tf") {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn plans_regenerated_with_real_terraform() {
    let required = std::env::var("KMSAUDIT_REQUIRE_TERRAFORM").is_ok_and(|v| v == "1");
    let have = Command::new("terraform")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        assert!(
            !required,
            "KMSAUDIT_REQUIRE_TERRAFORM=1 but no `terraform` on PATH"
        );
        eprintln!("terraform not found: the regeneration test needs it (CI requires it)");
        return;
    }
    let mirror = PathBuf::from(
        std::env::var("KMSAUDIT_TF_PLUGIN_DIR").unwrap_or_else(|_| "/opt/tf-plugins".into()),
    );
    assert!(
        mirror.is_dir(),
        "no Terraform provider mirror at {} (set KMSAUDIT_TF_PLUGIN_DIR)",
        mirror.display()
    );
    let work = std::env::temp_dir().join(format!("kmsaudit-tf-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let rc = work.join("terraformrc");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(
        &rc,
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path = \"{}\"\n    include = [\"registry.terraform.io/*/*\"]\n  }}\n  direct {{ exclude = [\"registry.terraform.io/*/*\"] }}\n}}\n",
            mirror.display()
        ),
    )
    .unwrap();
    let mut cases: Vec<String> = std::fs::read_dir(fixture("terraform"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    cases.sort();
    assert!(!cases.is_empty());
    for case in &cases {
        let dir = work.join(case);
        copy_dir(&fixture(&format!("terraform/{case}")), &dir);
        let tf = |args: &[&str]| {
            let out = Command::new("terraform")
                .args(args)
                .current_dir(&dir)
                .env("TF_CLI_CONFIG_FILE", &rc)
                .env("TF_IN_AUTOMATION", "1")
                .env("CHECKPOINT_DISABLE", "1")
                // The Region a configuration without one takes from the environment (the
                // `no-region` case): the plan does not record it.
                .env("AWS_REGION", "eu-west-1")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "terraform {args:?}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        };
        tf(&["init", "-input=false", "-no-color"]);
        tf(&["plan", "-input=false", "-no-color", "-out", "plan.out"]);
        let json = tf(&["show", "-json", "plan.out"]);
        let plan = dir.join("plan.json");
        std::fs::write(&plan, json).unwrap();
        // Whatever the case, the regenerated plan draws the same findings as the committed one.
        let findings = |p: &Path| -> Vec<String> {
            let (_, out, _) = run(
                &["check", "--format", "json", "-q", p.to_str().unwrap()],
                None,
            );
            let v: serde_json::Value = serde_json::from_str(&out).unwrap();
            let mut f: Vec<String> = v["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| format!("{} {}", f["code"], f["message"]))
                .collect();
            f.sort();
            f
        };
        assert_eq!(
            findings(&plan),
            findings(&fixture(&format!("terraform/{case}/plan.json"))),
            "{case}"
        );
        if case == "kms-basic" {
            assert_kms_basic(&plan);
        }
    }
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn sensitive_policies_are_checked_but_never_printed() {
    let text = std::fs::read_to_string(fixture("terraform/kms-basic/plan.json")).unwrap();
    let mut plan: serde_json::Value = serde_json::from_str(&text).unwrap();
    for rc in plan["resource_changes"].as_array_mut().unwrap() {
        if rc["address"] == "aws_kms_key.app" {
            rc["change"]["after_sensitive"] = serde_json::json!({"policy": true});
        }
    }
    let dir = std::env::temp_dir().join(format!("kmsaudit-sensitive-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("plan.json");
    std::fs::write(&path, serde_json::to_string(&plan).unwrap()).unwrap();
    for format in ["concise", "json", "human"] {
        let (code, out, _) = run(
            &["check", "--format", format, "-q", path.to_str().unwrap()],
            None,
        );
        assert_eq!(code, 1, "{out}");
        // The finding is there (KMS014 on the app key's policy)…
        assert!(out.contains("KMS014"), "{format}: {out}");
        // …but the sensitive text is not.
        assert!(!out.contains("role/*"), "{format}: {out}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// R133: a real plan whose policies and grant are known only after apply, on a key made in a
/// module, keys made with `for_each` and a key that already exists. Every one of those
/// policies is reported and counted as not checked (`--fail-on-unchecked` fails), none of the
/// keys is taken for one without a policy, and the grant whose grantee is known only after
/// apply is reported and answered undetermined for any principal.
#[test]
fn r133_policies_and_grantees_known_after_apply_are_never_passed() {
    let plan = fixture("terraform/late-policies/plan.json");
    let plan = plan.to_str().unwrap();
    let (code, out, _) = run(&["check", "--format", "json", "-q", plan], None);
    assert_eq!(code, 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let messages: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["code"].as_str().unwrap(),
                f["message"].as_str().unwrap()
            )
        })
        .collect();
    for late in [
        "KMS051 the policy of `module.kms.aws_kms_key.this` is known only after apply",
        "KMS051 the policy of `aws_kms_key.team[\"billing\"]` is known only after apply",
        "KMS051 the policy of `aws_kms_key.team[\"orders\"]` is known only after apply",
        "KMS051 the policy `aws_kms_key_policy.existing` sets on `1234abcd-12ab-34cd-56ef-1234567890ab` is known only after apply",
        "KMS051 the grantee of `aws_kms_grant.app` is known only after apply",
    ] {
        assert!(
            messages.iter().any(|m| m.starts_with(late)),
            "{late}\n{messages:#?}"
        );
    }
    assert!(
        !messages.iter().any(|m| m.starts_with("KMS059")),
        "a key whose policy is set after apply is not one without a policy: {messages:#?}"
    );
    assert_eq!(v["summary"]["unchecked"], 4, "{}", v["summary"]);
    let (code, _, _) = run(
        &[
            "check",
            "-q",
            "--fail-on",
            "never",
            "--fail-on-unchecked",
            plan,
        ],
        None,
    );
    assert_eq!(code, 1);
    // The grant may be anyone's: a stranger's Decrypt through it is undetermined, not denied.
    let (_, out, _) = run(
        &[
            "can",
            "--format",
            "json",
            "--no-trace",
            "--principal",
            "arn:aws:iam::444455556666:role/X",
            "--action",
            "kms:Decrypt",
            "--key",
            "aws_kms_key.shared",
            "--account",
            "111122223333",
            "--region",
            "us-east-1",
            plan,
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["decision"], "undetermined", "{out}");
}
