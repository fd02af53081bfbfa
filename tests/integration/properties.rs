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
    let (doc, _) = kmsaudit::policy::parse_policy(&j, SourceId(0), kind);
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
        keys: vec![KeyInputs {
            facts: KeyFacts::from_arn(K1).unwrap(),
            policies: Some(vec![named("kp", kp, PolicyKind::Key)]),
            grants: None,
            policy_unknown: None,
        }],
        identity: Some(vec![named("id", id, PolicyKind::Identity)]),
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
