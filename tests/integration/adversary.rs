//! The adversary model (R24, R55, R89, R105): public, grant and confused-deputy findings decided by a
//! request an adversary can make, with the request shown; and the property that a silent
//! KMS005 means no adversary request is allowed.

use std::sync::Arc;

use kmsaudit::eval::{
    self, Caller, Decision, Inputs, KeyFacts, KeyInputs, NamedPolicy, Options, Request,
};
use kmsaudit::lint::Severity;
use kmsaudit::lint::keys::KeyLintContext;
use kmsaudit::policy::PolicyKind;
use kmsaudit::source::SourceId;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::{check_file, fixture};

const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/// Every construct of `fixtures/adversary`: each `.bad` file draws its rule's finding with the
/// adversary's request that gets in; its `.good` twin draws none.
#[test]
fn r24_r105_each_dangerous_construct_is_found_with_a_counterexample_and_its_twin_is_quiet() {
    let mut paths: Vec<_> = std::fs::read_dir(fixture("adversary"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    let (mut bad, mut good) = (0, 0);
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let code = name[..6].to_ascii_uppercase();
        let checked = check_file(&path, None);
        let hits: Vec<_> = checked
            .findings
            .iter()
            .filter(|f| f.code() == code)
            .collect();
        if name.contains(".bad.") {
            bad += 1;
            assert!(!hits.is_empty(), "{name}: no {code}");
            for f in &hits {
                let shown = match code.as_str() {
                    "KMS005" => "e.g. `arn:aws:iam::000011112222:",
                    "KMS022" => "e.g. `arn:aws:iam::111122223333:role/App` calling kms:CreateGrant",
                    _ => "e.g. `cloudtrail.amazonaws.com` calling",
                };
                assert!(
                    f.message.contains(shown)
                        || f.message.contains("e.g. `arn:aws:iam::111199999999:")
                        // A numeric test on the account: the account just past it.
                        || f.message.contains("e.g. `arn:aws:iam::111122223334:"),
                    "{name}: no counterexample in `{}`",
                    f.message
                );
                if code == "KMS005" {
                    assert_eq!(f.severity, Severity::Error, "{name}");
                }
            }
        } else {
            good += 1;
            assert!(hits.is_empty(), "{name}: {hits:?}");
        }
    }
    assert!(bad >= 20 && bad == good, "{bad} bad, {good} good");
}

#[test]
fn r24_the_counterexample_names_the_expected_principal_and_value() {
    let msg = |rel: &str, code: &str| {
        check_file(&fixture(rel), None)
            .findings
            .iter()
            .filter(|f| f.code() == code)
            .map(|f| f.message.clone())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let m = msg(
        "adversary/kms005-principal-arn-any-account.bad.json",
        "KMS005",
    );
    assert!(m.contains("`arn:aws:iam::000011112222:role/Deploy`"), "{m}");
    let m = msg("adversary/kms005-caller-account-prefix.bad.json", "KMS005");
    assert!(m.contains("`arn:aws:iam::111199999999:"), "{m}");
    let m = msg("adversary/kms005-org-if-exists.bad.json", "KMS005");
    assert!(m.contains("no `aws:PrincipalOrgID`"), "{m}");
    let m = msg("adversary/kms005-ip-any.bad.json", "KMS005");
    assert!(m.contains("`aws:SourceIp` = `52.94.0.99`"), "{m}");
    let m = msg("adversary/kms030-source-arn-any-account.bad.json", "KMS030");
    assert!(
        m.contains("`aws:SourceArn` = `arn:aws:cloudtrail:kmsaudit-adversary:000011112222:trail/kmsaudit-adversary`"),
        "{m}"
    );
    let m = msg(
        "adversary/kms005-identity-center-any-account.bad.json",
        "KMS005",
    );
    assert!(
        m.contains("role/aws-reserved/sso.amazonaws.com/kmsaudit-adversary`"),
        "{m}"
    );
}

#[test]
fn r108_a_misspelt_guard_in_a_deny_is_an_error_of_its_own() {
    let checked = check_file(&fixture("adversary/kms005-misspelt-guard.bad.json"), None);
    let f: Vec<_> = checked
        .findings
        .iter()
        .filter(|f| f.code() == "KMS066")
        .collect();
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].severity, Severity::Error);
    assert!(f[0].message.contains("aws:PrincipleOrgPaths"), "{f:?}");
    let good = check_file(&fixture("adversary/kms005-misspelt-guard.good.json"), None);
    assert!(!good.findings.iter().any(|f| f.code() == "KMS066"));
    // In an Allow it is a warning.
    let rules = check_file(&fixture("rules/KMS066.json"), None);
    assert!(
        rules
            .findings
            .iter()
            .any(|f| f.code() == "KMS066" && f.severity == Severity::Warning)
    );
}

// ---- The property: a silent KMS005 means no adversary request is allowed. ----

fn adversarial_condition() -> impl Strategy<Value = Option<Value>> {
    let org = "o-a1b2c3d4e5";
    prop_oneof![
        Just(None),
        Just(Some(json!({"StringEquals": {"aws:PrincipalOrgID": org}}))),
        Just(Some(
            json!({"StringEqualsIfExists": {"aws:PrincipalOrgID": org}})
        )),
        Just(Some(
            json!({"StringNotEquals": {"aws:PrincipalOrgID": org}})
        )),
        Just(Some(json!({"StringLike": {"aws:PrincipalOrgID": "o-*"}}))),
        Just(Some(
            json!({"ForAllValues:StringLike": {"aws:PrincipalOrgPaths": [format!("{org}/*")]}})
        )),
        Just(Some(json!({"Null": {"aws:PrincipalOrgID": "false"}}))),
        Just(Some(json!({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}))),
        Just(Some(
            json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})
        )),
        Just(Some(
            json!({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
        )),
        Just(Some(json!({"StringLike": {"aws:SourceVpce": "vpce-*"}}))),
        Just(Some(
            json!({"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f67890"}})
        )),
        Just(Some(
            json!({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}})
        )),
        Just(Some(
            json!({"StringLike": {"aws:UserAgent": "*terraform*"}})
        )),
        Just(Some(json!({"Bool": {"aws:SecureTransport": "true"}}))),
        Just(Some(json!({"Bool": {"aws:ViaAWSService": "true"}}))),
        Just(Some(json!({"StringLike": {"kms:CallerAccount": "1111*"}}))),
        Just(Some(
            json!({"StringEquals": {"kms:CallerAccount": "111122223333"}})
        )),
        Just(Some(
            json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Deploy"}})
        )),
        Just(Some(
            json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/*"}})
        )),
        Just(Some(
            json!({"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}})
        )),
        Just(Some(
            json!({"StringEquals": {"kms:EncryptionContext:app": "billing"}})
        )),
    ]
}

fn statement() -> impl Strategy<Value = Value> {
    (
        0..5usize,
        prop_oneof![
            Just(json!("*")),
            Just(json!({"AWS": "*"})),
            Just(json!({"AWS": "arn:aws:iam::111122223333:role/App"})),
        ],
        prop_oneof![
            Just(json!("kms:Decrypt")),
            Just(json!("kms:*")),
            Just(json!(["kms:Encrypt", "kms:GenerateDataKey*"])),
        ],
        adversarial_condition(),
        adversarial_condition(),
    )
        .prop_map(|(effect, p, a, c1, c2)| {
            let mut s = json!({"Effect": if effect == 0 { "Deny" } else { "Allow" }, "Principal": p, "Action": a, "Resource": "*"});
            let mut cond = serde_json::Map::new();
            for c in [c1, c2].into_iter().flatten() {
                if let Value::Object(o) = c {
                    for (k, v) in o {
                        cond.entry(k).or_insert(v);
                    }
                }
            }
            if !cond.is_empty() {
                s["Condition"] = Value::Object(cond);
            }
            s
        })
}

/// One adversary request, drawn independently of the rule's own search: a principal of an
/// account the policies do not name, and request values such a caller can give.
#[derive(Debug, Clone)]
struct Adv {
    principal: usize,
    action: usize,
    org: usize,
    ip: usize,
    vpce: bool,
    agent: usize,
    insecure: bool,
    via: bool,
    ec: bool,
}

fn adversary() -> impl Strategy<Value = Adv> {
    (
        (0..8usize, 0..3usize, 0..3usize, 0..3usize),
        (prop::bool::ANY, 0..3usize, prop::bool::ANY),
        (prop::bool::ANY, prop::bool::ANY),
    )
        .prop_map(
            |((principal, action, org, ip), (vpce, agent, insecure), (via, ec))| Adv {
                principal,
                action,
                org,
                ip,
                vpce,
                agent,
                insecure,
                via,
                ec,
            },
        )
}

fn parse(text: &str) -> NamedPolicy {
    let j = kmsaudit::json::parse(text).unwrap();
    let (doc, _) = kmsaudit::policy::parse_policy(&j, SourceId::new(0, 0), PolicyKind::Key);
    NamedPolicy {
        name: "key policy".into(),
        doc: Arc::new(doc),
    }
}

fn adversary_decision(policy: &NamedPolicy, a: &Adv) -> Decision {
    let everything = parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    );
    let inputs = Inputs {
        keys: vec![Arc::new(KeyInputs {
            facts: KeyFacts::from_arn(KEY).unwrap(),
            policies: Some(vec![policy.clone()]),
            grants: Some(Vec::new()),
            policy_unknown: None,
        })],
        identity: Some(vec![everything].into()),
        ..Inputs::default()
    };
    let principal = [
        "arn:aws:iam::000011112222:root",
        "arn:aws:iam::000011112222:user/Mallory",
        "arn:aws:iam::000011112222:role/Deploy",
        "arn:aws:sts::000011112222:federated-user/Mallory",
        "arn:aws:iam::111199999999:role/Deploy",
        "arn:aws:iam::111100000000:root",
        "arn:aws:iam::999988887777:role/App",
        "arn:aws:iam::999988887777:user/App",
    ][a.principal];
    let action = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"][a.action];
    let mut req = Request::new(Caller::parse(principal, None).unwrap(), action, KEY);
    match a.org {
        1 => req
            .context
            .push(("aws:principalorgid".into(), "o-zz9yy8xx7w".into())),
        2 => {
            req.context
                .push(("aws:principalorgid".into(), "o-zz9yy8xx7w".into()));
            req.context.push((
                "aws:principalorgpaths".into(),
                "o-zz9yy8xx7w/r-zz9y/".into(),
            ));
        }
        _ => {}
    }
    if a.vpce {
        req.context
            .push(("aws:sourcevpce".into(), "vpce-0zz9yy8xx7w".into()));
    } else if a.ip > 0 {
        let ip = ["", "52.94.0.99", "8.8.8.8"][a.ip];
        req.context.push(("aws:sourceip".into(), ip.into()));
    }
    if a.agent > 0 {
        let agent = ["", "terraform/1.9", "curl/8"][a.agent];
        req.context.push(("aws:useragent".into(), agent.into()));
    }
    req.context.push((
        "aws:securetransport".into(),
        if a.insecure { "false" } else { "true" }.into(),
    ));
    req.context
        .push(("aws:currenttime".into(), "2031-01-01T00:00:00Z".into()));
    if a.via {
        req.via_service = Some("s3.us-east-1.amazonaws.com".into());
    }
    req.encryption_context = Some(if a.ec {
        vec![("app".into(), "billing".into())]
    } else {
        Vec::new()
    });
    let opts = Options {
        assume_absent: true,
        now: Some("2031-01-01T00:00:00Z".into()),
        ..Options::default()
    };
    eval::evaluate(&inputs, &req, &opts).decision
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// R24, R55: whenever KMS005 is silent on a key policy, no adversary request drawn from
    /// the model is allowed.
    #[test]
    fn r24_when_kms005_is_silent_no_adversary_request_is_allowed(
        statements in prop::collection::vec(statement(), 1..4),
        requests in prop::collection::vec(adversary(), 24),
    ) {
        let mut all = vec![json!({"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"})];
        all.extend(statements);
        let text = json!({"Version": "2012-10-17", "Statement": all}).to_string();
        let policy = parse(&text);
        let cx = KeyLintContext::new(&policy, KeyFacts::from_arn(KEY).unwrap(), "k".into(), None);
        let mut findings = Vec::new();
        kmsaudit::lint::check_key(&cx, &mut findings);
        let public = findings.iter().any(|f| f.code() == "KMS005");
        if !public {
            for a in &requests {
                prop_assert_ne!(adversary_decision(&policy, a), Decision::Allow, "{} {:?}", text, a);
            }
        }
    }
}

/// R107: a counterexample that waits for no time shows "the time of the run", not the clock's
/// reading, so the finding reads the same on every run (baselines, review diffs, SARIF).
#[test]
fn r107_counterexamples_at_the_time_of_the_run_read_the_same_every_run() {
    for name in ["kms005-current-time.bad.json", "kms005-epoch-time.bad.json"] {
        let path = fixture(&format!("adversary/{name}"));
        let first = check_file(&path, None);
        let message = first
            .findings
            .iter()
            .find(|f| f.code() == "KMS005")
            .map(|f| f.message.clone())
            .unwrap_or_default();
        assert!(
            message.contains("Time` = the time of the run"),
            "{name}: {message}"
        );
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let again = check_file(&path, None);
        let messages = |c: &super::Checked| -> Vec<String> {
            c.findings.iter().map(|f| f.message.clone()).collect()
        };
        assert_eq!(messages(&first), messages(&again), "{name}");
    }
}
