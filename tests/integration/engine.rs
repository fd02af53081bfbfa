//! Engine behaviour beyond the case files: caller forms, derived context, odd inputs stated as
//! undetermined, residual alternatives.

use kmsaudit::eval::{
    self, Caller, CallerKind, Decision, Inputs, KeyFacts, KeyInputs, NamedPolicy, Options, Request,
};
use kmsaudit::policy::PolicyKind;
use kmsaudit::source::SourceId;
use serde_json::{Value, json};

const K1: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn named(statements: Value, kind: PolicyKind) -> NamedPolicy {
    let text = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    let j = kmsaudit::json::parse(&text).unwrap();
    let (doc, _) = kmsaudit::policy::parse_policy(&j, SourceId::new(0, 0), kind);
    NamedPolicy {
        name: "p".into(),
        doc: doc.into(),
    }
}

fn inputs(kp: Value, id: Option<Value>) -> Inputs {
    Inputs {
        keys: vec![std::sync::Arc::new(KeyInputs {
            facts: KeyFacts::from_arn(K1).unwrap(),
            policies: Some(vec![named(kp, PolicyKind::Key)]),
            grants: None,
            policy_unknown: None,
        })],
        identity: Some(
            id.map(|s| vec![named(s, PolicyKind::Identity)])
                .unwrap_or_default()
                .into(),
        ),
        ..Inputs::default()
    }
}

#[test]
fn caller_forms_r1() {
    let c = Caller::parse("arn:aws:iam::111122223333:role/team/App", None).unwrap();
    assert_eq!(c.kind, CallerKind::AssumedRole);
    assert!(c.session_open);
    assert_eq!(
        c.principal_arn(),
        Some("arn:aws:iam::111122223333:role/team/App")
    );
    let s = Caller::parse("arn:aws:sts::111122223333:assumed-role/App/s1", None).unwrap();
    assert!(s.role_path_assumed);
    assert_eq!(
        s.role_arn.as_deref(),
        Some("arn:aws:iam::111122223333:role/App")
    );
    assert_eq!(
        Caller::parse("111122223333", None).unwrap().kind,
        CallerKind::Root
    );
    assert_eq!(
        Caller::parse("cloudtrail.amazonaws.com", None)
            .unwrap()
            .kind,
        CallerKind::Service
    );
    assert_eq!(
        Caller::parse("arn:aws:sts::111122223333:federated-user/bob", None)
            .unwrap()
            .kind,
        CallerKind::FederatedUser
    );
    assert!(Caller::parse("arn:aws:iam::account-id:root", None).is_err());
    assert!(Caller::parse("arn:aws:s3:::bucket", None).is_err());
}

#[test]
fn derived_principal_keys_r2() {
    // aws:PrincipalArn of a session is the role ARN; aws:username exists for users only.
    let kp = json!([{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
        "Condition": {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/App"},
                      "StringEquals": {"aws:PrincipalType": "AssumedRole", "kms:CallerAccount": "111122223333", "aws:PrincipalAccount": "111122223333"},
                      "Null": {"aws:username": "true"}}}]);
    let i = inputs(kp, None);
    let app = Caller::parse(
        "arn:aws:sts::111122223333:assumed-role/App/s1",
        Some("arn:aws:iam::111122223333:role/App"),
    )
    .unwrap();
    let ev = eval::evaluate(
        &i,
        &Request::new(app, "kms:Decrypt", K1),
        &Options::default(),
    );
    assert_eq!(ev.decision, Decision::Allow);
    let alice = Caller::parse("arn:aws:iam::111122223333:user/Alice", None).unwrap();
    let ev = eval::evaluate(
        &i,
        &Request::new(alice, "kms:Decrypt", K1),
        &Options::default(),
    );
    assert_eq!(ev.decision, Decision::ImplicitDeny);
}

#[test]
fn unresolvable_variable_is_a_stated_undetermined() {
    // `${aws:userid}` of an IAM user is its unique id, which was not given.
    let kp = json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]);
    let id = json!([{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
        "Condition": {"StringEquals": {"kms:EncryptionContext:owner": "${aws:userid}"}}}]);
    let i = inputs(kp, Some(id));
    let alice = Caller::parse("arn:aws:iam::111122223333:user/Alice", None).unwrap();
    let mut req = Request::new(alice, "kms:Decrypt", K1);
    req.encryption_context = Some(vec![("owner".into(), "AIDAEXAMPLE".into())]);
    let ev = eval::evaluate(&i, &req, &Options::default());
    assert_eq!(ev.decision, Decision::Undetermined);
    let why = ev.checks[0]
        .unknowns
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(why.contains("aws:userid"), "{why}");
    // Given explicitly, it decides.
    req.context
        .push(("aws:userid".into(), "AIDAEXAMPLE".into()));
    assert_eq!(
        eval::evaluate(&i, &req, &Options::default()).decision,
        Decision::Allow
    );
}

#[test]
fn a_role_means_any_session_so_a_session_principal_is_undetermined() {
    let kp = json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:sts::111122223333:assumed-role/App/s1"}, "Action": "kms:Decrypt", "Resource": "*"}]);
    let i = inputs(kp, None);
    let role = Caller::parse("arn:aws:iam::111122223333:role/App", None).unwrap();
    let ev = eval::evaluate(
        &i,
        &Request::new(role, "kms:Decrypt", K1),
        &Options::default(),
    );
    assert_eq!(ev.decision, Decision::Undetermined);
}

#[test]
fn assumed_role_path_is_noted() {
    let kp = json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*"}]);
    let i = inputs(kp, None);
    let s = Caller::parse("arn:aws:sts::111122223333:assumed-role/App/s1", None).unwrap();
    let ev = eval::evaluate(&i, &Request::new(s, "kms:Decrypt", K1), &Options::default());
    assert_eq!(ev.decision, Decision::Allow);
    assert!(
        ev.checks[0]
            .notes
            .iter()
            .any(|n| n.to_string().contains("path is not known")),
        "{:?}",
        ev.checks[0].notes
    );
}

#[test]
fn residual_lists_alternatives() {
    let kp = json!([
        {"Sid": "ViaS3", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}},
        {"Sid": "Tenant", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "c1"}}},
        {"Sid": "NoDirect", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    ]);
    let i = inputs(kp, None);
    let role = Caller::parse("arn:aws:iam::111122223333:role/App", None).unwrap();
    let opts = Options {
        residual: true,
        ..Options::default()
    };
    let ev = eval::evaluate(&i, &Request::new(role, "kms:Decrypt", K1), &opts);
    assert_eq!(ev.decision, Decision::Undetermined);
    let c = &ev.checks[0];
    let alts: Vec<Vec<String>> = c
        .residual
        .iter()
        .map(|a| {
            a.iter()
                .map(|r| format!("{} @ {}", r.text, r.statement))
                .collect()
        })
        .collect();
    assert!(
        alts.contains(&vec![
            "`kms:ViaService` is `s3.us-east-1.amazonaws.com` @ p#ViaS3".to_owned()
        ]),
        "{alts:?}"
    );
    assert!(
        alts.contains(&vec![
            "`kms:EncryptionContext:tenant` is `c1` @ p#Tenant".to_owned()
        ]),
        "{alts:?}"
    );
    assert!(
        c.notes.iter().any(|n| n
            .to_string()
            .contains("denied if `aws:SecureTransport` is `false`")),
        "{:?}",
        c.notes
    );
}

#[test]
fn identity_policies_unknown_make_delegation_undetermined() {
    let kp = json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]);
    let mut i = inputs(kp, None);
    i.identity = None;
    let s = Caller::parse("arn:aws:sts::111122223333:assumed-role/Deployer/ci", None).unwrap();
    let ev = eval::evaluate(
        &i,
        &Request::new(s, "kms:PutKeyPolicy", K1),
        &Options::default(),
    );
    assert_eq!(ev.decision, Decision::Undetermined);
}

#[test]
fn an_scp_without_resource_still_checks_its_action_r12() {
    // E22 with the SCP's Resource omitted (SCPs allow that: it means all resources). The
    // OU allows only s3:*, so the SCP gate lacks an allow for kms:Decrypt.
    let kp = json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]);
    let id = json!([{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]);
    let full = named(
        json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]),
        PolicyKind::Scp,
    );
    let scp = |ou: Value| {
        let mut i = inputs(kp.clone(), Some(id.clone()));
        i.scp = Some(vec![vec![full.clone()], vec![named(ou, PolicyKind::Scp)]].into());
        let alice = Caller::parse("arn:aws:iam::111122223333:user/Alice", None).unwrap();
        eval::evaluate(
            &i,
            &Request::new(alice, "kms:Decrypt", K1),
            &Options::default(),
        )
        .decision
    };
    assert_eq!(
        scp(json!([{"Effect": "Allow", "Action": "s3:*"}])),
        Decision::ImplicitDeny
    );
    assert_eq!(
        scp(json!([{"Effect": "Allow", "Action": "kms:*"}])),
        Decision::Allow
    );
    // A statement without Action is a grammar error: it is never read as "every action".
    assert_eq!(
        scp(json!([{"Effect": "Allow", "Resource": "*"}])),
        Decision::Undetermined
    );
}

/// Residual evaluation of `kms:Decrypt` by role App on K1 whose key policy names the role,
/// with `extra` added to the inputs; returns the answer and its residual texts.
fn residual_with(
    kp: Value,
    extra: impl FnOnce(&mut Inputs),
    context: &[(&str, &str)],
) -> (Decision, Vec<Vec<String>>) {
    let mut i = inputs(kp, None);
    extra(&mut i);
    let role = Caller::parse("arn:aws:iam::111122223333:role/App", None).unwrap();
    let mut req = Request::new(role, "kms:Decrypt", K1);
    req.context = context
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let opts = Options {
        residual: true,
        ..Options::default()
    };
    let ev = eval::evaluate(&i, &req, &opts);
    let alts = ev.checks[0]
        .residual
        .iter()
        .map(|a| {
            a.iter()
                .map(|r| format!("{} @ {}", r.text, r.statement))
                .collect()
        })
        .collect();
    (ev.decision, alts)
}

fn names_app() -> Value {
    json!([{"Sid": "App", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*"}])
}

fn via_s3_only(kind: PolicyKind) -> NamedPolicy {
    let mut st = json!({"Sid": "ViaOnly", "Effect": "Allow", "Action": "kms:*", "Resource": "*",
        "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}}});
    if kind == PolicyKind::VpcEndpoint {
        st["Principal"] = json!("*");
    }
    named(json!([st]), kind)
}

#[test]
fn r50_scp_gate_open_on_a_request_key_is_a_requirement_never_an_allow() {
    // Residual mode leaves `kms:ViaService` open; the only SCP allows only through a
    // service, so the SCP gate is open and the key policy alone must not make it an Allow.
    let (d, alts) = residual_with(
        names_app(),
        |i| i.scp = Some(vec![vec![via_s3_only(PolicyKind::Scp)]].into()),
        &[],
    );
    assert_eq!(d, Decision::Undetermined);
    assert_eq!(
        alts,
        vec![vec![
            "`kms:ViaService` matches `s3.*.amazonaws.com` @ p#ViaOnly".to_owned()
        ]]
    );
    // Both levels open: both requirements, in one alternative; an open allow path too.
    let tenant = json!([{"Sid": "Tenant", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/App"}, "Action": "kms:Decrypt", "Resource": "*",
        "Condition": {"StringEquals": {"kms:EncryptionContext:tenant": "c1"}}}]);
    let ou = named(
        json!([{"Sid": "Org", "Effect": "Allow", "Action": "kms:*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}}]),
        PolicyKind::Scp,
    );
    let (d, alts) = residual_with(
        tenant,
        |i| i.scp = Some(vec![vec![via_s3_only(PolicyKind::Scp)], vec![ou]].into()),
        &[],
    );
    assert_eq!(d, Decision::Undetermined);
    assert_eq!(alts.len(), 1, "{alts:?}");
    for want in [
        "kms:EncryptionContext:tenant",
        "kms:ViaService",
        "aws:PrincipalOrgID",
    ] {
        assert!(alts[0].iter().any(|r| r.contains(want)), "{want}: {alts:?}");
    }
    // Given the key, the gate decides.
    let (d, _) = residual_with(
        names_app(),
        |i| i.scp = Some(vec![vec![via_s3_only(PolicyKind::Scp)]].into()),
        &[("kms:ViaService", "s3.us-east-1.amazonaws.com")],
    );
    assert_eq!(d, Decision::Allow);
}

#[test]
fn r51_vpc_endpoint_gate_open_on_a_request_key_is_a_requirement_never_an_allow() {
    let (d, alts) = residual_with(
        names_app(),
        |i| i.vpce = Some(via_s3_only(PolicyKind::VpcEndpoint)),
        &[("aws:SourceVpce", "vpce-1")],
    );
    assert_eq!(d, Decision::Undetermined);
    assert_eq!(
        alts,
        vec![vec![
            "`kms:ViaService` matches `s3.*.amazonaws.com` @ p#ViaOnly".to_owned()
        ]]
    );
}

#[test]
fn r57_boundary_session_and_r49_rcp_deny_open_on_a_request_key_never_allow() {
    // The other limits already keep their open conditions; pinned beside the gates.
    for extra in [
        (|i: &mut Inputs| i.boundary = Some(via_s3_only(PolicyKind::Boundary))) as fn(&mut Inputs),
        |i: &mut Inputs| i.session = vec![via_s3_only(PolicyKind::Session)],
        |i: &mut Inputs| {
            i.rcp = Some(
                vec![vec![named(
                    json!([{"Sid": "NoDirect", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
                        "Condition": {"Null": {"kms:ViaService": "true"}}}]),
                    PolicyKind::Rcp,
                )]]
                .into(),
            );
        },
    ] {
        let (d, _) = residual_with(names_app(), extra, &[]);
        assert_eq!(d, Decision::Undetermined);
    }
}
