//! The worked examples E1–E71 of the spec (§11) as data: decision, path and deciding
//! statements. E72 (lint) is covered by the lint tests.

use std::collections::BTreeMap;

use kmsaudit::eval::{
    self, Caller, Decision, Inputs, KeyFacts, KeyInputs, KeyManager, NamedPolicy, OpenDefaults,
    Options, Path, Request,
};
use kmsaudit::policy::PolicyKind;
use kmsaudit::source::SourceId;
use serde::Deserialize;
use serde_json::Value;

use super::fixture;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Case {
    pub(crate) id: String,
    pub(crate) rules: Vec<String>,
    #[serde(default = "k1")]
    pub(crate) key: String,
    pub(crate) key_policy: Option<Value>,
    #[serde(default)]
    pub(crate) keys: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) identity: Vec<Value>,
    #[serde(default)]
    pub(crate) identity_unknown: bool,
    pub(crate) boundary: Option<Value>,
    #[serde(default)]
    pub(crate) session: Vec<Value>,
    pub(crate) scp: Option<Vec<Vec<Value>>>,
    pub(crate) rcp: Option<Vec<Vec<Value>>>,
    pub(crate) vpce: Option<Value>,
    pub(crate) grants: Option<Vec<Value>>,
    #[serde(default)]
    pub(crate) key_facts: BTreeMap<String, Value>,
    #[serde(default)]
    pub(crate) context: Vec<(String, String)>,
    pub(crate) encryption_context: Option<BTreeMap<String, String>>,
    pub(crate) via_service: Option<String>,
    pub(crate) request_alias: Option<String>,
    pub(crate) destination_key: Option<String>,
    pub(crate) alias: Option<String>,
    pub(crate) grant_id: Option<String>,
    pub(crate) grant_request: Option<Value>,
    pub(crate) destination_encryption_context: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub(crate) principal_tags: BTreeMap<String, String>,
    pub(crate) principal_role_arn: Option<String>,
    #[serde(default)]
    pub(crate) assume_absent: bool,
    #[serde(default)]
    pub(crate) residual: bool,
    #[serde(default)]
    pub(crate) allow_problems: bool,
    pub(crate) notes_contain: Option<String>,
    pub(crate) unknowns_contain: Option<String>,
    pub(crate) residual_contains: Option<String>,
    #[serde(default)]
    pub(crate) open: Vec<String>,
    pub(crate) principal: String,
    pub(crate) action: String,
    pub(crate) expect: String,
    pub(crate) path: Option<String>,
    #[serde(default)]
    pub(crate) deciding: Vec<String>,
}

fn k1() -> String {
    "K1".into()
}

pub(crate) fn key_arn(name: &str) -> String {
    match name {
        "K1" => "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "K2" => "arn:aws:kms:us-east-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321",
        "KM" => "arn:aws:kms:us-east-1:111122223333:key/abcdabcd-1111-2222-3333-444455556666",
        "KR1" => "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab",
        "KR2" => "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab",
        other => other,
    }
    .to_owned()
}

pub(crate) fn caller(name: &str) -> Caller {
    let (arn, role) = match name {
        "Alice" => ("arn:aws:iam::111122223333:user/Alice", None),
        "Bob" => ("arn:aws:iam::111122223333:user/Bob", None),
        "RootA" => ("arn:aws:iam::111122223333:root", None),
        "App" => (
            "arn:aws:sts::111122223333:assumed-role/App/s1",
            Some("arn:aws:iam::111122223333:role/App"),
        ),
        "TeamApp" => (
            "arn:aws:sts::111122223333:assumed-role/TeamApp/s1",
            Some("arn:aws:iam::111122223333:role/team/TeamApp"),
        ),
        "Admin" => (
            "arn:aws:sts::111122223333:assumed-role/Admin/s1",
            Some("arn:aws:iam::111122223333:role/Admin"),
        ),
        "Deployer" => (
            "arn:aws:sts::111122223333:assumed-role/Deployer/ci",
            Some("arn:aws:iam::111122223333:role/Deployer"),
        ),
        "Ext" => (
            "arn:aws:sts::444455556666:assumed-role/Ext/s1",
            Some("arn:aws:iam::444455556666:role/Ext"),
        ),
        "Other" => (
            "arn:aws:sts::444455556666:assumed-role/Other/s1",
            Some("arn:aws:iam::444455556666:role/Other"),
        ),
        "RootB" => ("arn:aws:iam::444455556666:root", None),
        other => (other, None),
    };
    let mut c = Caller::parse(arn, role).unwrap();
    if name == "Bob" {
        c.tags.push(("team".into(), "payments".into()));
    }
    c
}

fn doc(v: &Value, name: &str, kind: PolicyKind) -> NamedPolicy {
    doc_with(v, name, kind, false)
}

fn doc_with(v: &Value, name: &str, kind: PolicyKind, allow_problems: bool) -> NamedPolicy {
    let (value, name) = match v {
        Value::String(f) => {
            let text =
                std::fs::read_to_string(fixture(&format!("cases/policies/{f}.json"))).unwrap();
            (serde_json::from_str::<Value>(&text).unwrap(), f.clone())
        }
        Value::Array(parts) => {
            // A base policy plus extra statements.
            let mut base = doc(&parts[0], name, kind);
            let text = serde_json::to_string(&Value::Object(
                [
                    ("Version".to_string(), Value::from("2012-10-17")),
                    ("Statement".to_string(), Value::Array(parts[1..].to_vec())),
                ]
                .into_iter()
                .collect(),
            ))
            .unwrap();
            let j = kmsaudit::json::parse(&text).unwrap();
            let (extra, problems) = kmsaudit::policy::parse_policy(&j, SourceId::new(0, 0), kind);
            assert!(problems.iter().all(|p| !p.is_error()), "{problems:?}");
            let n = base.doc.statements.len();
            for mut st in extra.statements {
                std::sync::Arc::make_mut(&mut st).index += n;
                std::sync::Arc::make_mut(&mut base.doc).statements.push(st);
            }
            base.name = name.to_owned();
            return base;
        }
        other => (other.clone(), name.to_owned()),
    };
    let text = serde_json::to_string(&value).unwrap();
    let j = kmsaudit::json::parse(&text).unwrap();
    let (d, problems) = kmsaudit::policy::parse_policy(&j, SourceId::new(0, 0), kind);
    assert!(
        allow_problems || problems.iter().all(|p| !p.is_error()),
        "{name}: {problems:?}"
    );
    NamedPolicy {
        name,
        doc: d.into(),
    }
}

fn facts(name: &str, extra: &BTreeMap<String, Value>) -> KeyFacts {
    let mut f = KeyFacts::from_arn(&key_arn(name)).unwrap();
    f.key_spec = Some("SYMMETRIC_DEFAULT".into());
    f.key_manager = Some(if name == "KM" {
        KeyManager::Aws
    } else {
        KeyManager::Customer
    });
    if name == "KM" {
        f.aliases = Some(vec!["alias/aws/s3".into()]);
    }
    for (k, v) in extra {
        match k.as_str() {
            "key_manager" => {
                f.key_manager = Some(if v == "AWS" {
                    KeyManager::Aws
                } else {
                    KeyManager::Customer
                })
            }
            "aliases" => {
                f.aliases = Some(
                    v.as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_str().unwrap().to_owned())
                        .collect(),
                )
            }
            "key_state" => f.key_state = Some(v.as_str().unwrap().to_owned()),
            "multi_region_type" => f.multi_region_type = Some(v.as_str().unwrap().to_owned()),
            "tags" => {
                f.tags = Some(
                    v.as_object()
                        .unwrap()
                        .iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                        .collect(),
                )
            }
            other => panic!("unknown key fact {other}"),
        }
    }
    f
}

pub(crate) fn open_defaults(list: &[String]) -> OpenDefaults {
    let mut o = OpenDefaults::default();
    for q in list {
        assert!(o.switch(q), "unknown open question {q}");
    }
    o
}

pub(crate) fn build(c: &Case) -> (Inputs, Request, Options) {
    let mut keys = vec![KeyInputs {
        facts: facts(&c.key, &c.key_facts),
        policies: c.key_policy.as_ref().map(|kp| {
            let mut p = doc_with(kp, "key-policy", PolicyKind::Key, c.allow_problems);
            p.name = "key-policy".into();
            vec![p]
        }),
        grants: c.grants.as_ref().map(|gs| {
            let text = serde_json::to_string(&serde_json::json!({ "Grants": gs })).unwrap();
            let j = kmsaudit::json::parse(&text).unwrap();
            let (g, errors) = kmsaudit::grant::read_grants(&j, SourceId::new(0, 0));
            assert!(errors.is_empty(), "{errors:?}");
            g
        }),
        policy_unknown: None,
    }];
    for (k, p) in &c.keys {
        let mut d = doc(&Value::from(p.clone()), "key-policy", PolicyKind::Key);
        d.name = format!("key-policy({k})");
        keys.push(KeyInputs {
            facts: facts(k, &BTreeMap::new()),
            policies: Some(vec![d]),
            grants: None,
            policy_unknown: None,
        });
    }
    let identity: Vec<NamedPolicy> = c
        .identity
        .iter()
        .enumerate()
        .map(|(i, v)| doc(v, &format!("identity-{}", i + 1), PolicyKind::Identity))
        .collect();
    let level = |l: &Vec<Value>, what: &str, kind: PolicyKind| -> Vec<NamedPolicy> {
        l.iter()
            .enumerate()
            .map(|(i, v)| doc(v, &format!("{what}-{}", i + 1), kind))
            .collect()
    };
    let inputs = Inputs {
        keys: keys.into_iter().map(std::sync::Arc::new).collect(),
        identity: if c.identity_unknown {
            None
        } else {
            Some(identity.into())
        },
        boundary: c
            .boundary
            .as_ref()
            .map(|b| doc(b, "boundary", PolicyKind::Boundary)),
        session: c
            .session
            .iter()
            .enumerate()
            .map(|(i, v)| doc(v, &format!("session-{}", i + 1), PolicyKind::Session))
            .collect(),
        scp: c.scp.as_ref().map(|ls| {
            ls.iter()
                .map(|l| level(l, "scp", PolicyKind::Scp))
                .collect()
        }),
        rcp: c.rcp.as_ref().map(|ls| {
            ls.iter()
                .map(|l| level(l, "rcp", PolicyKind::Rcp))
                .collect()
        }),
        vpce: c
            .vpce
            .as_ref()
            .map(|v| doc(v, "vpce", PolicyKind::VpcEndpoint)),
    };
    let mut who = match &c.principal_role_arn {
        Some(r) => Caller::parse(&c.principal, Some(r)).unwrap(),
        None => caller(&c.principal),
    };
    who.tags
        .extend(c.principal_tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut req = Request::new(who, &c.action, &key_arn(&c.key));
    req.destination_encryption_context = c
        .destination_encryption_context
        .as_ref()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    req.grant_request = c.grant_request.as_ref().map(|g| {
        let text = serde_json::to_string(g).unwrap();
        let j = kmsaudit::json::parse(&text).unwrap();
        let mut errors = Vec::new();
        let g = kmsaudit::grant::read_grant(&j, SourceId::new(0, 0), &mut errors).unwrap();
        assert!(errors.is_empty());
        g
    });
    req.encryption_context = c
        .encryption_context
        .as_ref()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    req.via_service = c.via_service.clone();
    req.request_alias = c.request_alias.clone();
    req.destination_key = c.destination_key.as_deref().map(key_arn);
    req.alias = c.alias.clone();
    req.grant_id = c.grant_id.clone();
    req.context = c.context.clone();
    let opts = Options {
        open: open_defaults(&c.open),
        trace: true,
        assume_absent: c.assume_absent,
        residual: c.residual,
        ..Options::default()
    };
    (inputs, req, opts)
}

pub(crate) fn load_cases() -> Vec<Case> {
    let mut all = Vec::new();
    for f in [
        "cases/worked-examples.json",
        "cases/rules.json",
        "cases/open-defaults.json",
    ] {
        let text = std::fs::read_to_string(fixture(f)).unwrap();
        let cases: Vec<Case> = serde_json::from_str(&text).unwrap();
        all.extend(cases);
    }
    all
}

#[test]
fn worked_examples_e1_to_e71_and_rule_cases() {
    let cases = load_cases();
    let mut failures = Vec::new();
    for c in &cases {
        let (inputs, req, opts) = build(c);
        let ev = eval::evaluate(&inputs, &req, &opts);
        let got = ev.decision.as_str();
        if got != c.expect {
            failures.push(format!(
                "{}: expected {}, got {got}: {:#?}",
                c.id,
                c.expect,
                ev.checks
                    .iter()
                    .map(|x| (&x.path, &x.reasons, &x.unknowns, &x.notes))
                    .collect::<Vec<_>>()
            ));
            continue;
        }
        // The same answer without a trace (the batch path).
        let fast = eval::evaluate(
            &inputs,
            &req,
            &Options {
                trace: false,
                ..opts.clone()
            },
        );
        assert_eq!(
            fast.decision, ev.decision,
            "{}: traced and untraced differ",
            c.id
        );
        // And the same unknowns, requirements and path, as data: the trace adds the steps, the
        // element texts and the explanations of a deny, nothing the answer rests on.
        for (t, u) in ev.checks.iter().zip(&fast.checks) {
            assert_eq!(
                (&t.unknowns, &t.residual, &t.path, &t.deciding),
                (&u.unknowns, &u.residual, &u.path, &u.deciding),
                "{}: traced and untraced give other reasons",
                c.id
            );
        }
        let check = &ev.checks[ev.checks.len() - 1];
        if let Some(p) = &c.path {
            let paths: Vec<_> = ev
                .checks
                .iter()
                .filter_map(|x| x.path.as_ref().map(Path::name))
                .collect();
            if !paths.iter().any(|x| x == p) {
                failures.push(format!("{}: expected path {p}, got {paths:?}", c.id));
            }
        }
        for d in &c.deciding {
            if !ev.checks.iter().any(|x| x.deciding.contains(d)) {
                failures.push(format!(
                    "{}: expected deciding {d}, got {:?}",
                    c.id, check.deciding
                ));
            }
        }
        let all_notes: Vec<String> = ev
            .checks
            .iter()
            .flat_map(|x| x.notes.iter().map(ToString::to_string))
            .collect();
        if let Some(n) = &c.notes_contain {
            if !all_notes.iter().any(|x| x.contains(n.as_str())) {
                failures.push(format!("{}: no note containing {n}: {all_notes:?}", c.id));
            }
        }
        let all_unknowns: Vec<String> = ev
            .checks
            .iter()
            .flat_map(|x| x.unknowns.iter().map(ToString::to_string))
            .collect();
        if let Some(n) = &c.unknowns_contain {
            if !all_unknowns.iter().any(|x| x.contains(n.as_str())) {
                failures.push(format!(
                    "{}: no unknown containing {n}: {all_unknowns:?}",
                    c.id
                ));
            }
        }
        if let Some(n) = &c.residual_contains {
            let texts: Vec<String> = ev
                .checks
                .iter()
                .flat_map(|x| x.residual.iter().flatten().map(|r| r.text.clone()))
                .collect();
            if !texts.iter().any(|x| x.contains(n.as_str())) {
                failures.push(format!("{}: no residual containing {n}: {texts:?}", c.id));
            }
        }
        if ev.decision == Decision::Undetermined {
            assert!(
                !all_unknowns.is_empty(),
                "{}: an undetermined answer must say why",
                c.id
            );
        }
        if ev.decision != Decision::Allow && ev.decision != Decision::Undetermined {
            assert!(
                ev.checks.iter().any(|x| !x.reasons.is_empty()),
                "{}: a deny must say why",
                c.id
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_rule_r46_to_r108_is_cited_by_a_case() {
    let cases = load_cases();
    let mut cited: std::collections::BTreeSet<u32> = std::collections::BTreeSet::new();
    for c in &cases {
        for r in &c.rules {
            cited.insert(r.trim_start_matches('R').parse().unwrap());
        }
    }
    let missing: Vec<u32> = (46..=108).filter(|r| !cited.contains(r)).collect();
    assert!(missing.is_empty(), "rules without a case: {missing:?}");
    let mut ids: Vec<_> = cases.iter().map(|c| c.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), cases.len(), "case ids are unique");
    for n in 1..=71 {
        assert!(
            cases.iter().any(|c| c.id == format!("E{n}")),
            "E{n} missing"
        );
    }
}

#[test]
fn trace_snapshots() {
    let cases = load_cases();
    for id in ["E1", "E3", "E24", "E44", "E59", "E67", "E68"] {
        let c = cases.iter().find(|c| c.id == id).unwrap();
        let (inputs, req, opts) = build(c);
        let ev = eval::evaluate(&inputs, &req, &opts);
        let mut out = Vec::new();
        kmsaudit::report::can::render_human(
            &ev,
            &req,
            &kmsaudit::source::SourceMap::new(),
            &mut out,
        )
        .unwrap();
        insta::assert_snapshot!(format!("trace_{id}"), String::from_utf8(out).unwrap());
    }
}
