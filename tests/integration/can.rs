//! `kmsaudit can` as users run it: answers, explanations, exit codes, batches.

use super::run;

const K1: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const ALICE: &str = "arn:aws:iam::111122223333:user/Alice";

fn can(extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["can"];
    args.extend_from_slice(extra);
    run(&args, None)
}

#[test]
fn e3_access_denied_question_is_answered() {
    // "I added kms:Decrypt to my IAM policy and still get AccessDenied — why?"
    let (code, out, err) = can(&[
        "--principal",
        ALICE,
        "--action",
        "kms:Decrypt",
        "--key",
        K1,
        "--key-policy",
        "fixtures/cases/policies/F2.json",
        "--identity-policy",
        "fixtures/cases/policies/I2.json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("decision: implicit-deny"), "{out}");
    // The IAM statement that allows…
    assert!(
        out.contains("IAM policy I2.json#1 allows `kms:Decrypt`"),
        "{out}"
    );
    // …the missing key-policy statement…
    assert!(
        out.contains(
            "the key policy has no statement that allows `arn:aws:iam::111122223333:root`"
        ),
        "{out}"
    );
    // …and the fix.
    assert!(out.contains("add the root delegation statement"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn json_answer_has_decision_path_trace_residual_notes() {
    let (code, out, _) = can(&[
        "--principal",
        ALICE,
        "--action",
        "kms:Decrypt",
        "--key",
        K1,
        "--key-policy",
        "fixtures/cases/policies/F1.json",
        "--identity-policy",
        "fixtures/cases/policies/I1.json",
        "--key-state",
        "PendingDeletion",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["decision"], "allow");
    assert_eq!(v["path"], "root delegation + IAM");
    assert_eq!(
        v["deciding"],
        serde_json::json!(["F1.json#Root", "I1.json#1"])
    );
    assert!(v["trace"].as_array().unwrap().len() >= 4);
    assert_eq!(v["residual"], serde_json::json!([]));
    assert!(
        v["notes"][0]
            .as_str()
            .unwrap()
            .contains("KeyState=PendingDeletion"),
        "{out}"
    );
    let step = v["trace"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "key policy (Allow)")
        .unwrap();
    assert_eq!(
        step["statements"][0]["location"],
        "fixtures/cases/policies/F1.json:1:40"
    );
}

#[test]
fn expect_sets_the_exit_code() {
    let base = [
        "--principal",
        ALICE,
        "--action",
        "kms:Decrypt",
        "--key",
        K1,
        "--key-policy",
        "fixtures/cases/policies/F1.json",
        "--identity-policy",
        "fixtures/cases/policies/I1.json",
    ];
    let with = |e: &str| {
        let mut a = base.to_vec();
        a.extend(["--expect", e]);
        can(&a).0
    };
    assert_eq!(with("allow"), 0);
    assert_eq!(with("deny"), 1);
    assert_eq!(with("implicit-deny"), 1);
}

#[test]
fn residual_says_what_open_keys_must_be() {
    let (code, out, _) = can(&[
        "--principal",
        "arn:aws:iam::111122223333:role/App",
        "--action",
        "kms:Decrypt",
        "--key",
        K1,
        "--key-policy",
        "fixtures/can/tenant-key-policy.json",
        "--residual",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["decision"], "undetermined");
    assert_eq!(
        v["residual_text"],
        "allowed only if `kms:EncryptionContext:tenant` is `c1` (tenant-key-policy.json#TenantThroughS3) and `kms:ViaService` is `s3.us-east-1.amazonaws.com` (tenant-key-policy.json#TenantThroughS3)"
    );
    // Without --residual the keys are absent: a direct call is denied.
    let (_, out, _) = can(&[
        "--principal",
        "arn:aws:iam::111122223333:role/App",
        "--action",
        "kms:Decrypt",
        "--key",
        K1,
        "--key-policy",
        "fixtures/can/tenant-key-policy.json",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["decision"], "implicit-deny");
    // And given, they decide.
    let (_, out, _) = can(&[
        "--principal",
        "arn:aws:iam::111122223333:role/App",
        "--action",
        "kms:Decrypt",
        "--key",
        K1,
        "--key-policy",
        "fixtures/can/tenant-key-policy.json",
        "--via-service",
        "s3.us-east-1.amazonaws.com",
        "--encryption-context",
        "tenant=c1",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["decision"], "allow");
}

#[test]
fn grants_from_list_grants_output() {
    let args = |ec: &str| {
        let mut a = vec![
            "--principal",
            "arn:aws:sts::111122223333:assumed-role/Batch/job-1",
            "--context",
            "aws:PrincipalArn=arn:aws:iam::111122223333:role/Batch",
            "--action",
            "kms:Decrypt",
            "--key",
            K1,
            "--key-policy",
            "fixtures/cases/policies/F2.json",
            "--grants",
            "fixtures/can/grants.json",
        ];
        if !ec.is_empty() {
            a.extend(["--encryption-context", ec]);
        }
        a.extend(["--format", "json"]);
        can(&a)
    };
    let v: serde_json::Value = serde_json::from_str(&args("Department=IT").1).unwrap();
    assert_eq!(v["decision"], "allow");
    assert_eq!(v["path"], "grant");
    let v: serde_json::Value = serde_json::from_str(&args("").1).unwrap();
    assert_eq!(v["decision"], "implicit-deny");
    assert!(
        v["reasons"].as_array().unwrap().iter().any(|r| r
            .as_str()
            .unwrap()
            .contains("EncryptionContextSubset")
            || r.as_str().unwrap().contains("include {`Department`=`IT`}")),
        "{v}"
    );
}

#[test]
fn get_key_policy_output_is_accepted() {
    let (code, out, _) = can(&[
        "--principal",
        "111122223333",
        "--action",
        "kms:ScheduleKeyDeletion",
        "--key",
        K1,
        "--key-policy",
        "fixtures/examples/get-key-policy-output.json",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["decision"], "allow");
}

#[test]
fn batch_requests_one_line_each_and_expectations() {
    let (code, out, err) = can(&[
        "--requests",
        "fixtures/can/requests.jsonl",
        "--key",
        K1,
        "--key-policy",
        "fixtures/cases/policies/F5.json",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert!(lines.iter().all(|l| l["expect_met"] == true));
    let (code, out, _) = can(&[
        "--requests",
        "fixtures/can/requests-failing.jsonl",
        "--key",
        K1,
        "--key-policy",
        "fixtures/cases/policies/F5.json",
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("FAILED"), "{out}");
}

#[test]
fn usage_and_input_errors_exit_2() {
    let (code, _, err) = can(&[
        "--principal",
        "bob",
        "--action",
        "kms:Decrypt",
        "--key",
        K1,
        "--key-policy",
        "fixtures/cases/policies/F1.json",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("is not a principal"), "{err}");
    let (code, _, err) = can(&[
        "--principal",
        ALICE,
        "--action",
        "kms:Decrpyt",
        "--key",
        K1,
        "--key-policy",
        "fixtures/cases/policies/F1.json",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `kms:Decrypt`?"), "{err}");
    let (code, _, err) = can(&[
        "--principal",
        ALICE,
        "--action",
        "kms:Decrypt",
        "--key",
        "arn:aws:kms:us-east-1:111122223333:alias/x",
        "--key-policy",
        "fixtures/cases/policies/F1.json",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("not a key ARN"), "{err}");
    let (code, _, err) = can(&[
        "--principal",
        ALICE,
        "--action",
        "kms:Decrypt",
        "--key",
        K1,
        "--key-policy",
        "fixtures/mistakes/not-json.json",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("not-json.json:4:24: KMS031"), "{err}");
    let (code, _, _) = can(&[
        "--principal",
        ALICE,
        "--action",
        "kms:Decrypt",
        "--key",
        K1,
        "--key-policy",
        "fixtures/cases/policies/F1.json",
        "--open",
        "Q99",
    ]);
    assert_eq!(code, 2);
}

#[test]
fn parse_level_open_defaults_q12_q13() {
    let args = |open: &[&str]| {
        let mut a = vec![
            "--principal",
            "arn:aws:iam::111122223333:role/App",
            "--action",
            "kms:Decrypt",
            "--key",
            K1,
            "--key-policy",
            "fixtures/can/duplicate-and-lowercase.json",
            "--via-service",
            "s3.us-east-1.amazonaws.com",
            "--format",
            "json",
        ];
        for o in open {
            a.extend(["--open", o]);
        }
        let (_, out, _) = can(&a);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["decision"].as_str().unwrap().to_owned()
    };
    // Q12 default: the last `StringEquals` (s3) counts; Q13 default: `stringequals` is read.
    assert_eq!(args(&[]), "allow");
    // Q12 switched: the first (sqs) counts.
    assert_eq!(args(&["Q12"]), "implicit-deny");
    // Q13 switched: `stringequals` is an unknown operator: undetermined.
    assert_eq!(args(&["Q13"]), "undetermined");
}

/// A batch larger than one read chunk, answered by several workers: every answer comes back in
/// input order and equals the one-request answer, a role's sessions share the role's answer,
/// and a bad line in the middle is named by its number while the others are all answered.
/// The small organisation of `fixtures/graph/org`: authorization details first, then the key's
/// `get-key-policy`, `list-grants` and `describe-key` outputs.
fn org_files() -> Vec<String> {
    [
        "authorization-details.json",
        "get-key-policy.json",
        "list-grants.json",
        "describe-key.json",
    ]
    .iter()
    .map(|f| format!("fixtures/graph/org/{f}"))
    .collect()
}

#[test]
fn big_batch_answers_in_order_and_matches_single_requests() {
    let files = org_files();
    let text = std::fs::read_to_string(super::root().join(&files[0])).unwrap();
    let gaad: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut principals: Vec<(String, bool)> = Vec::new();
    for u in gaad["UserDetailList"].as_array().unwrap() {
        principals.push((u["Arn"].as_str().unwrap().to_owned(), false));
    }
    for r in gaad["RoleDetailList"].as_array().unwrap() {
        principals.push((r["RoleName"].as_str().unwrap().to_owned(), true));
    }
    let actions = [
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:DescribeKey",
        "kms:PutKeyPolicy",
    ];
    let combos: Vec<(usize, &str)> = (0..principals.len())
        .flat_map(|p| actions.iter().map(move |a| (p, *a)))
        .collect();
    let principal_of = |p: usize, i: usize| {
        let (name, role) = &principals[p];
        if *role {
            format!("arn:aws:sts::111122223333:assumed-role/{name}/s{i}")
        } else {
            name.clone()
        }
    };
    const N: usize = 20_000;
    const BAD: usize = 9_000;
    let mut lines = String::new();
    for i in 0..N {
        if i == BAD {
            lines.push_str("{not json\n");
            continue;
        }
        let (p, a) = combos[i % combos.len()];
        let req = serde_json::json!({
            "id": format!("q{i}"), "principal": principal_of(p, i), "action": a, "key": K1,
        });
        lines.push_str(&req.to_string());
        lines.push('\n');
    }
    let path =
        std::env::temp_dir().join(format!("kmsaudit-big-batch-{}.jsonl", std::process::id()));
    std::fs::write(&path, lines).unwrap();
    let mut args: Vec<&str> = vec!["--requests", path.to_str().unwrap(), "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let (code, out, err) = can(&args);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(&format!(":{}:", BAD + 1)), "{err}");
    assert!(err.contains("1 request line(s) could not be read"), "{err}");
    let answers: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), N - 1);
    let ids: Vec<usize> = (0..N).filter(|&i| i != BAD).collect();
    let mut by_combo: Vec<Option<String>> = vec![None; combos.len()];
    for (a, &i) in answers.iter().zip(&ids) {
        assert_eq!(a["id"], format!("q{i}"));
        let decision = a["decision"].as_str().unwrap().to_owned();
        match &by_combo[i % combos.len()] {
            Some(d) => assert_eq!(*d, decision, "{a}"),
            None => by_combo[i % combos.len()] = Some(decision),
        }
    }
    let mut allowed = 0;
    for (c, (p, action)) in combos.iter().enumerate() {
        let principal = principal_of(*p, c);
        let mut single: Vec<&str> = vec![
            "--principal",
            &principal,
            "--action",
            action,
            "--key",
            K1,
            "--format",
            "json",
        ];
        single.extend(files.iter().map(String::as_str));
        let (_, out, err) = can(&single);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{err}"));
        assert_eq!(
            by_combo[c].as_deref(),
            v["decision"].as_str(),
            "{principal} {action}"
        );
        allowed += usize::from(v["decision"] == "allow");
    }
    // The fixture has principals on both sides of each answer.
    assert!(allowed > 0 && allowed < combos.len(), "{allowed}");
    std::fs::remove_file(path).ok();
}

/// A session of a role the authorization details lack: the answer says which role is missing
/// (all its sessions share that answer), and the IAM side is not taken as allowing.
#[test]
fn a_session_of_a_missing_role_names_the_role_r1() {
    let mut args = vec![
        "--principal",
        "arn:aws:sts::111122223333:assumed-role/Ghost/session-7",
        "--action",
        "kms:Decrypt",
        "--key",
        K1,
        "--format",
        "json",
    ];
    let files = org_files();
    args.extend(files.iter().map(String::as_str));
    let (_, out, err) = can(&args);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{err}"));
    assert_ne!(v["decision"], "allow", "{v}");
    assert!(
        out.contains(
            "the role `arn:aws:iam::111122223333:role/Ghost` is not in the authorization details given"
        ),
        "{out}"
    );
    assert!(!out.contains("session-7` is not"), "{out}");
}

/// R46, R54: an identity statement that would allow but for its condition is named with the
/// condition that fails — not "no identity policy allows it — attach one".
#[test]
fn r54_identity_statement_whose_condition_fails_is_named_with_its_condition() {
    let (code, out, err) = can(&[
        "--no-trace",
        "--principal",
        "arn:aws:iam::111122223333:role/App",
        "--action",
        "kms:Decrypt",
        "--key",
        K1,
        "--key-policy",
        "fixtures/examples/console-default-key-policy.json",
        "--identity-policy",
        "fixtures/can/app-decrypt-through-s3.json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("decision: implicit-deny"), "{out}");
    assert!(
        out.contains(
            "identity policy `app-decrypt-through-s3.json#DecryptThroughS3` allows `kms:Decrypt`, but its condition `StringEquals kms:ViaService` fails"
        ),
        "{out}"
    );
    assert!(!out.contains("no identity policy"), "{out}");
    assert!(!out.contains("attach"), "{out}");
    // Through S3 the same statement allows.
    let (_, out, _) = can(&[
        "--principal",
        "arn:aws:iam::111122223333:role/App",
        "--action",
        "kms:Decrypt",
        "--key",
        K1,
        "--key-policy",
        "fixtures/examples/console-default-key-policy.json",
        "--identity-policy",
        "fixtures/can/app-decrypt-through-s3.json",
        "--via-service",
        "s3.us-east-1.amazonaws.com",
    ]);
    assert!(out.contains("decision: allow"), "{out}");
}

/// R46 step 7: an `undetermined` answer says what is open and suggests no fix — neither when
/// the identity side is open nor when another path is.
#[test]
fn r46_undetermined_answer_never_suggests_attaching_a_policy() {
    for extra in [
        // The identity statement's condition is left open.
        vec![
            "--key-policy",
            "fixtures/examples/console-default-key-policy.json",
            "--identity-policy",
            "fixtures/can/app-decrypt-through-s3.json",
        ],
        // The key-policy statement naming the role is left open; no identity policy allows.
        vec![
            "--key-policy",
            "fixtures/examples/walkthrough/key-tenant-context.json",
        ],
    ] {
        let mut args = vec![
            "--residual",
            "--no-trace",
            "--principal",
            "arn:aws:iam::111122223333:role/Uploader",
            "--action",
            "kms:Decrypt",
            "--key",
            K1,
        ];
        args.extend(extra);
        let (code, out, err) = can(&args);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("decision: undetermined"), "{out}");
        assert!(!out.contains("attach"), "{out}");
        assert!(!out.contains("add the root delegation"), "{out}");
    }
}

/// R75: a grant whose retiring principal is the caller's account lets the account's principals
/// whose IAM allows retire it. With the caller's identity policies unknown the answer is
/// undetermined, so the explanation may not say "the caller is none of these"; it says the
/// answer turns on the caller's IAM policies, and lists them as unknown.
#[test]
fn r75_retire_grant_open_on_iam_is_not_explained_as_a_refusal() {
    let (code, out, err) = can(&[
        "--principal",
        ALICE,
        "--action",
        "kms:RetireGrant",
        "--key",
        K1,
        "--grants",
        "fixtures/can/grant-to-account.json",
        "--grant-id",
        "6666ffff7f76e4ba7987489ac329fbfba6ad343d6f7075dbd1ef191f0120514a",
        "--identity-unknown",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["decision"], "undetermined", "{v}");
    let reasons = v["reasons"].to_string();
    assert!(!reasons.contains("none of these"), "{reasons}");
    assert!(reasons.contains("depends on its IAM policies"), "{reasons}");
    let unknowns = v["unknowns"].to_string();
    assert!(
        unknowns.contains("the caller's identity policies are not known\""),
        "{unknowns}"
    );
}

/// A spec rule id, a step number or an open-question id in user output: `R55`, `L005`, `Q25`,
/// "path 6", `6a`…`6e`, or a step numbered like "3 SCP gate".
fn cites_rule_id(out: &str) -> Option<String> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    for token in out.split(|c: char| !c.is_ascii_alphanumeric()) {
        let rule = token
            .strip_prefix('R')
            .is_some_and(|n| digits(n) && n.len() <= 3);
        let lint = token
            .strip_prefix("L0")
            .is_some_and(|n| digits(n) && n.len() == 2);
        let open = token
            .strip_prefix('Q')
            .map(|n| n.strip_suffix('b').unwrap_or(n))
            .is_some_and(|n| digits(n) && n.len() <= 2);
        let step = matches!(token.as_bytes(), [b'1'..=b'7', b'a'..=b'e']);
        if rule || lint || open || step {
            return Some(token.to_owned());
        }
    }
    let steps = [
        "explicit deny",
        "RCP gate",
        "SCP gate",
        "VPC endpoint",
        "cross-account",
        "key policy (Allow)",
        "key-policy",
        "identity p",
        "grants —",
        "RetireGrant",
        "no applicable",
        "permissions boundary",
        "session policies —",
    ];
    for n in '1'..='7' {
        if out.contains(&format!("path {n}")) {
            return Some(format!("path {n}"));
        }
        for s in steps {
            let numbered = format!("{n} {s}");
            if out.contains(&numbered) {
                return Some(numbered);
            }
        }
    }
    None
}

/// Words users know: `can`, `who-can`, `what-can`, `matrix` and `check-put-policy` over
/// realistic fixtures, in every output format, with traces, explanations, unknowns and notes,
/// never cite a spec rule id or a step number (issue 19, item 6).
#[test]
fn r46_user_output_never_cites_a_rule_id_or_step_number() {
    let w = "fixtures/examples/walkthrough";
    let kp = |f: &str| format!("{w}/{f}");
    let key_policy = "fixtures/examples/console-default-key-policy.json";
    let app = "arn:aws:sts::111122223333:assumed-role/App/s1";
    let partner = "arn:aws:sts::444455556666:assumed-role/Partner/s1";
    let requests: Vec<Vec<String>> = vec![
        // Root delegation without IAM; with IAM; identity unknown.
        vec![
            "--principal",
            app,
            "--action",
            "kms:Decrypt",
            "--key",
            K1,
            "--key-policy",
            key_policy,
        ],
        vec![
            "--principal",
            app,
            "--action",
            "kms:Decrypt",
            "--key",
            K1,
            "--key-policy",
            &kp("key-no-root-delegation.json"),
            "--identity-policy",
            &kp("app-iam.json"),
        ],
        vec![
            "--principal",
            app,
            "--action",
            "kms:Decrypt",
            "--key",
            K1,
            "--key-policy",
            key_policy,
            "--identity-unknown",
        ],
        // Cross-account, explicit deny, tenant context (residual), grants.
        vec![
            "--principal",
            partner,
            "--action",
            "kms:Decrypt",
            "--key",
            K1,
            "--key-policy",
            &kp("key-shared-with-partner.json"),
            "--identity-policy",
            &kp("partner-iam.json"),
        ],
        vec![
            "--principal",
            app,
            "--action",
            "kms:Decrypt",
            "--key",
            K1,
            "--key-policy",
            &kp("key-deny-outside-endpoint.json"),
            "--identity-policy",
            &kp("app-iam.json"),
        ],
        vec![
            "--principal",
            app,
            "--action",
            "kms:Decrypt",
            "--key",
            K1,
            "--key-policy",
            &kp("key-tenant-context.json"),
            "--residual",
        ],
        vec![
            "--principal",
            app,
            "--action",
            "kms:Decrypt",
            "--key",
            K1,
            "--key-policy",
            key_policy,
            "--grants",
            "fixtures/can/grants.json",
        ],
        // Multi-check calls with missing inputs, RetireGrant, a key-admin action across accounts.
        vec![
            "--principal",
            app,
            "--action",
            "kms:ReEncrypt",
            "--key",
            K1,
            "--key-policy",
            key_policy,
        ],
        vec![
            "--principal",
            app,
            "--action",
            "kms:CreateAlias",
            "--key",
            K1,
            "--key-policy",
            key_policy,
        ],
        vec![
            "--principal",
            app,
            "--action",
            "kms:RetireGrant",
            "--key",
            K1,
            "--key-policy",
            key_policy,
        ],
        vec![
            "--principal",
            partner,
            "--action",
            "kms:ScheduleKeyDeletion",
            "--key",
            K1,
            "--key-policy",
            key_policy,
        ],
        vec![
            "--principal",
            "s3.amazonaws.com",
            "--action",
            "kms:Decrypt",
            "--key",
            K1,
            "--key-policy",
            key_policy,
        ],
    ]
    .into_iter()
    .map(|r| r.into_iter().map(str::to_owned).collect())
    .collect();
    let mut outputs = Vec::new();
    for r in &requests {
        for format in [
            &["--format", "json"][..],
            &["--format", "human"],
            &["--no-trace"],
        ] {
            let mut args: Vec<&str> = r.iter().map(String::as_str).collect();
            args.extend_from_slice(format);
            let (code, out, err) = can(&args);
            assert!(code == 0 || code == 1, "{args:?}: {err}");
            outputs.push((args.join(" "), format!("{out}{err}")));
        }
    }
    let esc = "fixtures/examples/walkthrough/escalation";
    let files = [
        format!("{esc}/authorization-details.json"),
        format!("{esc}/get-key-policy.json"),
        format!("{esc}/describe-key.json"),
    ];
    let graph: [Vec<&str>; 3] = [
        vec!["who-can", "--action", "kms:Decrypt", "--key", K1],
        vec![
            "what-can",
            "--principal",
            "arn:aws:iam::111122223333:role/A",
        ],
        vec!["matrix"],
    ];
    for g in &graph {
        for format in ["json", "human"] {
            let mut args = g.clone();
            args.extend(["--format", format]);
            args.extend(files.iter().map(String::as_str));
            let (code, out, err) = run(&args, None);
            assert!(code == 0 || code == 1, "{args:?}: {err}");
            outputs.push((args.join(" "), format!("{out}{err}")));
        }
    }
    // The lockout safety check's answer, rejected and accepted.
    for policy in [kp("key-no-root-delegation.json"), key_policy.to_owned()] {
        let args = [
            "check-put-policy",
            "--caller",
            "arn:aws:sts::111122223333:assumed-role/Deployer/ci",
            "--policy",
            &policy,
        ];
        let (code, out, err) = run(&args, None);
        assert!(code == 0 || code == 1, "{args:?}: {err}");
        outputs.push((args.join(" "), format!("{out}{err}")));
    }
    // A key with no policy in a Terraform plan stands on the default key policy, named in the
    // answer and its trace.
    for format in ["json", "human"] {
        let args = [
            "can",
            "--principal",
            "111122223333",
            "--action",
            "kms:ScheduleKeyDeletion",
            "--key",
            "module.keys[\"a\"].aws_kms_key.this",
            "--account",
            "111122223333",
            "--format",
            format,
            "fixtures/terraform/kms-basic/plan.json",
        ];
        let (code, out, err) = run(&args, None);
        assert!(out.contains("default key policy"), "{out}");
        assert!(code == 0 || code == 1, "{args:?}: {err}");
        outputs.push((args.join(" "), format!("{out}{err}")));
    }
    // `check` on every fixture directory, with every finding's help and notes.
    for dir in [
        "rules",
        "mistakes",
        "terraform",
        "cloudformation",
        "examples",
        "cases",
    ] {
        for format in ["json", "human"] {
            let path = format!("fixtures/{dir}");
            let args = ["check", "--format", format, &path];
            let (code, out, err) = run(&args, None);
            assert!(code <= 2, "{args:?}: {err}");
            // File names are the fixtures' own (`R88-K2.json`), not the tool's words.
            let text = format!("{out}{err}");
            let words: Vec<&str> = text
                .split(' ')
                .filter(|w| !w.contains("fixtures/"))
                .collect();
            outputs.push((args.join(" "), words.join(" ")));
        }
    }
    for (cmd, out) in &outputs {
        assert!(
            !out.trim().is_empty() || cmd.contains("--no-trace"),
            "{cmd}: no output"
        );
        if let Some(id) = cites_rule_id(out) {
            panic!("`{cmd}` cites `{id}`:\n{out}");
        }
    }
}

/// Identity policies nobody gave are read as none, the same in every command, and `can` says
/// so; `--identity-policy` or `--identity-unknown` settle it and the note goes.
#[test]
fn missing_identity_policies_are_taken_as_none_and_said_so() {
    let base = [
        "can",
        "--principal",
        "arn:aws:iam::111122223333:role/App",
        "--action",
        "kms:Decrypt",
        "--key",
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "--key-policy",
        "fixtures/examples/console-default-key-policy.json",
        "--no-trace",
    ];
    let note = "no identity policies were given for the caller: taken as none";
    let (code, out, err) = super::run(&base, None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("decision: implicit-deny"), "{out}");
    assert!(out.contains(note), "{out}");
    let mut unknown = base.to_vec();
    unknown.push("--identity-unknown");
    let (_, out, _) = super::run(&unknown, None);
    assert!(out.contains("decision: undetermined"), "{out}");
    assert!(!out.contains(note), "{out}");
    let mut given = base.to_vec();
    given.extend([
        "--identity-policy",
        "fixtures/examples/walkthrough/app-iam.json",
    ]);
    let (_, out, _) = super::run(&given, None);
    assert!(!out.contains(note), "{out}");
}
