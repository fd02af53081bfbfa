//! The soundness property: an answer given with request keys or facts left unset never
//! turns out wrong once they are given (R9, R46, R49, R107), and a grant belongs to one key by
//! its full ARN (R79). The model is shared with the evaluator fuzz target.

#[path = "../support/soundness.rs"]
mod model;

use model::{Scenario, Tally, VecTape};
use proptest::prelude::*;

fn tape() -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(any::<u32>(), 0..96)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2500, ..ProptestConfig::default() })]

    /// Request keys left unset (residual mode or not), then given every value a real request
    /// could carry: `allow` stays `allow`, `explicit-deny` never becomes `allow`.
    #[test]
    fn r9_r107_soundness_over_request_keys_left_unset(tape in tape()) {
        let s = Scenario::draw(&mut VecTape(&tape, 0), false);
        let mut t = Tally::default();
        if let Some(v) = model::check(&s, &mut t) {
            prop_assert!(false, "{}", v);
        }
    }

    /// The same for facts: key manager, role path, the key's tags and aliases (R1, R4, R60).
    #[test]
    fn r4_soundness_over_facts_left_unset(tape in tape()) {
        let s = Scenario::draw(&mut VecTape(&tape, 0), true);
        let mut t = Tally::default();
        if let Some(v) = model::check(&s, &mut t) {
            prop_assert!(false, "{}", v);
        }
    }

    /// A grant whose `KeyId` differs from the request's key in one ARN part (partition,
    /// Region, account, key id) allows nothing (R79).
    #[test]
    fn r79_grant_with_key_id_changed_in_one_arn_part_never_allows(tape in tape()) {
        let s = Scenario::draw(&mut VecTape(&tape, 0), false);
        if let Some((part, without, with)) = model::check_grant(&s) {
            prop_assert!(false, "a grant on the key with another {} gives {:?} (without it: {:?})\n{:?}", part, with, without, s);
        }
    }
}

/// The property is not vacuous: over a fixed set of 2,500 scenarios, many first answers are `allow`
/// or `explicit-deny` and are put to several assignments, and a grant on the request's own key
/// does allow in some of them (so the R79 check can see an allow).
#[test]
fn soundness_property_constrains_many_answers() {
    let mut seed: u32 = 0x2545_f491;
    let mut t = Tally::default();
    let mut facts = Tally::default();
    let mut grant_allows = 0;
    for _ in 0..2500 {
        let tape: Vec<u32> = (0..96)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed
            })
            .collect();
        let s = Scenario::draw(&mut VecTape(&tape, 0), false);
        let _ = model::check(&s, &mut t);
        if model::own_key_grant_allows(&s) == Some(kmsaudit::eval::Decision::Allow) {
            grant_allows += 1;
        }
        let f = Scenario::draw(&mut VecTape(&tape, 0), true);
        let _ = model::check(&f, &mut facts);
    }
    assert!(t.decided > 400, "{t:?}");
    assert!(t.assignments > 2 * t.decided, "{t:?}");
    assert!(facts.decided > 400, "{facts:?}");
    assert!(facts.assignments > facts.decided, "{facts:?}");
    assert!(grant_allows > 100, "{grant_allows}");
}

/// R103: while `kms:ViaService` is left open (residual evaluation), `aws:ViaAWSService` is open
/// too: a Deny on it is a condition of the answer, not something the call escapes.
#[test]
fn r103_via_aws_service_is_open_while_via_service_is_open() {
    use kmsaudit::eval::{
        Caller, Decision, Inputs, KeyFacts, KeyInputs, NamedPolicy, Options, Request,
    };
    use kmsaudit::policy::PolicyKind;
    let named = |name: &str, text: &str, kind| {
        let j = kmsaudit::json::parse(text).unwrap();
        let (doc, _) =
            kmsaudit::policy::parse_policy(&j, kmsaudit::source::SourceId::new(0, 0), kind);
        NamedPolicy {
            name: name.into(),
            doc: doc.into(),
        }
    };
    let kp = named(
        "key-policy",
        r#"{"Version": "2012-10-17", "Statement": [
            {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "NoServices", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
             "Condition": {"Bool": {"aws:ViaAWSService": "true"}}}]}"#,
        PolicyKind::Key,
    );
    let id = named(
        "app-policy",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}"#,
        PolicyKind::Identity,
    );
    let inputs = Inputs {
        keys: vec![std::sync::Arc::new(KeyInputs {
            facts: KeyFacts::from_arn(model::KEY).unwrap(),
            policies: Some(vec![kp]),
            grants: Some(Vec::new()),
            policy_unknown: None,
        })],
        identity: Some(vec![id].into()),
        ..Inputs::default()
    };
    let caller = Caller::parse("arn:aws:iam::111122223333:role/App", None).unwrap();
    let residual = Options {
        residual: true,
        ..Options::default()
    };
    let open = Request::new(caller.clone(), "kms:Decrypt", model::KEY);
    let ev = kmsaudit::eval::evaluate(&inputs, &open, &residual);
    assert_eq!(ev.decision, Decision::Undetermined, "{:?}", ev.checks);
    let said = format!("{:?}", ev.checks).to_lowercase();
    assert!(
        said.contains("aws:viaawsservice"),
        "the open key is named: {said}"
    );
    // Given either way, the answer is certain again.
    let direct = kmsaudit::eval::evaluate(&inputs, &open, &Options::default());
    assert_eq!(direct.decision, Decision::Allow);
    let mut via = open.clone();
    via.via_service = Some("s3.us-east-1.amazonaws.com".into());
    assert_eq!(
        kmsaudit::eval::evaluate(&inputs, &via, &residual).decision,
        Decision::ExplicitDeny
    );
}
