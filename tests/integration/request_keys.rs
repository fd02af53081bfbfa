//! Request keys AWS always sets (R9, R107), calls through an integrated service (R103),
//! principals (R1, R8, R24, R48) and case-twin encryption-context keys (R7): what `can`
//! answers when the inputs do not say everything a real request carries.

use kmsaudit::eval::{
    self, Caller, Decision, Evaluation, Inputs, KeyFacts, KeyInputs, NamedPolicy, Options, Request,
};
use kmsaudit::policy::PolicyKind;
use kmsaudit::source::SourceId;
use serde_json::{Value, json};

use super::run;

const K1: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const ALICE: &str = "arn:aws:iam::111122223333:user/Alice";
const APP_SESSION: &str = "arn:aws:sts::111122223333:assumed-role/App/s1";

fn named(name: &str, statements: Value, kind: PolicyKind) -> NamedPolicy {
    let text = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    let j = kmsaudit::json::parse(&text).unwrap();
    let (doc, problems) = kmsaudit::policy::parse_policy(&j, SourceId::new(0, 0), kind);
    assert!(problems.iter().all(|p| !p.is_error()), "{problems:?}");
    NamedPolicy {
        name: name.into(),
        doc: doc.into(),
    }
}

/// The root delegation key policy plus `extra` key-policy statements, and an identity policy
/// allowing `kms:*` plus `identity_extra` statements.
fn inputs(extra: Value, identity_extra: Value) -> Inputs {
    let mut kp = vec![json!({"Sid": "Root", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"})];
    kp.extend(extra.as_array().cloned().unwrap_or_default());
    let mut id =
        vec![json!({"Sid": "UseKeys", "Effect": "Allow", "Action": "kms:*", "Resource": "*"})];
    id.extend(identity_extra.as_array().cloned().unwrap_or_default());
    let mut facts = KeyFacts::from_arn(K1).unwrap();
    facts.key_manager = Some(eval::KeyManager::Customer);
    Inputs {
        keys: vec![std::sync::Arc::new(KeyInputs {
            facts,
            policies: Some(vec![named("key-policy", Value::Array(kp), PolicyKind::Key)]),
            grants: None,
            policy_unknown: None,
        })],
        identity: Some(vec![named("identity", Value::Array(id), PolicyKind::Identity)].into()),
        ..Inputs::default()
    }
}

fn ask(inputs: &Inputs, principal: &str, context: &[(&str, &str)]) -> Evaluation {
    ask_with(inputs, principal, context, |_| {})
}

fn ask_with(
    inputs: &Inputs,
    principal: &str,
    context: &[(&str, &str)],
    edit: impl FnOnce(&mut Request),
) -> Evaluation {
    let caller = Caller::parse(principal, None).unwrap();
    let mut req = Request::new(caller, "kms:Decrypt", K1);
    req.context = context
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    edit(&mut req);
    let opts = Options {
        trace: true,
        now: Some("2026-12-06T12:00:00Z".into()),
        ..Options::default()
    };
    let ev = eval::evaluate(inputs, &req, &opts);
    // The untraced (batch) path answers the same.
    let fast = eval::evaluate(
        inputs,
        &req,
        &Options {
            trace: false,
            ..opts
        },
    );
    assert_eq!(fast.decision, ev.decision);
    ev
}

fn unknowns(ev: &Evaluation) -> String {
    ev.checks
        .iter()
        .flat_map(|c| c.unknowns.iter().map(ToString::to_string))
        .collect::<Vec<_>>()
        .join("\n")
}

fn reasons(ev: &Evaluation) -> String {
    ev.checks
        .iter()
        .flat_map(|c| c.reasons.iter().map(ToString::to_string))
        .collect::<Vec<_>>()
        .join("\n")
}

fn can(extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["can", "--format", "json"];
    args.extend_from_slice(extra);
    run(&args, None)
}

fn decision(out: &str) -> String {
    let v: Value = serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"));
    v["decision"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn r9_r107_source_ip_is_never_absent_on_a_direct_call() {
    // The classic "deny outside the corporate network" identity policy.
    let deny = json!([{"Sid": "DenyOutsideCorporateNetwork", "Effect": "Deny", "Action": "kms:*",
        "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}]);
    let inp = inputs(json!([]), deny);
    // Not given: the caller has an address, which is not known: the Deny may apply.
    let ev = ask(&inp, ALICE, &[]);
    assert_eq!(ev.decision, Decision::Undetermined);
    assert!(unknowns(&ev).contains("aws:SourceIp"), "{}", unknowns(&ev));
    // `--context` settles it.
    assert_eq!(
        ask(&inp, ALICE, &[("aws:SourceIp", "203.0.113.7")]).decision,
        Decision::Allow
    );
    assert_eq!(
        ask(&inp, ALICE, &[("aws:SourceIp", "198.51.100.1")]).decision,
        Decision::ExplicitDeny
    );
    // Through a VPC endpoint the request has no `aws:SourceIp` (R103), so `NotIpAddress`
    // holds (R29): the documented pitfall of IP denies, settled without any unknown.
    let ev = ask(&inp, ALICE, &[("aws:SourceVpce", "vpce-0a1b2c3d4e5f60789")]);
    assert_eq!(ev.decision, Decision::ExplicitDeny);
    assert!(unknowns(&ev).is_empty());
}

#[test]
fn r9_r107_undetermined_answer_names_the_key_and_how_to_settle_it() {
    let ask = |extra: &[&str]| {
        let mut args = vec![
            "can",
            "--principal",
            APP_SESSION,
            "--action",
            "kms:Decrypt",
            "--key",
            K1,
            "--key-policy",
            "fixtures/cases/policies/F1.json",
            "--identity-policy",
            "fixtures/cases/policies/I2.json",
            "--identity-policy",
            "fixtures/request-keys/deny-outside-corporate-network.json",
        ];
        args.extend_from_slice(extra);
        run(&args, None)
    };
    let (code, out, err) = ask(&[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("decision: undetermined"), "{out}");
    assert!(
        out.contains("give it with `--context aws:SourceIp=…`"),
        "{out}"
    );
    let (_, out, _) = ask(&["--context", "aws:SourceIp=203.0.113.7"]);
    assert!(out.contains("decision: allow"), "{out}");
    let (_, out, _) = ask(&["--context", "aws:SourceIp=198.51.100.1"]);
    assert!(out.contains("decision: explicit-deny"), "{out}");
}

#[test]
fn r9_r107_mfa_and_token_issue_time_for_sessions_and_users() {
    let deny_no_mfa = json!([{"Sid": "DenyWithoutMfa", "Effect": "Deny", "Action": "kms:*",
        "Resource": "*", "Condition": {"Null": {"aws:MultiFactorAuthPresent": "true"}}}]);
    let inp = inputs(json!([]), deny_no_mfa);
    // A role session always has temporary credentials: the key is present (its value unknown).
    assert_eq!(ask(&inp, APP_SESSION, &[]).decision, Decision::Allow);
    // An IAM user may or may not call with temporary credentials.
    let ev = ask(&inp, ALICE, &[]);
    assert_eq!(ev.decision, Decision::Undetermined);
    assert!(
        unknowns(&ev).contains("aws:MultiFactorAuthPresent"),
        "{}",
        unknowns(&ev)
    );
    assert_eq!(
        ask(&inp, ALICE, &[("aws:MultiFactorAuthPresent", "true")]).decision,
        Decision::Allow
    );

    let deny_mfa_false = json!([{"Sid": "DenyMfaFalse", "Effect": "Deny", "Action": "kms:*",
        "Resource": "*", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]);
    let inp = inputs(json!([]), deny_mfa_false);
    let ev = ask(&inp, APP_SESSION, &[]);
    assert_eq!(ev.decision, Decision::Undetermined);
    assert!(unknowns(&ev).contains("aws:MultiFactorAuthPresent"));
    assert_eq!(
        ask(
            &inp,
            APP_SESSION,
            &[("aws:MultiFactorAuthPresent", "false")]
        )
        .decision,
        Decision::ExplicitDeny
    );

    let deny_old_tokens = json!([{"Sid": "DenyOldSessions", "Effect": "Deny", "Action": "kms:*",
        "Resource": "*", "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2026-12-01T00:00:00Z"}}}]);
    let inp = inputs(json!([]), deny_old_tokens);
    let ev = ask(&inp, APP_SESSION, &[]);
    assert_eq!(ev.decision, Decision::Undetermined);
    assert!(unknowns(&ev).contains("aws:TokenIssueTime"));
    assert_eq!(
        ask(
            &inp,
            APP_SESSION,
            &[("aws:TokenIssueTime", "2026-12-06T08:00:00Z")]
        )
        .decision,
        Decision::Allow
    );
}

#[test]
fn r9_resource_org_keys_are_unknown_without_a_tree_and_derived_from_one() {
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
        "fixtures/request-keys/data-perimeter-own-org-keys.json",
    ];
    // Without an Organizations tree, whether the key's account is in the organisation is
    // unknown: the data-perimeter Deny may apply.
    let (code, out, err) = can(&base);
    assert_eq!(code, 0, "{err}");
    assert_eq!(decision(&out), "undetermined", "{out}");
    assert!(out.contains("aws:ResourceOrgID"), "{out}");
    // The tree puts 111122223333 in o-exampleorg11: the Deny does not apply.
    let mut with_tree = base.to_vec();
    with_tree.push("fixtures/inventory/organizations-tree.json");
    let (code, out, err) = can(&with_tree);
    assert_eq!(code, 0, "{err}");
    assert_eq!(decision(&out), "allow", "{out}");
    // `--context` settles it too.
    let mut given = base.to_vec();
    given.extend(["--context", "aws:ResourceOrgID=o-otherorg22"]);
    let (_, out, _) = can(&given);
    assert_eq!(decision(&out), "explicit-deny", "{out}");
}

#[test]
fn r9_resource_org_paths_come_from_the_organizations_tree() {
    let perimeter = json!([{"Sid": "DenyOutsideWorkloads", "Effect": "Deny", "Action": "kms:*",
        "Resource": "*", "Condition": {"StringNotLike": {"aws:ResourceOrgPaths": "o-exampleorg11/r-ab12/ou-ab12-workloads/*"}}}]);
    let dir = std::env::temp_dir().join(format!("kmsaudit-r9-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let id = dir.join("perimeter.json");
    std::fs::write(
        &id,
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}, perimeter[0].clone()]})
        .to_string(),
    )
    .unwrap();
    let (code, out, err) = can(&[
        "--principal",
        ALICE,
        "--action",
        "kms:Decrypt",
        "--key",
        K1,
        "--key-policy",
        "fixtures/cases/policies/F1.json",
        "--identity-policy",
        id.to_str().unwrap(),
        "fixtures/inventory/organizations-tree.json",
    ]);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(code, 0, "{err}");
    assert_eq!(decision(&out), "allow", "{out}");
}

#[test]
fn r107_current_and_epoch_time_default_to_the_run_and_context_pins_them() {
    let key_policy = "fixtures/request-keys/key-policy-until-2100.json";
    for action in ["kms:Decrypt", "kms:Encrypt"] {
        let ask = |extra: &[&str]| {
            let mut args = vec![
                "--principal",
                ALICE,
                "--action",
                action,
                "--key",
                K1,
                "--key-policy",
                key_policy,
            ];
            args.extend_from_slice(extra);
            let (code, out, err) = can(&args);
            assert_eq!(code, 0, "{err}");
            decision(&out)
        };
        // Now is before 2100.
        assert_eq!(ask(&[]), "allow", "{action}");
        // Pinned after it: `aws:CurrentTime` fixes `aws:EpochTime` too, and the reverse.
        assert_eq!(
            ask(&["--context", "aws:CurrentTime=2101-01-01T00:00:00Z"]),
            "implicit-deny",
            "{action}"
        );
        assert_eq!(
            ask(&["--context", "aws:EpochTime=4133980800"]),
            "implicit-deny",
            "{action}"
        );
    }
}

#[test]
fn r103_via_service_given_as_context_is_a_call_through_the_service() {
    // A Deny for direct calls only, and one for calls through a VPC endpoint.
    let deny = json!([
        {"Sid": "DirectCallsOnlyFromAdmins", "Effect": "Deny", "Action": "kms:Decrypt",
         "Resource": "*", "Condition": {"Bool": {"aws:ViaAWSService": "false"}}},
        {"Sid": "NotThroughSharedEndpoint", "Effect": "Deny", "Action": "kms:Decrypt",
         "Resource": "*", "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f60789"}}}
    ]);
    let inp = inputs(json!([]), deny);
    let s3 = ("kms:ViaService", "s3.us-east-1.amazonaws.com");
    let ip = ("aws:SourceIp", "203.0.113.7");
    // `--context kms:ViaService=…` and `--via-service` are the same call.
    assert_eq!(ask(&inp, ALICE, &[s3, ip]).decision, Decision::Allow);
    let ev = ask_with(&inp, ALICE, &[ip], |r| {
        r.via_service = Some("s3.us-east-1.amazonaws.com".into());
    });
    assert_eq!(ev.decision, Decision::Allow);
    // The original request's VPC keys do not reach KMS through the service.
    assert_eq!(
        ask(
            &inp,
            ALICE,
            &[s3, ip, ("aws:SourceVpce", "vpce-0a1b2c3d4e5f60789")]
        )
        .decision,
        Decision::Allow
    );
    // A direct call through that endpoint is denied.
    assert_eq!(
        ask(&inp, ALICE, &[("aws:SourceVpce", "vpce-0a1b2c3d4e5f60789")]).decision,
        Decision::ExplicitDeny
    );
}

#[test]
fn r103_endpoint_policy_does_not_gate_a_call_through_a_service() {
    let mut inp = inputs(json!([]), json!([]));
    inp.vpce = Some(named(
        "vpce",
        json!([{"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"},
               {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}]),
        PolicyKind::VpcEndpoint,
    ));
    let vpce = ("aws:SourceVpce", "vpce-0a1b2c3d4e5f60789");
    assert_eq!(ask(&inp, ALICE, &[vpce]).decision, Decision::ExplicitDeny);
    let ev = ask(
        &inp,
        ALICE,
        &[vpce, ("kms:ViaService", "ebs.us-east-1.amazonaws.com")],
    );
    assert_eq!(ev.decision, Decision::Allow, "{}", reasons(&ev));
}

#[test]
fn r103_called_via_only_for_services_that_set_it() {
    let deny = json!([{"Sid": "NoS3Chains", "Effect": "Deny", "Action": "kms:*", "Resource": "*",
        "Condition": {"ForAnyValue:StringEquals": {"aws:CalledVia": ["s3.amazonaws.com", "dynamodb.amazonaws.com"]}}}]);
    let inp = inputs(json!([]), deny);
    let ip = ("aws:SourceIp", "203.0.113.7");
    // S3 does not set `aws:CalledVia`.
    assert_eq!(
        ask(
            &inp,
            ALICE,
            &[("kms:ViaService", "s3.us-east-1.amazonaws.com"), ip]
        )
        .decision,
        Decision::Allow
    );
    // DynamoDB does.
    assert_eq!(
        ask(
            &inp,
            ALICE,
            &[("kms:ViaService", "dynamodb.us-east-1.amazonaws.com"), ip]
        )
        .decision,
        Decision::ExplicitDeny
    );
}

#[test]
fn r103_source_ip_through_ec2_is_an_infrastructure_address() {
    let deny = json!([{"Sid": "DenyOutsideCorporateNetwork", "Effect": "Deny", "Action": "kms:*",
        "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}]);
    let inp = inputs(json!([]), deny);
    let ec2 = ("kms:ViaService", "ec2.us-east-1.amazonaws.com");
    // The documented pitfall: an EBS attach is denied, whatever the caller's own address.
    assert_eq!(ask(&inp, ALICE, &[ec2]).decision, Decision::ExplicitDeny);
    // Through S3 the caller's own address is kept: unknown until given.
    let ev = ask(
        &inp,
        ALICE,
        &[("kms:ViaService", "s3.us-east-1.amazonaws.com")],
    );
    assert_eq!(ev.decision, Decision::Undetermined);
    assert!(unknowns(&ev).contains("aws:SourceIp"));
    // A range covering every address covers the EC2 address too.
    let all = json!([{"Sid": "DenyOutsideAnywhere", "Effect": "Deny", "Action": "kms:*",
        "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24", "0.0.0.0/0"]}}}]);
    assert_eq!(
        ask(&inputs(json!([]), all), ALICE, &[ec2]).decision,
        Decision::Allow
    );
}

#[test]
fn r8_r24_principal_of_another_partition_never_matches() {
    let public = json!([{"Sid": "Everyone", "Effect": "Allow", "Principal": "*",
        "Action": "kms:Decrypt", "Resource": "*"}]);
    let inp = inputs(public, json!([]));
    assert_eq!(ask(&inp, ALICE, &[]).decision, Decision::Allow);
    let ev = ask(&inp, "arn:aws-cn:iam::111122223333:user/Alice", &[]);
    assert_eq!(ev.decision, Decision::ImplicitDeny);
    assert!(reasons(&ev).contains("partition"), "{}", reasons(&ev));
}

#[test]
fn r1_anonymous_caller_is_an_input_error() {
    assert!(Caller::parse("*", None).is_err());
    assert!(Caller::parse("anonymous", None).is_err());
    let (code, _, err) = can(&[
        "--principal",
        "*",
        "--action",
        "kms:Decrypt",
        "--key",
        K1,
        "--key-policy",
        "fixtures/cases/policies/F1.json",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("signed"), "{err}");
}

#[test]
fn r1_unknown_role_path_matches_same_name_under_other_path_as_unknown() {
    // A Deny naming the role `App` under `/team/`; the session's role path is not known.
    let deny = json!([{"Sid": "NotTeamApp", "Effect": "Deny",
        "Principal": {"AWS": "arn:aws:iam::111122223333:role/team/App"},
        "Action": "kms:Decrypt", "Resource": "*"}]);
    let inp = inputs(deny, json!([]));
    let ev = ask(&inp, APP_SESSION, &[]);
    assert_eq!(ev.decision, Decision::Undetermined);
    // Given the role ARN, it is settled either way.
    let with_role = |role: &str| {
        let caller = Caller::parse(APP_SESSION, Some(role)).unwrap();
        let req = Request::new(caller, "kms:Decrypt", K1);
        eval::evaluate(&inp, &req, &Options::default()).decision
    };
    assert_eq!(
        with_role("arn:aws:iam::111122223333:role/team/App"),
        Decision::ExplicitDeny
    );
    assert_eq!(
        with_role("arn:aws:iam::111122223333:role/App"),
        Decision::Allow
    );

    // The same through `aws:PrincipalArn` patterns.
    for (pattern, expect) in [
        (
            "arn:aws:iam::111122223333:role/team/*",
            Decision::Undetermined,
        ),
        (
            "arn:aws:iam::111122223333:role/*/App",
            Decision::Undetermined,
        ),
        // Names the role only if its path is `/`: the assumption may not make it certain.
        ("arn:aws:iam::111122223333:role/App", Decision::Undetermined),
        // Names the role whatever its path.
        (
            "arn:aws:iam::111122223333:role/*App",
            Decision::ExplicitDeny,
        ),
        ("arn:aws:iam::111122223333:role/Other", Decision::Allow),
        ("arn:aws:iam::111122223333:role/team/Other", Decision::Allow),
        ("arn:aws:iam::444455556666:role/team/App", Decision::Allow),
    ] {
        let deny = json!([{"Sid": "DenyTeamRoles", "Effect": "Deny", "Principal": "*",
            "Action": "kms:Decrypt", "Resource": "*",
            "Condition": {"ArnLike": {"aws:PrincipalArn": pattern}}}]);
        let ev = ask(&inputs(deny, json!([])), APP_SESSION, &[]);
        assert_eq!(ev.decision, expect, "{pattern}: {}", unknowns(&ev));
    }
}

#[test]
fn r1_principal_arn_context_may_not_make_the_caller_another_role() {
    let base = [
        "--action",
        "kms:Decrypt",
        "--key",
        K1,
        "--key-policy",
        "fixtures/cases/policies/F1.json",
        "--identity-policy",
        "fixtures/cases/policies/I2.json",
    ];
    let ask = |principal: &str, arn: &str| {
        let mut args = vec!["--principal", principal, "--context"];
        let ctx = format!("aws:PrincipalArn={arn}");
        args.push(&ctx);
        args.extend_from_slice(&base);
        can(&args)
    };
    // The session's role with its path: accepted.
    let (code, out, err) = ask(APP_SESSION, "arn:aws:iam::111122223333:role/team/App");
    assert_eq!(code, 0, "{err}");
    assert_eq!(decision(&out), "allow");
    // Another role, another account, a user: refused.
    for other in [
        "arn:aws:iam::111122223333:role/Admin",
        "arn:aws:iam::444455556666:role/App",
        "arn:aws:iam::111122223333:user/App",
    ] {
        let (code, _, err) = ask(APP_SESSION, other);
        assert_eq!(code, 2, "{other}: {err}");
        assert!(err.contains("not the role of session"), "{err}");
    }
    // Nor may it make a user someone else.
    let (code, _, err) = ask(ALICE, "arn:aws:iam::111122223333:user/Bob");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("does not agree"), "{err}");
}

#[test]
fn r24_federating_user_not_given_is_unknown_to_a_deny() {
    let deny = json!([{"Sid": "NotBob", "Effect": "Deny",
        "Principal": {"AWS": "arn:aws:iam::111122223333:user/Bob"},
        "Action": "kms:Decrypt", "Resource": "*"}]);
    let mut inp = inputs(deny, json!([]));
    inp.session = vec![named(
        "session",
        json!([{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]),
        PolicyKind::Session,
    )];
    let carol = "arn:aws:sts::111122223333:federated-user/carol";
    // Bob may have federated as carol.
    let ev = ask(&inp, carol, &[]);
    assert_eq!(ev.decision, Decision::Undetermined);
    // Known to be Alice's session: the Deny does not name her.
    let mut caller = Caller::parse(carol, None).unwrap();
    caller.federating_user = Some(ALICE.into());
    let req = Request::new(caller.clone(), "kms:Decrypt", K1);
    assert_eq!(
        eval::evaluate(&inp, &req, &Options::default()).decision,
        Decision::Allow
    );
    caller.federating_user = Some("arn:aws:iam::111122223333:user/Bob".into());
    let req = Request::new(caller, "kms:Decrypt", K1);
    assert_eq!(
        eval::evaluate(&inp, &req, &Options::default()).decision,
        Decision::ExplicitDeny
    );
}

#[test]
fn r48_service_linked_roles_are_outside_scps_and_rcps() {
    let slr = Caller::parse(
        "arn:aws:sts::111122223333:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling",
        Some("arn:aws:iam::111122223333:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"),
    )
    .unwrap();
    let req = Request::new(slr, "kms:Decrypt", K1);
    let mut inp = inputs(json!([]), json!([]));
    inp.scp = Some(
        vec![vec![named(
            "deny-all",
            json!([{"Effect": "Deny", "Action": "kms:*", "Resource": "*"}]),
            PolicyKind::Scp,
        )]]
        .into(),
    );
    assert_eq!(
        eval::evaluate(&inp, &req, &Options::default()).decision,
        Decision::Allow
    );
    inp.scp = None;
    inp.rcp = Some(
        vec![vec![named(
            "deny-all",
            json!([{"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"}]),
            PolicyKind::Rcp,
        )]]
        .into(),
    );
    assert_eq!(
        eval::evaluate(&inp, &req, &Options::default()).decision,
        Decision::Allow
    );
    // Any other role is denied by the same RCP.
    let app = Request::new(Caller::parse(APP_SESSION, None).unwrap(), "kms:Decrypt", K1);
    assert_eq!(
        eval::evaluate(&inp, &app, &Options::default()).decision,
        Decision::ExplicitDeny
    );
}

#[test]
fn r7_case_twin_in_encryption_context_cannot_escape_a_deny() {
    let deny = json!([{"Sid": "NoRestrictedData", "Effect": "Deny", "Principal": "*",
        "Action": "kms:Decrypt", "Resource": "*",
        "Condition": {"StringEquals": {"kms:EncryptionContext:Department": "Restricted"}}}]);
    let inp = inputs(deny, json!([]));
    let with_ec = |pairs: &[(&str, &str)]| {
        ask_with(&inp, ALICE, &[], |r| {
            r.encryption_context = Some(
                pairs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            );
        })
        .decision
    };
    assert_eq!(
        with_ec(&[("Department", "Restricted")]),
        Decision::ExplicitDeny
    );
    // Adding a twin with another value does not escape the Deny.
    assert_eq!(
        with_ec(&[("Department", "Restricted"), ("department", "Public")]),
        Decision::ExplicitDeny
    );
    assert_eq!(with_ec(&[("Department", "Public")]), Decision::Allow);

    // An Allow keyed on the context needs every twin to satisfy it.
    let allow_only = json!([{"Sid": "FinanceOnly", "Effect": "Allow",
        "Principal": {"AWS": ALICE}, "Action": "kms:Decrypt", "Resource": "*",
        "Condition": {"StringEquals": {"kms:EncryptionContext:dept": "Finance"}}}]);
    let mut inp = inputs(allow_only, json!([]));
    // No identity policy: only the key policy's own statement can allow.
    inp.identity = Some(Vec::new().into());
    let with_ec = |pairs: &[(&str, &str)]| {
        ask_with(&inp, ALICE, &[], |r| {
            r.encryption_context = Some(
                pairs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            );
        })
        .decision
    };
    assert_eq!(with_ec(&[("Dept", "Finance")]), Decision::Allow);
    assert_eq!(
        with_ec(&[("Dept", "Finance"), ("dept", "HR")]),
        Decision::ImplicitDeny
    );
}

#[test]
fn r107_requested_region_of_a_call_without_a_key_is_never_absent() {
    // "No keys are created in us-east-1": CreateKey names no key, so the Region is the one the
    // request is sent to, which the inputs do not say.
    let deny = json!([{"Sid": "NoKeysInUsEast1", "Effect": "Deny", "Action": "kms:CreateKey",
        "Resource": "*", "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}}]);
    let inp = inputs(json!([]), deny);
    let create = |context: &[(&str, &str)]| {
        ask_with(&inp, ALICE, context, |r| r.action = "kms:CreateKey".into())
    };
    let ev = create(&[]);
    assert_eq!(ev.decision, Decision::Undetermined);
    assert!(unknowns(&ev).contains("aws:RequestedRegion"));
    assert_eq!(
        create(&[("aws:RequestedRegion", "us-east-1")]).decision,
        Decision::ExplicitDeny
    );
    assert_eq!(
        create(&[("aws:RequestedRegion", "eu-west-1")]).decision,
        Decision::Allow
    );
    // A call on a key goes to the key's Region.
    assert_eq!(ask(&inp, ALICE, &[]).decision, Decision::Allow);
}

#[test]
fn r9_r102_a_service_principal_carries_no_org_keys_even_in_residual_mode() {
    // A Deny on callers outside the organisation also refuses service principals, which belong
    // to no organisation: residual evaluation must not leave that Deny open and answer with
    // the service Allow's own condition alone.
    let deny_outside_org = inputs(
        json!([
            {"Sid": "Trail", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "kms:Decrypt", "Resource": "*",
             "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}},
            {"Sid": "OrgOnly", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
             "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}
        ]),
        json!([]),
    );
    let caller = Caller::parse("cloudtrail.amazonaws.com", None).unwrap();
    let req = Request::new(caller, "kms:Decrypt", K1);
    for residual in [false, true] {
        let opts = Options {
            trace: true,
            residual,
            ..Options::default()
        };
        let ev = eval::evaluate(&deny_outside_org, &req, &opts);
        assert_eq!(
            ev.decision,
            Decision::ExplicitDeny,
            "residual {residual}: {}\n{}",
            reasons(&ev),
            unknowns(&ev)
        );
    }
    // The carve-out the data-perimeter pattern uses keeps the service's Allow usable.
    let carve_out = inputs(
        json!([
            {"Sid": "Trail", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "kms:Decrypt", "Resource": "*"},
            {"Sid": "OrgOnly", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
             "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"},
                           "Bool": {"aws:PrincipalIsAWSService": "false"}}}
        ]),
        json!([]),
    );
    let ev = ask(&carve_out, "cloudtrail.amazonaws.com", &[]);
    assert_eq!(ev.decision, Decision::Allow, "{}", reasons(&ev));
}

/// R92: `CreateKey` without `KeySpec`, `KeyUsage`, `Origin` or `MultiRegion` carries their
/// defaults, so a Deny keyed on a default applies to a request that omits the parameter; one
/// given with `--context` is the request's own value.
#[test]
fn r92_create_key_parameters_take_their_defaults_when_omitted() {
    for (key, default, other) in [
        ("kms:KeySpec", "SYMMETRIC_DEFAULT", "RSA_4096"),
        ("kms:CustomerMasterKeySpec", "SYMMETRIC_DEFAULT", "RSA_4096"),
        ("kms:KeyUsage", "ENCRYPT_DECRYPT", "SIGN_VERIFY"),
        ("kms:KeyOrigin", "AWS_KMS", "EXTERNAL"),
        ("kms:MultiRegion", "false", "true"),
    ] {
        let inp = inputs(
            json!([]),
            json!([{"Sid": "NoDefault", "Effect": "Deny", "Action": "kms:CreateKey",
                    "Resource": "*", "Condition": {"StringEquals": {key: default}}}]),
        );
        let omitted = ask_with(&inp, ALICE, &[], |r| r.action = "kms:CreateKey".into());
        assert_eq!(omitted.decision, Decision::ExplicitDeny, "{key}");
        let given = ask_with(&inp, ALICE, &[(key, other)], |r| {
            r.action = "kms:CreateKey".into();
        });
        assert_eq!(
            given.decision,
            Decision::Allow,
            "{key}: {}",
            reasons(&given)
        );
    }
}

/// R92: `ScheduleKeyDeletion` without `PendingWindowInDays` waits 30 days, and that is the
/// key's value; `EnableKeyRotation` without `RotationPeriodInDays` rotates every 365 days.
#[test]
fn r92_pending_window_and_rotation_period_take_their_defaults() {
    for (action, key, default) in [
        (
            "kms:ScheduleKeyDeletion",
            "kms:ScheduleKeyDeletionPendingWindowInDays",
            "30",
        ),
        ("kms:EnableKeyRotation", "kms:RotationPeriodInDays", "365"),
    ] {
        let inp = inputs(
            json!([]),
            json!([{"Sid": "NoDefault", "Effect": "Deny", "Action": action,
                    "Resource": "*", "Condition": {"NumericEquals": {key: default}}}]),
        );
        let ev = ask_with(&inp, ALICE, &[], |r| r.action = action.into());
        assert_eq!(ev.decision, Decision::ExplicitDeny, "{action}");
    }
}

/// R104: a `TagResource` request always sets tags, and an `UntagResource` request always
/// names tag keys: a Deny keyed on them is undetermined until the tags are given, never
/// dropped as if they were absent.
#[test]
fn r104_tag_requests_always_carry_their_tag_keys() {
    let deny_keys = inputs(
        json!([]),
        json!([{"Sid": "NoOwnerTag", "Effect": "Deny",
                "Action": ["kms:TagResource", "kms:UntagResource"], "Resource": "*",
                "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": "owner"}}}]),
    );
    for action in ["kms:TagResource", "kms:UntagResource"] {
        let open = ask_with(&deny_keys, ALICE, &[], |r| r.action = action.into());
        assert_eq!(open.decision, Decision::Undetermined, "{action}");
        assert!(
            unknowns(&open).contains("aws:TagKeys"),
            "{}",
            unknowns(&open)
        );
        let other = ask_with(&deny_keys, ALICE, &[("aws:TagKeys", "team")], |r| {
            r.action = action.into();
        });
        assert_eq!(other.decision, Decision::Allow, "{action}");
        let owner = ask_with(&deny_keys, ALICE, &[("aws:TagKeys", "owner")], |r| {
            r.action = action.into();
        });
        assert_eq!(owner.decision, Decision::ExplicitDeny, "{action}");
    }
    let deny_value = inputs(
        json!([]),
        json!([{"Sid": "NoOwnerX", "Effect": "Deny", "Action": "kms:TagResource",
                "Resource": "*", "Condition": {"StringEquals": {"aws:RequestTag/owner": "x"}}}]),
    );
    let open = ask_with(&deny_value, ALICE, &[], |r| {
        r.action = "kms:TagResource".into();
    });
    assert_eq!(open.decision, Decision::Undetermined);
    // `CreateKey` may be sent without tags: there, tags not given are absent.
    let create = ask_with(&deny_value, ALICE, &[], |r| {
        r.action = "kms:CreateKey".into();
    });
    assert_eq!(create.decision, Decision::Allow);
}

/// R34 (Q1): AWS does not document how a plain operator compares a multivalued key. A Deny
/// that would apply if a matching request value counted is undetermined, never dropped; the
/// user's choice settles it either way, and an Allow keeps the narrower reading.
#[test]
fn r34_a_deny_with_a_plain_operator_on_a_multivalued_key_is_never_dropped() {
    let deny = json!([{"Sid": "NoSecret", "Effect": "Deny", "Principal": {"AWS": "*"},
        "Action": "kms:Decrypt", "Resource": "*",
        "Condition": {"StringEquals": {"kms:EncryptionContextKeys": "secret"}}}]);
    let inp = inputs(deny.clone(), json!([]));
    let ask_q1 = |any: bool, context: &str| {
        let caller = Caller::parse(ALICE, None).unwrap();
        let mut req = Request::new(caller, "kms:Decrypt", K1);
        req.encryption_context = Some(vec![(context.to_owned(), "1".to_owned())]);
        let mut opts = Options::default();
        if any {
            assert!(opts.open.switch("Q1"));
        }
        eval::evaluate(&inp, &req, &opts)
    };
    let open = ask_q1(false, "secret");
    assert_eq!(open.decision, Decision::Undetermined);
    assert!(
        unknowns(&open).contains("kms:EncryptionContextKeys"),
        "{}",
        unknowns(&open)
    );
    // No request value matches: every reading agrees the Deny does not apply.
    assert_eq!(ask_q1(false, "other").decision, Decision::Allow);
    assert_eq!(ask_q1(true, "secret").decision, Decision::ExplicitDeny);
    // `--plain-op-on-multivalued false`, chosen on the command line, keeps the Deny out.
    let dir = std::env::temp_dir().join(format!("kmsaudit-q1-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (kp, id) = (dir.join("key-policy.json"), dir.join("identity.json"));
    let mut statements = vec![json!({"Sid": "Root", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"})];
    statements.extend(deny.as_array().cloned().unwrap_or_default());
    let doc = |st: Vec<Value>| json!({"Version": "2012-10-17", "Statement": st}).to_string();
    std::fs::write(&kp, doc(statements)).unwrap();
    std::fs::write(
        &id,
        doc(vec![
            json!({"Effect": "Allow", "Action": "kms:*", "Resource": "*"}),
        ]),
    )
    .unwrap();
    let (_, out, err) = run(
        &[
            "can",
            "--format",
            "json",
            "--no-trace",
            "--principal",
            ALICE,
            "--action",
            "kms:Decrypt",
            "--key",
            K1,
            "--encryption-context",
            "secret=1",
            "--plain-op-on-multivalued",
            "false",
            "--key-policy",
            kp.to_str().unwrap(),
            "--identity-policy",
            id.to_str().unwrap(),
        ],
        None,
    );
    let _ = std::fs::remove_dir_all(&dir);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    assert_eq!(v["decision"], "allow", "{out}");
}
