//! The security rule set on policies a user would recognise: quiet on AWS's documented
//! policies, loud on the dangerous patterns (spec §8).

use super::{check_file, fixture};
use kmsaudit::lint::Severity;

fn serious(path: &std::path::Path) -> Vec<String> {
    check_file(path, None)
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .map(|f| format!("{} {}", f.code(), f.message))
        .collect()
}

#[test]
fn quiet_on_documented_service_and_cross_account_key_policies() {
    let mut n = 0;
    for dir in ["defaults", "examples", "services"] {
        for e in std::fs::read_dir(fixture(dir)).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                continue; // examples/walkthrough: scenarios, some deliberately wrong
            }
            let got = serious(&path);
            assert!(got.is_empty(), "{}: {got:?}", path.display());
            n += 1;
        }
    }
    assert!(n >= 15, "{n}");
}

#[test]
fn l005_kms_via_service_alone_on_principal_star_is_public() {
    let checked = check_file(&fixture("rules/KMS005.json"), None);
    let f: Vec<_> = checked
        .findings
        .iter()
        .filter(|f| f.code() == "KMS005")
        .collect();
    assert!(
        f.iter()
            .any(|f| f.message.contains("kms:Decrypt") && f.message.contains("kms:ViaService")),
        "{f:?}"
    );
    assert!(f.iter().all(|f| f.severity == Severity::Error));
}

#[test]
fn l005_the_documented_cloudtrail_key_policy_is_not_public() {
    let checked = check_file(
        &fixture("services/cloudtrail-trail-console-default.json"),
        None,
    );
    assert!(
        !checked
            .findings
            .iter()
            .any(|f| f.code() == "KMS005" || f.code() == "KMS030"),
        "{:?}",
        checked.findings
    );
}

#[test]
fn l005_an_organisation_condition_restricts_and_an_encryption_context_does_not() {
    let text = r#"{"Version": "2012-10-17", "Statement": [
      {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"},
      {"Sid": "Org", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}},
      {"Sid": "Context", "Effect": "Allow", "Principal": "*", "Action": "kms:Encrypt", "Resource": "*", "Condition": {"StringEquals": {"kms:EncryptionContext:app": "billing"}}}
    ]}"#;
    let dir = std::env::temp_dir().join(format!("kmsaudit-l005-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("policy.json");
    std::fs::write(&path, text).unwrap();
    let checked = check_file(&path, None);
    let public: Vec<_> = checked
        .findings
        .iter()
        .filter(|f| f.code() == "KMS005")
        .map(|f| f.message.clone())
        .collect();
    assert_eq!(public.len(), 1, "{public:?}");
    assert!(
        public[0].contains("kms:Encrypt") && !public[0].contains("kms:Decrypt"),
        "{public:?}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn l009_a_via_service_region_other_than_the_keys_is_reported_when_the_region_is_known() {
    let f = "fixtures/rules/KMS009.json";
    let (_, out, _) = super::run(
        &[
            "check",
            "-q",
            "--format",
            "concise",
            "--select",
            "KMS009",
            "--region",
            "us-west-2",
            f,
        ],
        None,
    );
    assert!(
        out.contains("names Region `us-east-1`, but the key is in `us-west-2`"),
        "{out}"
    );
    // Without a known Region the values are only checked for their form.
    let (_, out, _) = super::run(
        &[
            "check", "-q", "--format", "concise", "--select", "KMS009", f,
        ],
        None,
    );
    assert!(!out.contains("but the key is in"), "{out}");
}

#[test]
fn one_inputs_account_is_not_applied_to_another_inputs_key_policies() {
    // The plan reveals account 111122223333; the SDK-default policy of account 123456789012
    // checked with it keeps its own account, so its root delegation is still seen.
    let (_, out, _) = super::run(
        &[
            "check",
            "-q",
            "--format",
            "concise",
            "fixtures/terraform/kms-basic/plan.json",
            "fixtures/inventory/acct-123456789012-default.json",
        ],
        None,
    );
    assert!(!out.contains("KMS001"), "{out}");
    assert!(!out.contains("KMS015"), "{out}");
}

#[test]
fn a_key_policy_with_resource_star_never_draws_an_identity_policy_rule() {
    for dir in ["defaults", "examples", "services"] {
        for e in std::fs::read_dir(fixture(dir)).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                continue;
            }
            let checked = check_file(&path, None);
            assert!(
                !checked
                    .findings
                    .iter()
                    .any(|f| f.code() == "KMS055" || f.code() == "KMS026"),
                "{:?}",
                checked.findings
            );
        }
    }
    // The same statements as an identity policy do.
    let (_, out, _) = super::run(
        &[
            "check",
            "--format",
            "concise",
            "--policy-kind",
            "identity",
            "fixtures/rules/KMS055.identity.json",
        ],
        None,
    );
    assert!(out.contains("KMS055"), "{out}");
}

#[test]
fn l005_an_organisation_other_than_the_configured_one_does_not_restrict() {
    let text = r#"{"Version": "2012-10-17", "Statement": [
      {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"},
      {"Sid": "OtherOrg", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-theirorg99"}}}
    ]}"#;
    let dir = std::env::temp_dir().join(format!("kmsaudit-org-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("policy.json");
    std::fs::write(&path, text).unwrap();
    let p = path.to_str().unwrap();
    let (_, out, _) = super::run(&["check", "--format", "concise", "--no-config", p], None);
    assert!(!out.contains("KMS005"), "{out}");
    let (_, out, _) = super::run(
        &[
            "check",
            "--format",
            "concise",
            "--config",
            "fixtures/config/organisation.toml",
            p,
        ],
        None,
    );
    assert!(out.contains("KMS005"), "{out}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Key policies are judged on several cores once there are enough of them: a directory of 120
/// checked in one run gives, finding for finding (rule, place, message, fingerprint), what each
/// file gives alone.
#[test]
fn many_key_policies_at_once_match_one_at_a_time() {
    let mut sources: Vec<std::path::PathBuf> = Vec::new();
    for dir in ["defaults", "services", "rules"] {
        for e in std::fs::read_dir(fixture(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "json") {
                sources.push(p);
            }
        }
    }
    sources.sort();
    let dir = std::env::temp_dir().join(format!("kmsaudit-many-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for i in 0..120 {
        let src = &sources[i % sources.len()];
        let to = dir.join(format!(
            "{i:03}-{}",
            src.file_name().unwrap().to_str().unwrap()
        ));
        std::fs::copy(src, &to).unwrap();
        files.push(to);
    }
    let run = |args: &[&str]| -> Vec<serde_json::Value> {
        let mut all = vec!["check", "--format", "json", "--fail-on", "never"];
        all.extend_from_slice(args);
        let (code, out, err) = super::run(&all, None);
        assert!(code == 0 || code == 2, "{code} {err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["findings"].as_array().unwrap().clone()
    };
    let key = |f: &serde_json::Value| {
        format!(
            "{} {} {} {} {}",
            f["file"], f["line"], f["code"], f["message"], f["fingerprint"]
        )
    };
    let mut together: Vec<String> = run(&[dir.to_str().unwrap()]).iter().map(key).collect();
    let mut alone: Vec<String> = files
        .iter()
        .flat_map(|f| run(&[f.to_str().unwrap()]))
        .map(|f| key(&f))
        .collect();
    together.sort();
    alone.sort();
    assert!(together.len() > 120, "{}", together.len());
    assert_eq!(together, alone);
    std::fs::remove_dir_all(dir).ok();
}

/// The statement of `doc` a finding points into (its position, from 0).
fn statement_of(checked: &super::Checked, f: &kmsaudit::lint::Finding) -> Option<usize> {
    checked.policies.iter().find_map(|p| {
        p.doc
            .statements
            .iter()
            .find(|st| st.span.start <= f.span.start && f.span.end <= st.span.end)
            .map(|st| st.index)
    })
}

#[test]
fn r10_a_repeated_sid_is_an_error_and_hides_no_statement_from_the_key_rules() {
    let checked = check_file(&fixture("duplicate-sid/hidden-statements.json"), None);
    let at = |code: &str| -> Vec<Option<usize>> {
        checked
            .findings
            .iter()
            .filter(|f| f.code() == code)
            .map(|f| statement_of(&checked, f))
            .collect()
    };
    // Every statement under a repeated `Sid` is reported as an error of its own.
    let dup: Vec<_> = checked
        .findings
        .iter()
        .filter(|f| f.code() == "KMS038" && f.message.contains("share a `Sid`"))
        .collect();
    assert_eq!(dup.len(), 4, "{dup:?}");
    assert!(dup.iter().all(|f| f.severity == Severity::Error));
    // The unconditioned service Allow under the second `Allow CloudWatch Logs` draws KMS030;
    // the guarded one under the first does not.
    assert_eq!(at("KMS030"), vec![Some(2)], "{:?}", checked.findings);
    // The public Allow under a second `Enable IAM User Permissions` draws KMS005 where it is,
    // not on the root delegation that first holds the `Sid`.
    assert_eq!(at("KMS005"), vec![Some(3)], "{:?}", checked.findings);
}

/// Where the rules for the mistakes real policies make fire over the corpus of real files, and
/// nowhere else: `Allow *` on `*` identity policies (an administrator's reach over every key,
/// KMS067/KMS068, as KMS055 reports its decrypt half); AWS's printed CloudTrail key policy whose
/// root statement names an S3 bucket as `Resource` (KMS072); Deny-only key policies nobody can
/// use (KMS069). None fires on AWS's documented defaults (see `rule_fixtures`).
#[test]
fn r19_r44_r54_r59_the_new_rules_fire_on_the_corpus_files_they_apply_to_only() {
    let (_, out, _) = super::run(
        &[
            "check",
            "--format",
            "concise",
            "-q",
            "fixtures/corpus",
            "fixtures/defaults",
        ],
        None,
    );
    let mut got: Vec<String> = out
        .lines()
        .filter_map(|l| {
            let (file, rest) = l.split_once(':')?;
            let code = rest.split_whitespace().nth(1)?;
            ["KMS067", "KMS068", "KMS069", "KMS070", "KMS071", "KMS072"]
                .contains(&code)
                .then(|| format!("{code} {file}"))
        })
        .collect();
    got.sort();
    got.dedup();
    let want = [
        "KMS067 fixtures/corpus/authz-details/cloudsplaining-example-account.json",
        "KMS067 fixtures/corpus/authz-details/iamspy-role-boundary-allow.json",
        "KMS067 fixtures/corpus/terraform-plan/regula-iam-admin-policies-tf013.json",
        "KMS068 fixtures/corpus/authz-details/cloudsplaining-example-account.json",
        "KMS068 fixtures/corpus/authz-details/iamspy-role-boundary-allow.json",
        "KMS068 fixtures/corpus/terraform-plan/regula-iam-admin-policies-tf013.json",
        "KMS069 fixtures/corpus/terraform-plan/kics-kms-full-permissions.json",
        "KMS069 fixtures/corpus/terraform-plan/kics-kms-vulnerable-policy.json",
        "KMS072 fixtures/corpus/key-policy/awsdocs-cloudtrail-default-trail-key-policy.json",
    ];
    assert_eq!(got, want, "{out}");
}

/// A key whose users are named only through `NotPrincipal`, or through `Principal "*"` with a
/// `kms:CallerAccount` condition, can be used by callers no probe stands for: KMS069 stays
/// quiet rather than claim no one can use it (R53, R59).
#[test]
fn r53_r59_users_the_probes_cannot_stand_for_keep_the_key_usable() {
    for f in [
        "key-use/not-principal-users.json",
        "key-use/caller-account-users.json",
    ] {
        let checked = check_file(&fixture(f), None);
        let codes: Vec<_> = checked.findings.iter().map(|f| f.code()).collect();
        assert!(!codes.contains(&"KMS069"), "{f}: {codes:?}");
    }
    // The same admin statement alone leaves the key unusable.
    let checked = check_file(
        &fixture("examples/walkthrough/key-no-root-delegation.json"),
        None,
    );
    assert!(checked.findings.iter().any(|f| f.code() == "KMS069"));
}
