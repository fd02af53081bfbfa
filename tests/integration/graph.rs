//! The access graph: `who-can`, `what-can`, `matrix` and `graph`, checked against the engine
//! one request at a time.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

use super::{fixture, run};

const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn files(dir: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(fixture(dir))
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .filter(|p| p.ends_with(".json"))
        .collect();
    v.sort();
    v
}

fn json_of(args: &[&str]) -> Value {
    let (code, out, err) = run(args, None);
    assert_eq!(code, 0, "{args:?}\n{out}\n{err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn who_can(dir: &str, action: &str, paths: &str) -> Value {
    let fs = files(dir);
    let mut args = vec![
        "who-can", "--action", action, "--key", KEY, "--paths", paths, "--format", "json",
    ];
    args.extend(fs.iter().map(String::as_str));
    json_of(&args)
}

/// `can --residual` for one principal, with extra flags: the decision, mapped to who-can's
/// words (`allow`, `conditional`, or `deny`/`undetermined`).
fn can(dir: &str, principal: &str, action: &str, extra: &[&str]) -> String {
    let fs = files(dir);
    let mut args = vec![
        "can",
        "--residual",
        "--principal",
        principal,
        "--action",
        action,
        "--key",
        KEY,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    args.extend(fs.iter().map(String::as_str));
    let (_, out, err) = run(&args, None);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let decision = v["decision"].as_str().unwrap().to_owned();
    let residual = v["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["residual"].as_array().is_some_and(|r| !r.is_empty()));
    match decision.as_str() {
        "undetermined" if residual => "conditional".into(),
        "explicit-deny" | "implicit-deny" => "deny".into(),
        other => other.into(),
    }
}

/// Every principal of the org fixture: its users and roles, and the two account roots the key
/// policy names.
fn org_principals() -> Vec<String> {
    let text = std::fs::read_to_string(fixture("graph/org/authorization-details.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut out = Vec::new();
    for list in ["UserDetailList", "RoleDetailList"] {
        for p in v[list].as_array().unwrap() {
            out.push(p["Arn"].as_str().unwrap().to_owned());
        }
    }
    out.push("arn:aws:iam::111122223333:root".into());
    out.push("arn:aws:iam::444455556666:root".into());
    out
}

fn rows_by_principal(v: &Value) -> BTreeMap<String, Value> {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["principal"].as_str().unwrap().to_owned(), r.clone()))
        .collect()
}

fn write_temp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kmsaudit-graph-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// The grantee ARN a role or user is named by in a grant.
fn grantee(actor: &str) -> String {
    actor.to_owned()
}

/// Replays one KMS step of an escalated path through `can`: the engine must allow it (or
/// allow it under conditions) on its own.
fn replay_kms_step(dir: &str, step: &Value, prev: Option<&Value>) -> String {
    let actor = step["actor"].as_str().unwrap();
    let action = step["action"].as_str().unwrap();
    let how = step["how"].as_str().unwrap();
    if action == "kms:CreateGrant" {
        let op = how
            .strip_prefix("grants itself ")
            .and_then(|r| r.split_whitespace().next())
            .unwrap();
        let req = serde_json::json!({
            "KeyId": KEY, "GranteePrincipal": grantee(actor), "Operations": [op]
        });
        let p = write_temp(&format!("grant-request-{op}.json"), &req.to_string());
        let p = p.display().to_string();
        return can(
            dir,
            actor,
            action,
            &[
                "--grant-request",
                &p,
                "--context",
                "kms:GrantIsForAWSResource=false",
            ],
        );
    }
    if how.starts_with("uses the grant it created") {
        let op = action.trim_start_matches("kms:");
        let grants = serde_json::json!({"Grants": [{
            "KeyId": KEY, "GrantId": "self-granted", "GranteePrincipal": grantee(actor),
            "IssuingAccount": "arn:aws:iam::111122223333:root", "Operations": [op]
        }]});
        let p = write_temp("self-grant.json", &grants.to_string());
        let p = p.display().to_string();
        return can(dir, actor, action, &["--grants", &p]);
    }
    if how.starts_with("with the policy written for it") {
        assert!(prev.is_some_and(|p| p["action"].as_str().unwrap().starts_with("iam:")));
        let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": action, "Resource": KEY}]});
        let p = write_temp("written.json", &policy.to_string());
        let p = p.display().to_string();
        return can(dir, actor, action, &["--identity-policy", &p]);
    }
    can(dir, actor, action, &[])
}

/// Acceptance: who-can lists exactly the principals the engine allows when asked one by one,
/// including those reached only through a grant, a role chain or CreateGrant.
#[test]
fn who_can_matches_the_engine_principal_by_principal() {
    let dir = "graph/org";
    let direct = rows_by_principal(&who_can(dir, "kms:Decrypt", "direct"));
    let all = rows_by_principal(&who_can(dir, "kms:Decrypt", "all"));
    for p in org_principals() {
        let engine = can(dir, &p, "kms:Decrypt", &[]);
        match direct.get(&p) {
            Some(row) => {
                assert_eq!(row["decision"].as_str().unwrap(), engine, "{p}: {row}");
                assert_eq!(row["escalated"], false);
            }
            None => assert_eq!(engine, "deny", "{p} missing from who-can --paths direct"),
        }
        // With every path, a principal the engine denies is listed only through an escalation
        // whose every KMS step the engine allows on its own.
        if engine == "deny" {
            if let Some(row) = all.get(&p) {
                assert_eq!(row["escalated"], true, "{p}");
                let path = row["path"].as_array().unwrap();
                let mut prev = None;
                for step in path {
                    let action = step["action"].as_str().unwrap();
                    assert!(
                        !step["via"].as_array().unwrap().is_empty(),
                        "{p}: a step without the statement that allows it: {step}"
                    );
                    if action.starts_with("kms:") {
                        let got = replay_kms_step(dir, step, prev);
                        assert!(
                            got == "allow" || got == "conditional",
                            "{p}: step {step} replayed as {got}"
                        );
                    }
                    prev = Some(step);
                }
            }
        }
    }
    // The grantee is reached only through the grant; the chains and CreateGrant only with
    // escalation; the denied and describe-only roles never.
    assert!(direct.contains_key("arn:aws:iam::111122223333:role/GrantUser"));
    for p in ["Dev", "Ops", "CI", "Builder", "IamAdmin", "Partner"] {
        let arn = format!("arn:aws:iam::111122223333:role/{p}");
        assert!(!direct.contains_key(&arn), "{p}");
        assert_eq!(all[&arn]["escalated"], true, "{p}");
    }
    assert_eq!(
        all["arn:aws:iam::111122223333:user/bob"]["path"][0]["action"],
        "iam:CreateAccessKey"
    );
    for p in ["Denied", "Auditor"] {
        assert!(!all.contains_key(&format!("arn:aws:iam::111122223333:role/{p}")));
    }
    // A cross-account class row says what it needs.
    let partner = &all["account:444455556666"];
    assert_eq!(partner["decision"], "conditional");
    assert!(
        partner["conditions"][0]
            .as_str()
            .unwrap()
            .contains("IAM policies allow")
    );
    // Conditions travel with the path: Partner needs Vendor's external id.
    let conds = all["arn:aws:iam::111122223333:role/Partner"]["conditions"].to_string();
    assert!(conds.contains("sts:ExternalId"), "{conds}");
    assert_eq!(
        all["arn:aws:iam::111122223333:role/Reader"]["decision"],
        "conditional"
    );
}

/// Acceptance: A can assume B, B holds CreateGrant, nobody holds Decrypt: A reaches Decrypt
/// in three explained steps.
#[test]
fn role_chain_then_create_grant_reaches_decrypt_in_three_steps() {
    let dir = "graph/escalation";
    let direct = who_can(dir, "kms:Decrypt", "direct");
    assert!(direct["rows"].as_array().unwrap().is_empty(), "{direct}");
    let all = rows_by_principal(&who_can(dir, "kms:Decrypt", "all"));
    let a = &all["arn:aws:iam::111122223333:role/A"];
    assert_eq!(a["decision"], "allow");
    assert_eq!(a["escalated"], true);
    let path = a["path"].as_array().unwrap();
    let steps: Vec<(&str, &str)> = path
        .iter()
        .map(|s| (s["actor"].as_str().unwrap(), s["action"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            ("arn:aws:iam::111122223333:role/A", "sts:AssumeRole"),
            ("arn:aws:iam::111122223333:role/B", "kms:CreateGrant"),
            ("arn:aws:iam::111122223333:role/B", "kms:Decrypt"),
        ]
    );
    assert!(
        path[0]["via"][0]
            .as_str()
            .unwrap()
            .contains("role/B › trust policy")
    );
    assert!(
        path[1]["via"][0]
            .as_str()
            .unwrap()
            .contains("Grant management for B")
    );
    assert!(path[2]["how"].as_str().unwrap().contains("grant"));
    // Each KMS step stands on its own in the engine.
    assert_eq!(replay_kms_step(dir, &path[1], Some(&path[0])), "allow");
    assert_eq!(replay_kms_step(dir, &path[2], Some(&path[1])), "allow");
    // The role nobody can reach stays out.
    assert!(!all.contains_key("arn:aws:iam::111122223333:role/C"));
    // The human table names the steps too.
    let fs = files(dir);
    let mut args = vec!["who-can", "--action", "kms:Decrypt", "--key", KEY];
    args.extend(fs.iter().map(String::as_str));
    let (code, out, _) = run(&args, None);
    assert_eq!(code, 0);
    assert!(out.contains("1. role/A sts:AssumeRole on role/B"), "{out}");
    assert!(out.contains("allow (escalation)"), "{out}");
}

/// CreateGrant respects `kms:GrantOperations`: a key policy that lets B grant only Encrypt
/// gives no path to Decrypt.
#[test]
fn create_grant_escalation_respects_grant_operations() {
    let fs = files("graph/escalation");
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "Encrypt grants only", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:role/B"},
        "Action": "kms:CreateGrant", "Resource": "*",
        "Condition": {"ForAllValues:StringEquals": {"kms:GrantOperations": ["Encrypt"]}}}]});
    let p = write_temp("encrypt-grants.json", &policy.to_string());
    let p = p.display().to_string();
    let mut args = vec![
        "who-can",
        "--action",
        "kms:Decrypt",
        "--key",
        KEY,
        "--key-policy",
        &p,
        "--format",
        "json",
    ];
    args.extend(fs.iter().map(String::as_str));
    let v = json_of(&args);
    assert!(v["rows"].as_array().unwrap().is_empty(), "{v}");
    args[2] = "kms:Encrypt";
    let v = rows_by_principal(&json_of(&args));
    assert_eq!(
        v["arn:aws:iam::111122223333:role/A"]["path"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn what_can_lists_each_key_action_with_its_path() {
    let fs = files("graph/org");
    let mut args = vec![
        "what-can",
        "--principal",
        "arn:aws:iam::111122223333:role/CI",
        "--format",
        "json",
    ];
    args.extend(fs.iter().map(String::as_str));
    let v = json_of(&args);
    let actions: Vec<&str> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"kms:CreateGrant"), "{actions:?}");
    assert!(actions.contains(&"kms:Decrypt"), "{actions:?}");
    assert!(!actions.contains(&"kms:PutKeyPolicy"), "{actions:?}");
    for r in v["rows"].as_array().unwrap() {
        assert_eq!(r["path"][0]["action"], "sts:AssumeRole", "{r}");
    }
}

#[test]
fn matrix_shows_the_six_default_actions() {
    let fs = files("graph/org");
    let mut args = vec!["matrix", "--paths", "direct", "--format", "json"];
    args.extend(fs.iter().map(String::as_str));
    let v = json_of(&args);
    let admin: Vec<&str> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["principal"] == "arn:aws:iam::111122223333:role/Admin")
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        admin,
        [
            "kms:CreateGrant",
            "kms:Decrypt",
            "kms:Encrypt",
            "kms:GenerateDataKey",
            "kms:PutKeyPolicy",
            "kms:ScheduleKeyDeletion"
        ]
    );
    // Each cell agrees with the engine.
    for r in v["rows"].as_array().unwrap().iter().take(40) {
        let p = r["principal"].as_str().unwrap();
        if p.starts_with("arn:") {
            let got = can("graph/org", p, r["action"].as_str().unwrap(), &[]);
            assert_eq!(got, r["decision"].as_str().unwrap(), "{r}");
        }
    }
}

fn graph_export(format: &str) -> String {
    let fs = files("graph/org");
    let mut args = vec!["graph", "--format", format];
    args.extend(fs.iter().map(String::as_str));
    let (code, out, err) = run(&args, None);
    assert_eq!(code, 0, "{err}");
    out
}

#[test]
fn graph_exports_dot_mermaid_and_json_with_a_legend() {
    let dot = graph_export("dot");
    assert!(dot.starts_with("digraph kmsaudit {"));
    assert!(dot.contains("cluster_legend"));
    assert!(dot.contains("shape=cylinder"), "keys are cylinders");
    assert!(dot.contains("label=\"sts:AssumeRole\""), "{dot}");
    assert!(dot.contains("label=\"kms:CreateGrant\""), "{dot}");
    let mermaid = graph_export("mermaid");
    assert!(mermaid.starts_with("flowchart LR"));
    assert!(mermaid.contains("subgraph Legend"));
    let json: Value = serde_json::from_str(&graph_export("json")).unwrap();
    let kinds: Vec<&str> = json["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    for k in [
        "role",
        "user",
        "group",
        "key",
        "grant",
        "root",
        "account-principals",
    ] {
        assert!(kinds.contains(&k), "{k} missing: {kinds:?}");
    }
}

/// Renders the DOT output with Graphviz. `.ci/run` installs Graphviz and sets
/// `KMSAUDIT_REQUIRE_GRAPHVIZ=1`, so there the test cannot pass without rendering.
#[test]
fn graph_dot_renders_to_svg_with_graphviz() {
    let dot = graph_export("dot");
    let spawned = std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            assert!(
                std::env::var_os("KMSAUDIT_REQUIRE_GRAPHVIZ").is_none(),
                "Graphviz is required here: {e}"
            );
            eprintln!("Graphviz `dot` is not installed: rendering not checked ({e})");
            return;
        }
    };
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(dot.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "dot failed: {err}");
    assert!(!err.contains("Warning") && !err.contains("Error"), "{err}");
    let svg = String::from_utf8(out.stdout).unwrap();
    assert!(svg.starts_with("<?xml"), "{svg}");
    assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("Legend"));
    assert!(svg.contains("IamAdmin"));
    // Well formed: every element opened is closed.
    let opens = svg.matches("<g ").count() + svg.matches("<g>").count();
    assert_eq!(opens, svg.matches("</g>").count());
}

/// Each output format of the graph commands has a snapshot.
#[test]
fn graph_command_formats_have_snapshots() {
    let fs = files("graph/escalation");
    let cases: [(&str, Vec<&str>); 6] = [
        (
            "who_can_human",
            vec!["who-can", "--action", "kms:Decrypt", "--key", KEY],
        ),
        (
            "who_can_json",
            vec![
                "who-can",
                "--action",
                "kms:Decrypt",
                "--key",
                KEY,
                "--format",
                "json",
            ],
        ),
        (
            "what_can_json",
            vec![
                "what-can",
                "--principal",
                "arn:aws:iam::111122223333:role/A",
                "--format",
                "json",
            ],
        ),
        ("matrix_human", vec!["matrix"]),
        ("graph_mermaid", vec!["graph", "--format", "mermaid"]),
        (
            "what_can_human",
            vec![
                "what-can",
                "--principal",
                "arn:aws:iam::111122223333:role/A",
            ],
        ),
    ];
    for (name, mut args) in cases {
        args.extend(fs.iter().map(String::as_str));
        let (code, out, err) = run(&args, None);
        assert_eq!(code, 0, "{name}: {err}");
        assert!(!out.contains('\u{1b}'), "{name}: escape codes");
        insta::assert_snapshot!(name, out);
    }
}

/// Without the key policy nothing is guessed: every principal's answer is undetermined, and
/// the note says what is missing.
#[test]
fn a_key_without_its_policy_gives_undetermined_rows_and_a_note() {
    let v = json_of(&[
        "who-can",
        "--action",
        "kms:Decrypt",
        "--key",
        KEY,
        "--format",
        "json",
        &fixture("graph/org/authorization-details.json")
            .display()
            .to_string(),
        &fixture("graph/org/describe-key.json").display().to_string(),
    ]);
    let rows = v["rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["decision"] == "undetermined"), "{v}");
    assert!(
        v["notes"].to_string().contains("is not in the inputs"),
        "{v}"
    );
}

/// R46 step 7: who-can's path column never says "allowed" on a row the inputs leave open.
#[test]
fn r46_who_can_path_never_says_allowed_on_an_undetermined_row() {
    let args = [
        "who-can",
        "--action",
        "kms:Decrypt",
        "--key",
        KEY,
        &fixture("graph/org/authorization-details.json")
            .display()
            .to_string(),
        &fixture("graph/org/describe-key.json").display().to_string(),
    ]
    .map(|s| s.to_owned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = run(&args, None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("undetermined"), "{out}");
    assert!(!out.contains("allowed"), "{out}");
    let mut json = args.clone();
    json.extend(["--format", "json"]);
    let v = json_of(&json);
    let rows = v["rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    for r in rows {
        assert_eq!(r["decision"], "undetermined", "{r}");
        for step in r["path"].as_array().unwrap() {
            assert_ne!(step["how"], "allowed", "{r}");
        }
    }
}

/// R24: a trust policy that names one session of a role (`assumed-role/A/alice`) may or may
/// not name the session the role is used with: whether the role can assume it is unknown,
/// and a note says so, instead of the move being silently left out.
#[test]
fn r24_trust_naming_one_session_of_a_role_leaves_the_move_unknown_with_a_note() {
    let details = serde_json::json!({
        "UserDetailList": [],
        "GroupDetailList": [],
        "Policies": [],
        "RoleDetailList": [
            {
                "Path": "/", "RoleName": "A", "RoleId": "AROAAXXXXXXXXXXXXXXXX",
                "Arn": "arn:aws:iam::111122223333:role/A",
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
                "RolePolicyList": [{"PolicyName": "assume", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::111122223333:role/B"}]}}],
                "AttachedManagedPolicies": []
            },
            {
                "Path": "/", "RoleName": "B", "RoleId": "AROABXXXXXXXXXXXXXXXX",
                "Arn": "arn:aws:iam::111122223333:role/B",
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:sts::111122223333:assumed-role/A/alice"}, "Action": "sts:AssumeRole"}]},
                "RolePolicyList": [{"PolicyName": "decrypt", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY}]}}],
                "AttachedManagedPolicies": []
            }
        ]
    });
    let key_policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;
    let details = write_temp("session-trust-details.json", &details.to_string());
    let key_policy = write_temp("session-trust-key-policy.json", key_policy);
    let v = json_of(&[
        "who-can",
        "--action",
        "kms:Decrypt",
        "--key",
        KEY,
        "--format",
        "json",
        "--key-policy",
        &key_policy.display().to_string(),
        &details.display().to_string(),
    ]);
    let rows = rows_by_principal(&v);
    assert!(
        !rows.contains_key("arn:aws:iam::111122223333:role/A"),
        "{v}"
    );
    let notes = v["notes"].to_string();
    assert!(
        notes.contains(
            "can call sts:AssumeRole on `arn:aws:iam::111122223333:role/B` is not judged"
        ),
        "{v}"
    );
}

/// Issue 23 item 6: with a key policy alone, a role the inputs do not hold has no identity
/// policy (as `can` takes it), the answer says so once, and `--identity-unknown` shows its
/// access as conditional on its IAM; the root-delegation class stays a class.
#[test]
fn missing_iam_is_known_empty_with_a_note_unless_identity_unknown() {
    let kp = fixture("graph/org/get-key-policy.json")
        .display()
        .to_string();
    let dk = fixture("graph/org/describe-key.json").display().to_string();
    let base = [
        "who-can",
        "--action",
        "kms:Decrypt",
        "--key",
        KEY,
        "--format",
        "json",
        &kp,
        &dk,
    ];
    let row = |v: &Value, p: &str| -> Value {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["principal"] == p)
            .cloned()
            .unwrap_or_else(|| panic!("{p} missing: {v}"))
    };
    let reader = "arn:aws:iam::111122223333:role/Reader";
    let v = json_of(&base);
    let r = row(&v, reader);
    assert_eq!(r["decision"], "conditional", "{r}");
    assert_eq!(r["iam_assumed"], false, "{r}");
    assert!(!r["conditions"].to_string().contains("IAM"), "{r}");
    assert!(
        v["notes"]
            .to_string()
            .contains("no identity policies were given"),
        "{v}"
    );
    let class = row(&v, "account:111122223333");
    assert!(class["conditions"].to_string().contains("IAM"), "{class}");

    let mut unknown = base.to_vec();
    unknown.push("--identity-unknown");
    let v = json_of(&unknown);
    let r = row(&v, reader);
    assert_eq!(r["iam_assumed"], true, "{r}");
    assert!(
        r["conditions"]
            .to_string()
            .contains("its own IAM policies allow it"),
        "{r}"
    );
    assert!(
        !v["notes"]
            .to_string()
            .contains("no identity policies were given"),
        "{v}"
    );
}

/// R46, R75: `kms:RetireGrant` is decided by the target grant, which a key-wide question does
/// not name, so the engine cannot settle it; the graph must not turn that open answer into an
/// allow (a row without reasons read as one). The same request through `can` is undetermined.
#[test]
fn r46_an_answer_the_engine_leaves_open_is_never_an_allow_row() {
    let key = "arn:aws:kms:us-east-1:111122223333:key/1111aaaa-11aa-11aa-11aa-111111111111";
    let inputs = [
        fixture("diff/describe-key.json"),
        fixture("diff/get-key-policy.json"),
    ];
    let inputs: Vec<&str> = inputs.iter().map(|p| p.to_str().unwrap()).collect();
    let mut args = vec![
        "who-can",
        "--action",
        "kms:RetireGrant",
        "--key",
        key,
        "--format",
        "json",
    ];
    args.extend(&inputs);
    let (_, out, err) = run(&args, None);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let rows = v["rows"].as_array().unwrap();
    assert!(!rows.is_empty(), "{out}");
    for r in rows {
        assert_eq!(r["decision"], "undetermined", "{r}");
    }
    let mut args = vec![
        "can",
        "--no-trace",
        "--principal",
        "arn:aws:iam::111122223333:role/KeyAdmin",
        "--action",
        "kms:RetireGrant",
        "--key",
        key,
    ];
    args.extend(&inputs);
    let (_, out, _) = run(&args, None);
    assert!(out.contains("decision: undetermined"), "{out}");
}

/// A principal with two ways to a key, one unconditional (a role allowed `kms:Decrypt`) and
/// one only under a tag (a role allowed it when `aws:PrincipalTag/team` is `fin`), is shown
/// with the unconditional one, whichever role's name comes first: a weaker path found
/// earlier must not understate the access.
#[test]
fn the_strongest_path_is_shown_whatever_the_order_of_the_roles() {
    let rows = rows_by_principal(&who_can("graph/stronger-path", "kms:Decrypt", "all"));
    let bob = &rows["arn:aws:iam::111122223333:user/Bob"];
    assert_eq!(bob["decision"], "allow", "{bob}");
    assert!(bob.to_string().contains("role/DecRole"), "{bob}");
    // The same inputs with the conditional role renamed to sort after the other
    // (`AbacRole` comes before `DecRole`, `ZAbacRole` after it).
    let text = std::fs::read_to_string(fixture("graph/stronger-path/authorization-details.json"))
        .unwrap()
        .replace("AbacRole", "ZAbacRole");
    let renamed = write_temp("stronger-path-authorization-details.json", &text);
    let mut args = vec![
        "who-can",
        "--action",
        "kms:Decrypt",
        "--key",
        KEY,
        "--format",
        "json",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect::<Vec<_>>();
    args.push(renamed.display().to_string());
    for f in ["describe-key.json", "get-key-policy.json"] {
        args.push(
            fixture(&format!("graph/stronger-path/{f}"))
                .display()
                .to_string(),
        );
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let rows = rows_by_principal(&json_of(&args));
    let bob = &rows["arn:aws:iam::111122223333:user/Bob"];
    assert_eq!(bob["decision"], "allow", "{bob}");
}
