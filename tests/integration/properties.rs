//! Invariants of the decision algorithm (R46, R49), over generated policies and requests.

use kmsaudit::eval::{
    self, Caller, Decision, Inputs, KeyFacts, KeyInputs, NamedPolicy, Options, Request,
};
use kmsaudit::policy::PolicyKind;
use kmsaudit::source::SourceId;
use proptest::prelude::*;
use serde_json::{Value, json};

const K1: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn principal() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("*")),
        Just(json!({"AWS": "arn:aws:iam::111122223333:root"})),
        Just(json!({"AWS": "arn:aws:iam::111122223333:role/App"})),
        Just(json!({"AWS": "arn:aws:iam::111122223333:user/Alice"})),
        Just(json!({"AWS": "444455556666"})),
        Just(json!({"AWS": "arn:aws:iam::444455556666:role/Ext"})),
    ]
}

fn action() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("kms:Decrypt")),
        Just(json!("kms:*")),
        Just(json!("kms:Encrypt")),
        Just(json!("kms:Describe*")),
        Just(json!("kms:GenerateDataKey*")),
        Just(json!(["kms:Decrypt", "kms:Encrypt"])),
    ]
}

fn condition() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(
            json!({"StringEquals": {"kms:CallerAccount": "111122223333"}})
        )),
        Just(Some(
            json!({"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}})
        )),
        Just(Some(
            json!({"StringNotEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}})
        )),
        Just(Some(json!({"Null": {"kms:EncryptionContextKeys": "true"}}))),
        Just(Some(
            json!({"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "App"}})
        )),
        Just(Some(
            json!({"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": "App"}})
        )),
        Just(Some(
            json!({"StringEquals": {"aws:PrincipalTag/team": "payments"}})
        )),
    ]
}

fn statement(with_principal: bool) -> impl Strategy<Value = Value> {
    (prop::bool::ANY, principal(), action(), condition()).prop_map(move |(allow, p, a, c)| {
        let mut s =
            json!({"Effect": if allow { "Allow" } else { "Deny" }, "Action": a, "Resource": "*"});
        if with_principal {
            s["Principal"] = p;
        }
        if let Some(c) = c {
            s["Condition"] = c;
        }
        s
    })
}

fn named(name: &str, statements: &[Value], kind: PolicyKind) -> NamedPolicy {
    let text = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    let j = kmsaudit::json::parse(&text).unwrap();
    let (doc, _) = kmsaudit::policy::parse_policy(&j, SourceId::new(0, 0), kind);
    NamedPolicy {
        name: name.into(),
        doc: doc.into(),
    }
}

#[derive(Debug, Clone)]
struct Req {
    caller: usize,
    action: usize,
    via: bool,
    ec: bool,
}

fn request() -> impl Strategy<Value = Req> {
    (0..4usize, 0..4usize, prop::bool::ANY, prop::bool::ANY).prop_map(
        |(caller, action, via, ec)| Req {
            caller,
            action,
            via,
            ec,
        },
    )
}

fn decide(kp: &[Value], id: &[Value], r: &Req) -> Decision {
    let inputs = Inputs {
        keys: vec![std::sync::Arc::new(KeyInputs {
            facts: KeyFacts::from_arn(K1).unwrap(),
            policies: Some(vec![named("kp", kp, PolicyKind::Key)]),
            grants: None,
            policy_unknown: None,
        })],
        identity: Some(vec![named("id", id, PolicyKind::Identity)].into()),
        ..Inputs::default()
    };
    let (arn, role) = [
        (
            "arn:aws:sts::111122223333:assumed-role/App/s1",
            Some("arn:aws:iam::111122223333:role/App"),
        ),
        ("arn:aws:iam::111122223333:user/Alice", None),
        ("arn:aws:iam::111122223333:root", None),
        (
            "arn:aws:sts::444455556666:assumed-role/Ext/s1",
            Some("arn:aws:iam::444455556666:role/Ext"),
        ),
    ][r.caller];
    let action = [
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:DescribeKey",
        "kms:GenerateDataKey",
    ][r.action];
    let mut req = Request::new(Caller::parse(arn, role).unwrap(), action, K1);
    if r.via {
        req.via_service = Some("s3.us-east-1.amazonaws.com".into());
    }
    if r.ec {
        req.encryption_context = Some(vec![("App".into(), "x".into())]);
    }
    eval::evaluate(&inputs, &req, &Options::default()).decision
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn statement_order_never_changes_a_decision(
        kp in prop::collection::vec(statement(true), 1..6),
        id in prop::collection::vec(statement(false), 0..4),
        r in request(),
    ) {
        let d = decide(&kp, &id, &r);
        let mut kp2 = kp.clone();
        kp2.reverse();
        let mut id2 = id.clone();
        id2.reverse();
        prop_assert_eq!(d, decide(&kp2, &id2, &r));
    }

    #[test]
    fn adding_a_deny_never_turns_a_non_allow_into_allow(
        kp in prop::collection::vec(statement(true), 1..6),
        id in prop::collection::vec(statement(false), 0..4),
        extra in statement(true),
        r in request(),
    ) {
        let before = decide(&kp, &id, &r);
        let mut deny = extra;
        deny["Effect"] = json!("Deny");
        let mut kp2 = kp.clone();
        kp2.push(deny.clone());
        prop_assert!(before == Decision::Allow || decide(&kp2, &id, &r) != Decision::Allow);
        let mut id2 = id.clone();
        let mut deny_id = deny;
        deny_id.as_object_mut().unwrap().remove("Principal");
        id2.push(deny_id);
        prop_assert!(before == Decision::Allow || decide(&kp, &id2, &r) != Decision::Allow);
    }

    #[test]
    fn adding_an_allow_never_removes_an_allow(
        kp in prop::collection::vec(statement(true), 1..6),
        id in prop::collection::vec(statement(false), 0..4),
        extra in statement(true),
        r in request(),
    ) {
        let before = decide(&kp, &id, &r);
        let mut allow = extra;
        allow["Effect"] = json!("Allow");
        let mut kp2 = kp.clone();
        kp2.push(allow.clone());
        prop_assert!(before != Decision::Allow || decide(&kp2, &id, &r) == Decision::Allow);
        let mut id2 = id.clone();
        let mut allow_id = allow;
        allow_id.as_object_mut().unwrap().remove("Principal");
        id2.push(allow_id);
        prop_assert!(before != Decision::Allow || decide(&kp, &id2, &r) == Decision::Allow);
    }

    #[test]
    fn a_matching_explicit_deny_always_wins(
        kp in prop::collection::vec(statement(true), 1..6),
        id in prop::collection::vec(statement(false), 0..4),
        r in request(),
    ) {
        let mut kp2 = kp.clone();
        kp2.push(json!({"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"}));
        prop_assert_eq!(decide(&kp2, &id, &r), Decision::ExplicitDeny);
        let mut id2 = id.clone();
        id2.push(json!({"Effect": "Deny", "Action": "*", "Resource": "*"}));
        prop_assert_eq!(decide(&kp, &id2, &r), Decision::ExplicitDeny);
    }
}

// ----- The model's canonical form, the graph against the engine, fingerprints -----

/// What a policy model says, without its spans: parse → print → parse must keep it.
fn shape(doc: &kmsaudit::policy::PolicyDocument) -> Value {
    let statements: Vec<Value> = doc
        .statements
        .iter()
        .map(|st| {
            let mut conditions: Vec<Value> = st
                .conditions
                .iter()
                .map(|c| {
                    json!([
                        c.operator.raw,
                        c.key,
                        c.values.iter().map(|v| v.text.clone()).collect::<Vec<_>>()
                    ])
                })
                .collect();
            conditions.sort_by_key(|c| c.to_string());
            json!({
                "sid": st.sid.as_ref().map(|s| s.value.clone()),
                "effect": st.effect.as_ref().map(|e| format!("{:?}", e.value)),
                "principal": st.principal.as_ref().map(|p| {
                    let mut e: Vec<String> = p.entries.iter()
                        .map(|e| format!("{:?} {} {:?}", e.ty, e.value, e.class)).collect();
                    e.sort();
                    json!([p.negated, e])
                }),
                "action": st.action.as_ref().map(|a| json!([a.negated,
                    a.items.iter().map(|i| i.raw.clone()).collect::<Vec<_>>(),
                    a.kms_mask.to_string()])),
                "resource": st.resource.as_ref().map(|r| json!([r.negated,
                    r.items.iter().map(|i| i.raw.clone()).collect::<Vec<_>>()])),
                "conditions": conditions,
                "broken": st.broken,
            })
        })
        .collect();
    json!({
        "version": format!("{:?}", doc.version),
        "id": doc.id.as_ref().map(|i| i.value.clone()),
        "statements": statements,
    })
}

fn reparse(doc: &kmsaudit::policy::PolicyDocument) -> kmsaudit::policy::PolicyDocument {
    let text = kmsaudit::policy::to_json(doc);
    let j = kmsaudit::json::parse(&text).unwrap();
    kmsaudit::policy::parse_policy(&j, SourceId::new(0, 1), doc.kind).0
}

/// Every policy in the fixtures that parses without errors survives the round trip.
#[test]
fn parse_print_parse_is_the_identity_on_every_fixture_policy() {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "json" || x == "yaml") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(&super::fixture(""), &mut files);
    files.sort();
    let mut checked = 0;
    for f in files {
        let mut sources = kmsaudit::source::SourceMap::new();
        let loaded = kmsaudit::input::load(
            &kmsaudit::input::InputName::Path(f.clone()),
            &kmsaudit::input::InputOptions::default(),
            &mut sources,
        );
        for p in &loaded.policies {
            // Errors, and statements a loader marked unknown (a template's open value), are
            // not part of what a policy document can say.
            if p.problems.iter().any(|pr| pr.is_error())
                || p.doc.statements.iter().any(|st| st.broken.is_some())
            {
                continue;
            }
            let again = reparse(&p.doc);
            assert_eq!(shape(&p.doc), shape(&again), "{}", f.display());
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} policies checked");
}

/// `who-can` over a random inventory: the graph's direct rows are exactly the principals the
/// engine allows (or allows under conditions) when asked one by one.
fn random_inventory() -> impl Strategy<Value = (Vec<Vec<Value>>, Vec<Value>)> {
    (
        prop::collection::vec(prop::collection::vec(statement(false), 0..3), 1..6),
        prop::collection::vec(statement(true), 1..5),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn parse_print_parse_is_the_identity_on_generated_policies(
        kp in prop::collection::vec(statement(true), 1..6),
    ) {
        let p = named("kp", &kp, PolicyKind::Key);
        prop_assert_eq!(shape(&p.doc), shape(&reparse(&p.doc)));
    }

    #[test]
    fn who_can_agrees_with_one_by_one_evaluation((roles, kp) in random_inventory()) {
        let role_list: Vec<Value> = roles.iter().enumerate().map(|(i, st)| json!({
            "Path": "/", "RoleName": format!("R{i}"), "RoleId": format!("AROA{i:017}"),
            "Arn": format!("arn:aws:iam::111122223333:role/R{i}"),
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
            "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": st}}],
            "AttachedManagedPolicies": [], "Tags": []
        })).collect();
        let authz = json!({"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": role_list, "Policies": []});
        let mut sources = kmsaudit::source::SourceMap::new();
        let opts = kmsaudit::input::InputOptions::default();
        let mut inv = kmsaudit::inventory::Inventory::new();
        let bytes = authz.to_string().into_bytes();
        inv.add("authz.json", kmsaudit::input::load(
            &kmsaudit::input::InputName::Memory("authz.json".into(), bytes.into()), &opts, &mut sources));
        let policy = named("key policy", &kp, PolicyKind::Key);
        let extras = kmsaudit::graph::Extras {
            key_policy: Some(vec![policy]),
            key: Some(K1.into()),
            ..kmsaudit::graph::Extras::default()
        };
        let mut g = kmsaudit::graph::AccessGraph::build(&inv, &extras);
        let rows = g.who_can("kms:Decrypt", K1, kmsaudit::graph::Paths::Direct).unwrap();
        for i in 0..roles.len() {
            let arn = format!("arn:aws:iam::111122223333:role/R{i}");
            let caller = Caller::parse(&arn, Some(&arn)).unwrap();
            let cp = inv.caller_policies(&caller);
            let mut key = inv.key_inputs(K1).unwrap();
            key.policies = extras.key_policy.clone();
            let inputs = Inputs {
                keys: vec![std::sync::Arc::new(key)],
                identity: cp.identity.map(Into::into),
                ..Inputs::default()
            };
            let req = Request::new(caller, "kms:Decrypt", K1);
            let ev = eval::evaluate(&inputs, &req, &Options { residual: true, ..Options::default() });
            let expected = match ev.decision {
                Decision::Allow => Some("allow"),
                Decision::Undetermined => {
                    let residual = ev.checks.iter().any(|c| !c.residual.is_empty());
                    let unknown = ev.checks.iter().any(|c| !c.unknowns.is_empty());
                    Some(if residual && !unknown { "conditional" } else { "undetermined" })
                }
                Decision::ExplicitDeny | Decision::ImplicitDeny => None,
            };
            let got = rows.iter().find(|r| r.principal == arn).map(|r| r.decision.as_str());
            prop_assert_eq!(got, expected, "{}", arn);
        }
    }
}

/// A finding's fingerprint does not move when an unrelated statement is added or the file is
/// reformatted.
fn fingerprints(text: &str) -> Vec<(String, String)> {
    let (_, out, err) = super::run(
        &["check", "-q", "--format", "json", "-"],
        Some(text.as_bytes()),
    );
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let mut f: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_owned(),
                f["fingerprint"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    f.sort();
    f
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn fingerprints_survive_unrelated_statements_and_reformatting(
        kp in prop::collection::vec(statement(true), 1..5),
        indent in 0usize..4,
    ) {
        let doc = json!({"Version": "2012-10-17", "Statement": kp});
        let before = fingerprints(&doc.to_string());
        let mut more = kp.clone();
        more.push(json!({"Sid": "Unrelated", "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "kms:DescribeKey", "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}}));
        let doc2 = json!({"Version": "2012-10-17", "Statement": more});
        let pretty = serde_json::to_string_pretty(&doc2).unwrap();
        let reindented: String = pretty
            .lines()
            .map(|l| {
                let n = l.len() - l.trim_start().len();
                format!("{}{}\n", " ".repeat(n / 2 * indent), l.trim_start())
            })
            .collect();
        let after = fingerprints(&reindented);
        for f in &before {
            prop_assert!(after.contains(f), "{:?} lost after the change: {:?}", f, after);
        }
    }
}

/// Principal elements for the pre-check property: every class the engine matches, negated and
/// missing ones, and a session of a named role.
fn any_principal() -> impl Strategy<Value = Option<(&'static str, Value)>> {
    prop_oneof![
        Just(None),
        principal().prop_map(|p| Some(("Principal", p))),
        Just(Some(("Principal", json!({"AWS": "111122223333"})))),
        Just(Some((
            "Principal",
            json!({"AWS": "arn:aws:sts::111122223333:assumed-role/App/s1"})
        ))),
        Just(Some((
            "Principal",
            json!({"AWS": "arn:aws:iam::000011112222:role/kmsaudit-probe"})
        ))),
        Just(Some(("Principal", json!({"Service": "s3.amazonaws.com"})))),
        Just(Some((
            "Principal",
            json!({"AWS": "arn:aws:iam::111122223333:role/*"})
        ))),
        Just(Some((
            "Principal",
            json!({"AWS": "arn:aws:iam::account-id:root"})
        ))),
        Just(Some((
            "NotPrincipal",
            json!({"AWS": "arn:aws:iam::111122223333:role/App"})
        ))),
    ]
}

fn any_action() -> impl Strategy<Value = Value> {
    prop_oneof![
        action(),
        Just(json!("kms:Create*")),
        Just(json!("kms:PutKeyPolicy")),
        Just(json!(["kms:CreateAlias", "kms:UpdateAlias"])),
        Just(json!("kms:ReEncrypt*")),
        Just(json!("*")),
        Just(json!("s3:GetObject")),
    ]
}

/// A key-policy statement, sometimes with `NotAction`, no `Action`, or a condition operator the
/// engine cannot judge.
fn any_statement() -> impl Strategy<Value = Value> {
    (
        prop::bool::weighted(0.75),
        any_principal(),
        any_action(),
        0..8u8,
        condition(),
    )
        .prop_map(|(allow, p, a, shape, c)| {
            let mut s = json!({"Effect": if allow { "Allow" } else { "Deny" }, "Resource": "*"});
            match shape {
                0 => s["NotAction"] = a,
                1 => {}
                _ => s["Action"] = a,
            }
            if let Some((element, p)) = p {
                s[element] = p;
            }
            if let Some(c) = c {
                s["Condition"] = c;
            }
            if shape == 7 {
                s["Condition"] = json!({"StringLikeish": {"kms:ViaService": "x"}});
            }
            s
        })
}

/// Identity policies: not known, known and empty, or a few statements (an alias-only one like
/// the alias probes', allow-all, a Deny, one for another service).
fn any_identity() -> impl Strategy<Value = Option<Vec<Value>>> {
    let st = prop_oneof![
        Just(
            json!({"Effect": "Allow", "Action": ["kms:CreateAlias", "kms:UpdateAlias"], "Resource": "arn:*:kms:*:*:alias/*"})
        ),
        Just(json!({"Effect": "Allow", "Action": "*", "Resource": "*"})),
        Just(json!({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"})),
        Just(json!({"Effect": "Deny", "Action": "kms:*", "Resource": "*"})),
        Just(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})),
        Just(
            json!({"Effect": "Allow", "Action": "kms:*", "Resource": "arn:aws:kms:us-east-1:111122223333:key/*"})
        ),
        Just(
            json!({"Effect": "Allow", "Action": "kms:*", "Resource": "arn:aws:kms:*:*:key/other"})
        ),
        Just(
            json!({"Effect": "Allow", "Action": "kms:*", "Resource": "arn:aws:kms:us-east-1:111122223333:*"})
        ),
        Just(
            json!({"Effect": "Allow", "Action": "kms:*", "Resource": "arn:aws:kms:*:111122223333:${aws:PrincipalTag/key}"})
        ),
        Just(json!({"Effect": "Allow", "Action": "kms:*", "Resource": "arn:aws:kms:*"})),
        Just(json!({"Effect": "Allow", "Action": "kms:*", "Resource": "arn:aws:KMS:*:*:*"})),
        Just(
            json!({"Effect": "Allow", "Action": "kms:*", "NotResource": "arn:aws:kms:*:*:alias/*"})
        ),
        Just(json!({"Effect": "Allow", "Action": "kms:*"})),
    ];
    prop_oneof![
        Just(None),
        Just(Some(Vec::new())),
        prop::collection::vec(st, 1..3).prop_map(Some),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    /// `eval::key_policy_may_allow` is a proof when it says no: the engine, asked the same
    /// question in residual mode (as the key rules ask), never allows, not even under
    /// conditions (R46, R53–R59).
    #[test]
    fn key_policy_pre_check_never_hides_an_allow(
        kp in prop::collection::vec(any_statement(), 1..5),
        identity in any_identity(),
        caller in 0..8usize,
        action in 0..8usize,
    ) {
        let Some(caller) = [
            ("arn:aws:iam::111122223333:role/App", None),
            ("arn:aws:sts::111122223333:assumed-role/App/s1", Some("arn:aws:iam::111122223333:role/App")),
            ("arn:aws:iam::111122223333:user/Alice", None),
            ("111122223333", None),
            ("arn:aws:iam::000011112222:role/kmsaudit-probe", None),
            ("arn:aws:sts::444455556666:assumed-role/Ext/s1", Some("arn:aws:iam::444455556666:role/Ext")),
            ("444455556666", None),
            ("s3.amazonaws.com", None),
        ]
        .get(caller)
        .and_then(|(arn, role)| Caller::parse(arn, *role).ok()) else {
            return Ok(());
        };
        let action = [
            "kms:Decrypt", "kms:PutKeyPolicy", "kms:CreateGrant", "kms:CreateAlias",
            "kms:UpdateAlias", "kms:ReEncrypt", "kms:DescribeKey", "kms:Encrypt",
        ][action];
        let policy = named("key policy", &kp, PolicyKind::Key);
        let identity: Option<Vec<NamedPolicy>> =
            identity.map(|sts| if sts.is_empty() { Vec::new() } else { vec![named("id", &sts, PolicyKind::Identity)] });
        let opts = Options { residual: true, ..Options::default() };
        let may = eval::key_policy_may_allow(&policy.doc, K1, &caller, action, identity.as_deref(), &opts);
        let inputs = Inputs {
            keys: vec![std::sync::Arc::new(KeyInputs {
                facts: KeyFacts::from_arn(K1).unwrap(),
                policies: Some(vec![policy]),
                grants: Some(Vec::new()),
                policy_unknown: None,
            })],
            identity: identity.map(Into::into),
            ..Inputs::default()
        };
        let mut req = Request::new(caller, action, K1);
        req.alias = Some("arn:aws:kms:us-east-1:111122223333:alias/probe".into());
        req.destination_key = Some(K1.into());
        let ev = eval::evaluate(&inputs, &req, &opts);
        if !may {
            prop_assert!(
                matches!(ev.decision, Decision::ImplicitDeny | Decision::ExplicitDeny),
                "pre-check said no, engine said {:?}: {:?}", ev.decision, ev.checks
            );
        }
    }
}

/// The pre-check's identity side judges `Resource` as the engine does: a resource part with a
/// policy variable the request leaves open could cover the key, a pattern for other keys or
/// for aliases cannot (R19–R21, R42, R54).
#[test]
fn key_policy_pre_check_never_rules_out_an_action_on_no_key_r58() {
    // The root user calls ListKeys or CreateKey without any identity policy (R47, R58); a key
    // policy that names no such action must not make the pre-check say "never".
    let kp = [
        json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*"}),
    ];
    let policy = named("key policy", &kp, PolicyKind::Key);
    let root = Caller::parse("arn:aws:iam::111122223333:root", None).unwrap();
    let opts = Options::default();
    for action in ["kms:ListKeys", "kms:CreateKey", "kms:UpdateCustomKeyStore"] {
        let inputs = Inputs {
            keys: vec![std::sync::Arc::new(KeyInputs {
                facts: KeyFacts::from_arn(K1).unwrap(),
                policies: Some(vec![policy.clone()]),
                grants: Some(Vec::new()),
                policy_unknown: None,
            })],
            identity: Some(Vec::new().into()),
            ..Inputs::default()
        };
        let ev = eval::evaluate(&inputs, &Request::new(root.clone(), action, K1), &opts);
        assert_eq!(ev.decision, Decision::Allow, "{action}");
        assert!(
            eval::key_policy_may_allow(&policy.doc, K1, &root, action, Some(&[]), &opts),
            "{action}"
        );
    }
}

#[test]
fn key_policy_pre_check_reads_identity_resources_r54() {
    let kp = [
        json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}),
    ];
    let policy = named("key policy", &kp, PolicyKind::Key);
    let caller = Caller::parse("arn:aws:iam::111122223333:role/App", None).unwrap();
    let opts = Options {
        residual: true,
        ..Options::default()
    };
    for (resource, allowed) in [
        (
            "arn:aws:kms:us-east-1:111122223333:${aws:PrincipalTag/key}",
            true,
        ),
        ("arn:aws:kms:us-east-1:111122223333:key/*", true),
        ("arn:aws:kms:*:*:alias/*", false),
        ("arn:aws:kms:*:*:key/other", false),
    ] {
        let id = vec![named(
            "id",
            &[json!({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": resource})],
            PolicyKind::Identity,
        )];
        let may =
            eval::key_policy_may_allow(&policy.doc, K1, &caller, "kms:Decrypt", Some(&id), &opts);
        assert_eq!(may, allowed, "{resource}");
        let inputs = Inputs {
            keys: vec![std::sync::Arc::new(KeyInputs {
                facts: KeyFacts::from_arn(K1).unwrap(),
                policies: Some(vec![policy.clone()]),
                grants: Some(Vec::new()),
                policy_unknown: None,
            })],
            identity: Some(id.into()),
            ..Inputs::default()
        };
        let ev = eval::evaluate(
            &inputs,
            &Request::new(caller.clone(), "kms:Decrypt", K1),
            &opts,
        );
        assert_eq!(
            ev.decision != Decision::ImplicitDeny,
            allowed,
            "{resource}: {:?}",
            ev.decision
        );
    }
}
