//! The probes narrowed to one caller answer as the whole key policy does.

use super::*;
use crate::source::SourceId;

const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn context(text: &str) -> NamedPolicy {
    let json = crate::json::parse(text).unwrap();
    let (doc, _) = crate::policy::parse_policy(&json, SourceId::new(0, 0), PolicyKind::Key);
    NamedPolicy {
        name: KEY_POLICY.into(),
        doc: Arc::new(doc),
    }
}

/// A policy naming many principals one statement each, with statements any caller may
/// match between them.
fn many(roles: usize) -> String {
    let mut st = vec![
        r#"{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}"#.to_owned(),
        r#"{"Sid":"Logs","Effect":"Allow","Principal":{"Service":"logs.amazonaws.com"},"Action":"kms:Decrypt","Resource":"*"}"#.to_owned(),
        r#"{"Sid":"Anyone","Effect":"Allow","Principal":"*","Action":"kms:DescribeKey","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}"#.to_owned(),
        r#"{"Sid":"NoDelete","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:role/App1"},"Action":"kms:ScheduleKeyDeletion","Resource":"*"}"#.to_owned(),
        r#"{"Sid":"Session","Effect":"Allow","Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/App2/alice"},"Action":"kms:PutKeyPolicy","Resource":"*"}"#.to_owned(),
        r#"{"Sid":"Other","Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":["kms:Decrypt","kms:CreateGrant"],"Resource":"*"}"#.to_owned(),
        r#"{"Sid":"DenyApp3","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:role/App3"},"Action":"kms:Decrypt","Resource":"*"}"#.to_owned(),
    ];
    for i in 0..roles {
        st.push(format!(
            r#"{{"Sid":"S{i}","Effect":"Allow","Principal":{{"AWS":["arn:aws:iam::111122223333:role/App{i}","arn:aws:iam::111122223333:user/u{i}"]}},"Action":["kms:Decrypt","kms:CreateGrant","kms:PutKeyPolicy"],"Resource":"*","Condition":{{"Bool":{{"kms:GrantIsForAWSResource":"true"}}}}}}"#
        ));
    }
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        st.join(",")
    )
}

fn callers() -> Vec<Caller> {
    [
        "arn:aws:iam::111122223333:role/App1",
        "arn:aws:iam::111122223333:role/App2",
        "arn:aws:sts::111122223333:assumed-role/App2/alice",
        "arn:aws:sts::111122223333:assumed-role/App2/bob",
        "arn:aws:iam::111122223333:role/App3",
        "arn:aws:iam::111122223333:user/u7",
        "arn:aws:iam::111122223333:role/kmsaudit-probe",
        "arn:aws:iam::111122223333:root",
        "arn:aws:iam::444455556666:role/Elsewhere",
        "arn:aws:iam::000011112222:role/kmsaudit-probe",
        "arn:aws:sts::111122223333:federated-user/u7",
        "logs.amazonaws.com",
        "cloudtrail.amazonaws.com",
    ]
    .iter()
    .map(|s| Caller::parse(s, None).unwrap())
    .collect()
}

#[test]
fn r24_a_probe_sees_only_the_statements_that_can_concern_its_caller() {
    let policy = context(&many(1_000));
    let facts = KeyFacts::from_arn(KEY).unwrap();
    let cx = KeyLintContext::new(&policy, facts, "k".into(), None);
    let kept = |arn: &str| -> Vec<String> {
        let c = Caller::parse(arn, None).unwrap();
        let n = cx.own.for_caller(&c);
        n.policy.doc.statements.iter().map(|s| s.label()).collect()
    };
    // Its own statement, the account's root delegation, and the statements any caller
    // may match: not the other 999 roles' statements.
    assert_eq!(
        kept("arn:aws:iam::111122223333:role/App5"),
        ["Root", "Anyone", "NoDelete", "S5"]
    );
    // Any session of App2 may be the one a statement names.
    assert_eq!(
        kept("arn:aws:iam::111122223333:role/App2"),
        ["Root", "Anyone", "NoDelete", "Session", "S2"]
    );
    assert_eq!(
        kept("arn:aws:iam::444455556666:role/Elsewhere"),
        ["Anyone", "NoDelete", "Other"]
    );
    assert_eq!(kept("logs.amazonaws.com"), ["Logs", "Anyone", "NoDelete"]);
    // A federated user whose federating user is not known is matched by name: every
    // statement is kept.
    assert_eq!(
        kept("arn:aws:sts::111122223333:federated-user/u7").len(),
        policy.doc.statements.len()
    );
}

/// The policies narrowed for each caller share their statements with the whole policy: a
/// policy whose statements for any caller (`"Principal": "*"`) stand beside thousands of
/// named roles held one copy of the shared statements per role before (2.5 GB for a 512 KB
/// policy of 1,005 such statements and 2,521 roles).
#[test]
fn r24_narrowed_policies_share_the_statements_they_keep() {
    let policy = context(&many(400));
    let facts = KeyFacts::from_arn(KEY).unwrap();
    let cx = KeyLintContext::new(&policy, facts, "k".into(), None);
    let whole = &cx.policy.doc.statements;
    let mut narrowed = 0;
    for i in 0..400 {
        let c = Caller::parse(&format!("arn:aws:iam::111122223333:role/App{i}"), None).unwrap();
        let n = cx.own.for_caller(&c);
        if n.policy.doc.statements.len() < whole.len() {
            narrowed += 1;
        }
        for st in &n.policy.doc.statements {
            let Some(same) = whole.get(st.index) else {
                panic!("statement {} is not in the policy", st.index)
            };
            assert!(
                Arc::ptr_eq(st, same),
                "App{i}: statement {} is a copy",
                st.index
            );
        }
    }
    assert_eq!(narrowed, 400);
}

#[test]
fn r24_narrowed_probes_answer_as_the_whole_policy_does() {
    let policy = context(&many(40));
    let facts = KeyFacts::from_arn(KEY).unwrap();
    let cx = KeyLintContext::new(&policy, facts.clone(), "k".into(), None);
    let mut compared = 0;
    for caller in callers() {
        for action in [
            "kms:Decrypt",
            "kms:PutKeyPolicy",
            "kms:CreateGrant",
            "kms:ScheduleKeyDeletion",
            "kms:DescribeKey",
        ] {
            for identity in [None, Some(Vec::new()), Some(cx.allow_all_identity())] {
                let whole = eval::evaluate(
                    &Inputs {
                        keys: vec![cx.key_inputs(&cx.policy)],
                        identity: identity.clone().map(Into::into),
                        ..Inputs::default()
                    },
                    &Request::new(caller.clone(), action, &facts.arn),
                    &KeyLintContext::options(false),
                );
                let narrowed = cx.probe(&caller, action, identity.as_deref());
                assert_eq!(
                    Reach::from_evaluation(&narrowed),
                    Reach::from_evaluation(&whole),
                    "{} {action} {identity:?}",
                    caller.arn
                );
                assert_eq!(narrowed.decision, whole.decision);
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 13 * 5 * 3);
}

/// The probes' memo answers a probe asked again (in any order, remembered or not) with the
/// answer it gave the first time, and keeps only the last service principal's answers: a
/// policy naming thousands of services held every service's answers before.
#[test]
fn memo_answers_a_probe_asked_again_and_keeps_one_service() {
    let policy = context(&many(40));
    let facts = KeyFacts::from_arn(KEY).unwrap();
    let cx = KeyLintContext::new(&policy, facts, "k".into(), None);
    let actions = ["kms:Decrypt", "kms:PutKeyPolicy", "kms:CreateGrant"];
    let mut first = Vec::new();
    for caller in callers() {
        for action in actions {
            for identity in [None, Some(Vec::new()), Some(cx.allow_all_identity())] {
                first.push(cx.probe(&caller, action, identity.as_deref()));
            }
        }
    }
    // Asked again, once every service has been asked: the non-service answers are the very
    // ones remembered, even for a probe that is not to be remembered (`reach_once`).
    let mut at = 0;
    for caller in callers() {
        for action in actions {
            for identity in [None, Some(Vec::new()), Some(cx.allow_all_identity())] {
                let again = cx.run(
                    &cx.policy,
                    &caller,
                    action,
                    identity.as_deref(),
                    false,
                    false,
                );
                let Some(before) = first.get(at) else {
                    panic!("no first answer")
                };
                assert_eq!(again.decision, before.decision, "{} {action}", caller.arn);
                assert_eq!(
                    Reach::from_evaluation(&again),
                    Reach::from_evaluation(before)
                );
                if caller.kind != eval::CallerKind::Service {
                    assert!(Rc::ptr_eq(&again, before), "{} {action}", caller.arn);
                }
                at += 1;
            }
        }
    }
    let kept = cx.service_answers.borrow();
    assert_eq!(kept.len(), actions.len() * 3);
    assert!(
        kept.iter()
            .all(|(a, _)| a.caller.arn == "cloudtrail.amazonaws.com")
    );
    assert!(
        cx.answers
            .borrow()
            .values()
            .flatten()
            .all(|(a, _)| a.caller.kind != eval::CallerKind::Service)
    );
}

/// Statements the pre-check property below builds key policies from: the key's account and
/// others, roles, users, a session, services and `*`, with conditions and Denies.
const STATEMENTS: &[&str] = &[
    r#"{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}"#,
    r#"{"Sid":"Admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/Admin"},"Action":["kms:Create*","kms:Put*","kms:TagResource","kms:ScheduleKeyDeletion","kms:Describe*"],"Resource":"*"}"#,
    r#"{"Sid":"Use","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:role/App","arn:aws:iam::111122223333:user/u1"]},"Action":["kms:Encrypt","kms:Decrypt","kms:CreateGrant"],"Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}}"#,
    r#"{"Sid":"Grants","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/App"},"Action":"kms:CreateGrant","Resource":"*","Condition":{"Bool":{"kms:GrantIsForAWSResource":"true"}}}"#,
    r#"{"Sid":"Other","Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":["kms:Decrypt","kms:CreateGrant","kms:PutKeyPolicy"],"Resource":"*"}"#,
    r#"{"Sid":"Ext","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/Ext"},"Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}"#,
    r#"{"Sid":"Session","Effect":"Allow","Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/Ops/alice"},"Action":"kms:PutKeyPolicy","Resource":"*"}"#,
    r#"{"Sid":"Logs","Effect":"Allow","Principal":{"Service":"logs.amazonaws.com"},"Action":["kms:Encrypt*","kms:Decrypt*","kms:GenerateDataKey*"],"Resource":"*"}"#,
    r#"{"Sid":"Anyone","Effect":"Allow","Principal":"*","Action":["kms:Decrypt","kms:DescribeKey"],"Resource":"*","Condition":{"StringEquals":{"kms:CallerAccount":"111122223333"}}}"#,
    r#"{"Sid":"Tls","Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#,
    r#"{"Sid":"NoDelete","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:role/Admin"},"Action":["kms:ScheduleKeyDeletion","kms:PutKeyPolicy"],"Resource":"*"}"#,
    r#"{"Sid":"AliasOnly","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/App"},"Action":["kms:CreateAlias","kms:UpdateAlias"],"Resource":"*"}"#,
    r#"{"Sid":"NotAction","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/u1"},"NotAction":["kms:Decrypt"],"Resource":"*"}"#,
];

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 300, ..Default::default() })]

    /// Every probe the pre-check (`eval::key_policy_may_allow`) rules out, wherever a key rule
    /// takes it (`allow_reach`, `alias_allowed`, the adversary's search), changes no finding:
    /// the key rules find the same with every probe run.
    #[test]
    fn ruling_out_probes_changes_no_finding(
        picks in proptest::collection::vec(0..STATEMENTS.len(), 1..7),
    ) {
        let chosen: Vec<&str> = picks.iter().filter_map(|&i| STATEMENTS.get(i).copied()).collect();
        let text = format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, chosen.join(","));
        let policy = context(&text);
        let facts = KeyFacts::from_arn(KEY).unwrap();
        let findings = |skip: bool| {
            let cx = KeyLintContext::new(&policy, facts.clone(), "k".into(), None);
            cx.skip_off.set(!skip);
            cx.owned_memo.always.set(true);
            let mut out = Vec::new();
            crate::lint::runner::check_key(&cx, &mut out);
            format!("{out:?}")
        };
        proptest::prop_assert_eq!(findings(true), findings(false));
    }
}

/// Every key action asked by each of `callers`, with no, empty and allow-everything identity
/// policies, gets the same answer from `shared` as from `own` (a context with some sharing
/// switched off), through `reach` and through `allow_reach`.
fn same_reaches(
    shared: &KeyLintContext<'_>,
    own: &KeyLintContext<'_>,
    callers: &[&Caller],
) -> Result<(), proptest::test_runner::TestCaseError> {
    let all = shared.allow_all_identity();
    for &caller in callers {
        for identity in [None, Some(&[][..]), Some(&all[..])] {
            for a in key_actions() {
                let action = format!("kms:{}", a.name);
                let by_class = shared.reach(caller, &action, identity);
                let asked = own.reach(caller, &action, identity);
                proptest::prop_assert_eq!(
                    &by_class,
                    &asked,
                    "{} {} {:?}",
                    caller.arn,
                    action,
                    identity.map(<[NamedPolicy]>::len)
                );
                let pre = shared.allow_reach(caller, &action, identity);
                let pre_own = own.allow_reach(caller, &action, identity);
                proptest::prop_assert_eq!(pre, pre_own, "{} {}", caller.arn, action);
            }
        }
    }
    Ok(())
}

/// Statements whose conditions and variables read keys only some actions carry (R44), for the
/// action-class property below, beside [`STATEMENTS`].
const CLASS_STATEMENTS: &[&str] = &[
    r#"{"Sid":"Ec","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/App"},"Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:app":"a"}}}"#,
    r#"{"Sid":"EcKeys","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":["kms:Encrypt","kms:Decrypt","kms:GenerateDataKey*","kms:ReEncrypt*","kms:DescribeKey"],"Resource":"*","Condition":{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["a","b"]}}}"#,
    r#"{"Sid":"Null","Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"Null":{"kms:EncryptionContext:tenant":"true"}}}"#,
    r#"{"Sid":"Algo","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/Admin"},"Action":["kms:Sign","kms:Verify","kms:Encrypt","kms:Decrypt"],"Resource":"*","Condition":{"StringEqualsIfExists":{"kms:EncryptionAlgorithm":"RSAES_OAEP_SHA_256","kms:SigningAlgorithm":"RSASSA_PSS_SHA_256"}}}"#,
    r#"{"Sid":"Grantee","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/u1"},"Action":"kms:*","Resource":"*","Condition":{"StringLike":{"kms:GranteePrincipal":"arn:aws:iam::111122223333:role/*"}}}"#,
    r#"{"Sid":"Var","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/App"},"Action":["kms:Describe*","kms:Get*","kms:List*"],"Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"${kms:CallerAccount}"}}}"#,
    r#"{"Sid":"DenyNotAction","Effect":"Deny","Principal":"*","NotAction":["kms:Decrypt","kms:Encrypt","kms:Describe*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/Admin"}}}"#,
    r#"{"Sid":"Spec","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"kms:KeySpec":"SYMMETRIC_DEFAULT","kms:KeyOrigin":"AWS_KMS"}}}"#,
    r#"{"Sid":"Broken","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":7}}}"#,
];

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 200, ..Default::default() })]

    /// The key rules ask one action of each class the engine cannot tell apart
    /// (`eval::ActionClasses`): for every caller, identity and key action, the answer taken
    /// from the class is the engine's own answer for that action.
    #[test]
    fn r17_r44_an_action_answered_by_its_class_answers_as_the_engine_does(
        picks in proptest::collection::vec(0..STATEMENTS.len() + CLASS_STATEMENTS.len(), 1..7),
    ) {
        let chosen: Vec<&str> = picks
            .iter()
            .filter_map(|&i| STATEMENTS.get(i).or_else(|| CLASS_STATEMENTS.get(i - STATEMENTS.len())).copied())
            .collect();
        let text = format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, chosen.join(","));
        let policy = context(&text);
        let facts = KeyFacts::from_arn(KEY).unwrap();
        let shared = KeyLintContext::new(&policy, facts.clone(), "k".into(), None);
        let own = KeyLintContext::new(&policy, facts.clone(), "k".into(), None);
        own.classes_off.set(true);
        same_reaches(&shared, &own, &callers().iter().collect::<Vec<_>>())?;
    }

    /// Every key rule finds the same with each action asked of the engine itself.
    #[test]
    fn answering_actions_by_class_changes_no_finding(
        picks in proptest::collection::vec(0..STATEMENTS.len() + CLASS_STATEMENTS.len(), 1..7),
    ) {
        let chosen: Vec<&str> = picks
            .iter()
            .filter_map(|&i| STATEMENTS.get(i).or_else(|| CLASS_STATEMENTS.get(i - STATEMENTS.len())).copied())
            .collect();
        let text = format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, chosen.join(","));
        let policy = context(&text);
        let facts = KeyFacts::from_arn(KEY).unwrap();
        let findings = |share: bool| {
            let cx = KeyLintContext::new(&policy, facts.clone(), "k".into(), None);
            cx.classes_off.set(!share);
            cx.owned_memo.always.set(true);
            let mut out = Vec::new();
            crate::lint::runner::check_key(&cx, &mut out);
            format!("{out:?}")
        };
        proptest::prop_assert_eq!(findings(true), findings(false));
    }
}

/// On the console's default key policy a role of the account asks the delegation's 41 key
/// actions in few classes: the engine runs once a class.
#[test]
fn r17_the_default_policy_puts_every_key_action_in_few_classes() {
    let text = r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},
        {"Sid":"Allow access for Key Administrators","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/Admin"},"Action":["kms:Create*","kms:Describe*","kms:Enable*","kms:List*","kms:Put*","kms:Update*","kms:Revoke*","kms:Disable*","kms:Get*","kms:Delete*","kms:TagResource","kms:UntagResource","kms:ScheduleKeyDeletion","kms:CancelKeyDeletion"],"Resource":"*"},
        {"Sid":"Allow use of the key","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/App"},"Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*"},
        {"Sid":"Allow attachment of persistent resources","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/App"},"Action":["kms:CreateGrant","kms:ListGrants","kms:RevokeGrant"],"Resource":"*","Condition":{"Bool":{"kms:GrantIsForAWSResource":"true"}}}
    ]}"#;
    let policy = context(text);
    let facts = KeyFacts::from_arn(KEY).unwrap();
    let cx = KeyLintContext::new(&policy, facts, "k".into(), None);
    let all = cx.allow_all_identity();
    let probe = cx.account_probe().unwrap();
    let asked: std::collections::BTreeSet<String> = key_actions()
        .map(|a| {
            let action = format!("kms:{}", a.name);
            cx.shared_action(&probe, &action, Some(&all))
                .map_or(action.clone(), str::to_owned)
        })
        .collect();
    // Grant-family, re-encryption and the condition's actions stand apart; the rest of the
    // 41 share a handful of representatives.
    assert!(key_actions().count() > 35);
    assert!(asked.len() * 3 <= key_actions().count(), "{asked:?}");
    // Classed by the statements that can concern it (the root delegation alone), the role
    // asks fewer still: the statements naming Admin and App cut no class of its actions, and
    // all but the three that stand alone (CreateGrant, ReEncryptFrom, ReEncryptTo) share one.
    let own: std::collections::BTreeSet<&str> = key_actions()
        .filter_map(|a| cx.owned_action(&probe, &format!("kms:{}", a.name), Some(&all)))
        .collect();
    assert_eq!(own.len(), 4, "{own:?} {asked:?}");
    assert!(own.len() < asked.len());
}

/// Statements that name several roles, sessions and users of a few accounts, and that read
/// the caller's name (`aws:PrincipalArn`, `aws:username`, a variable) or list callers by
/// `NotPrincipal`, for the caller-class properties below, beside [`STATEMENTS`].
const CALLER_STATEMENTS: &[&str] = &[
    r#"{"Sid":"Many","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:role/App1","arn:aws:iam::111122223333:role/App2","arn:aws:iam::444455556666:role/Ext1","arn:aws:iam::444455556666:role/Ext2","arn:aws:iam::111122223333:user/u7"]},"Action":["kms:Decrypt","kms:CreateGrant","kms:PutKeyPolicy"],"Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}"#,
    r#"{"Sid":"Some","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:role/App1","arn:aws:iam::444455556666:role/Ext1"]},"Action":"kms:*","Resource":"*"}"#,
    r#"{"Sid":"Path","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/team/App2"},"Action":["kms:Encrypt","kms:ScheduleKeyDeletion"],"Resource":"*"}"#,
    r#"{"Sid":"Sess","Effect":"Deny","Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/App2/alice"},"Action":"kms:Decrypt","Resource":"*"}"#,
    r#"{"Sid":"ByArn","Effect":"Deny","Principal":"*","Action":"kms:PutKeyPolicy","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/App1"}}}"#,
    r#"{"Sid":"ByName","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:Sign","Resource":"*","Condition":{"StringEquals":{"aws:username":"u7"}}}"#,
    r#"{"Sid":"ByVar","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:Verify","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}}"#,
    r#"{"Sid":"NotOne","Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:role/App1","111122223333"]},"Action":"kms:Encrypt","Resource":"*"}"#,
    r#"{"Sid":"Tagged","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:GenerateMac","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"a"}}}"#,
    r#"{"Sid":"UpdateOnly","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:role/App1","arn:aws:iam::111122223333:role/App2"]},"Action":"kms:UpdateAlias","Resource":"*"}"#,
];

/// Callers several of which only the names in [`CALLER_STATEMENTS`] tell apart.
fn named_callers() -> Vec<Caller> {
    let mut all = callers();
    for arn in [
        "arn:aws:iam::111122223333:role/App",
        "arn:aws:iam::111122223333:role/Admin",
        "arn:aws:iam::444455556666:role/Ext",
        "arn:aws:iam::444455556666:role/Ext1",
        "arn:aws:iam::444455556666:role/Ext2",
        "arn:aws:iam::111122223333:user/u1",
        "arn:aws:iam::111122223333:user/u8",
        "arn:aws:sts::111122223333:assumed-role/Ops/alice",
        "arn:aws:sts::111122223333:assumed-role/App1/carol",
    ] {
        all.push(Caller::parse(arn, None).unwrap());
    }
    all.push(
        Caller::parse(
            "arn:aws:sts::111122223333:assumed-role/App2/dave",
            Some("arn:aws:iam::111122223333:role/team/App2"),
        )
        .unwrap(),
    );
    all
}

/// A key policy of statements picked from [`STATEMENTS`], [`CLASS_STATEMENTS`] and
/// [`CALLER_STATEMENTS`].
fn caller_class_policy(picks: &[usize]) -> NamedPolicy {
    let chosen: Vec<&str> = picks
        .iter()
        .filter_map(|&i| {
            STATEMENTS
                .iter()
                .chain(CLASS_STATEMENTS)
                .chain(CALLER_STATEMENTS)
                .nth(i)
                .copied()
        })
        .collect();
    context(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        chosen.join(",")
    ))
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 150, ..Default::default() })]

    /// The key rules ask one caller of each signature the engine cannot tell apart
    /// (`eval::CallerSignature`, R24): for every caller, identity and key action, the answer
    /// taken from the signature's first caller is the engine's own answer for that caller.
    #[test]
    fn r24_a_caller_answered_by_its_signature_answers_as_the_engine_does(
        picks in proptest::collection::vec(0..STATEMENTS.len() + CLASS_STATEMENTS.len() + CALLER_STATEMENTS.len(), 1..8),
    ) {
        let policy = caller_class_policy(&picks);
        let facts = KeyFacts::from_arn(KEY).unwrap();
        let shared = KeyLintContext::new(&policy, facts.clone(), "k".into(), None);
        let own = KeyLintContext::new(&policy, facts, "k".into(), None);
        own.caller_classes_off.set(true);
        same_reaches(&shared, &own, &named_callers().iter().collect::<Vec<_>>())?;
    }

    /// Every key rule finds the same with each caller asked of the engine itself.
    #[test]
    fn r24_answering_callers_by_signature_changes_no_finding(
        picks in proptest::collection::vec(0..STATEMENTS.len() + CLASS_STATEMENTS.len() + CALLER_STATEMENTS.len(), 1..8),
    ) {
        let policy = caller_class_policy(&picks);
        let facts = KeyFacts::from_arn(KEY).unwrap();
        let findings = |share: bool| {
            let cx = KeyLintContext::new(&policy, facts.clone(), "k".into(), None);
            cx.caller_classes_off.set(!share);
            cx.owned_memo.always.set(true);
            let mut out = Vec::new();
            crate::lint::runner::check_key(&cx, &mut out);
            format!("{out:?}")
        };
        proptest::prop_assert_eq!(findings(true), findings(false));
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 150, ..Default::default() })]

    /// The answers kept by address for the callers a context owns (its parsed principals:
    /// `memo::OwnedMemo`, with each caller's actions classed by the statements that can
    /// concern it) are the engine's own: every such caller, asked every key action with no,
    /// empty and allow-everything identity policies, and every alias probe, in either order,
    /// answers as in a context with the action and caller classes off.
    #[test]
    fn r17_r24_an_owned_caller_answers_as_the_engine_does(
        picks in proptest::collection::vec(0..STATEMENTS.len() + CLASS_STATEMENTS.len() + CALLER_STATEMENTS.len(), 1..8),
        reverse in proptest::bool::ANY,
    ) {
        let policy = caller_class_policy(&picks);
        let facts = KeyFacts::from_arn(KEY).unwrap();
        let shared = KeyLintContext::new(&policy, facts.clone(), "k".into(), None);
        shared.owned_memo.always.set(true);
        let own = KeyLintContext::new(&policy, facts, "k".into(), None);
        own.classes_off.set(true);
        own.caller_classes_off.set(true);
        // Each caller as the context parses it from its ARN (the session given with its
        // role's path is not one the context parses).
        let mut owned: Vec<Rc<Caller>> = named_callers()
            .iter()
            .filter_map(|c| shared.caller(&c.arn).filter(|o| **o == *c))
            .collect();
        if reverse {
            owned.reverse();
        }
        for c in &owned {
            for a in ["kms:CreateAlias", "kms:UpdateAlias"] {
                proptest::prop_assert_eq!(
                    shared.alias_allowed(c, a),
                    own.alias_allowed(c, a),
                    "{} {}",
                    c.arn,
                    a
                );
            }
        }
        same_reaches(&shared, &own, &owned.iter().map(|c| &**c).collect::<Vec<_>>())?;
    }
}

/// Twenty roles of three accounts named in two statements: the key rules ask the engine
/// about one role per account and statement set, and a statement that reads the caller's
/// ARN stops all sharing.
#[test]
fn r24_roles_named_alike_share_one_representative() {
    let roles: Vec<String> = (0..20)
        .map(|i| {
            let account = ["111122223333", "444455556666", "777788889999"][i % 3];
            format!("arn:aws:iam::{account}:role/Service{i}")
        })
        .collect();
    let quoted = |r: &[String]| {
        r.iter()
            .map(|a| format!("\"{a}\""))
            .collect::<Vec<_>>()
            .join(",")
    };
    let (first, second) = roles.split_at(10);
    let text = |extra: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[
            {{"Sid":"Root","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111122223333:root"}},"Action":"kms:*","Resource":"*"}},
            {{"Sid":"Use","Effect":"Allow","Principal":{{"AWS":[{}]}},"Action":["kms:Decrypt","kms:CreateGrant"],"Resource":"*","Condition":{{"StringEquals":{{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}}}}},
            {{"Sid":"Other","Effect":"Allow","Principal":{{"AWS":[{}]}},"Action":"kms:Encrypt","Resource":"*"}}{extra}]}}"#,
            quoted(first),
            quoted(second)
        )
    };
    let representatives = |policy_text: &str| {
        let policy = context(policy_text);
        let cx = KeyLintContext::new(&policy, KeyFacts::from_arn(KEY).unwrap(), "k".into(), None);
        let reps: std::collections::BTreeSet<String> = roles
            .iter()
            .map(|r| {
                let c = cx.caller(r).unwrap();
                cx.shared_caller(&c, Some(&[]))
                    .map_or_else(|| c.arn.clone(), |rep| rep.arn.clone())
            })
            .collect();
        reps.len()
    };
    assert_eq!(representatives(&text("")), 6);
    let by_arn = r#",{"Sid":"ByArn","Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Service1"}}}"#;
    assert_eq!(representatives(&text(by_arn)), 20);
}

/// A caller's signature keeps only the statements that name it by name: a policy of 300 roles
/// beside 300 statements for anyone holds one statement per role, not 601 (the signatures
/// would otherwise grow as roles × statements).
#[test]
fn r24_a_signature_holds_the_statements_that_name_the_caller() {
    let mut statements = vec![
        r#"{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}"#.to_owned(),
    ];
    for i in 0..300 {
        statements.push(format!(r#"{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111122223333:role/R{i}"}},"Action":["kms:Decrypt","kms:PutKeyPolicy"],"Resource":"*"}}"#));
        statements.push(format!(r#"{{"Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*","Condition":{{"StringEquals":{{"kms:EncryptionContext:k{i}":"v"}}}}}}"#));
    }
    let policy = context(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    ));
    let cx = KeyLintContext::new(&policy, KeyFacts::from_arn(KEY).unwrap(), "k".into(), None);
    let caller = cx.caller("arn:aws:iam::111122223333:role/R7").unwrap();
    let built = cx.built(&cx.own.for_caller(&caller), Some(&[]));
    let sig =
        eval::CallerSignature::of(&built.inputs, &caller, &KeyLintContext::options(false).open);
    assert_eq!(sig.named_statements(), 1);
}

/// R1, R24: the principal index finds every entry that names a caller. On a policy of every
/// test statement and a few more (sessions of a role, a service, a federated user), each
/// caller's signature through the index is the one a scan of every entry gives: roles asked
/// as any session, sessions whose role path is known and assumed, federated users with and
/// without their federating user, services, users, accounts.
#[test]
fn r1_r24_the_principal_index_finds_every_entry_that_names_a_caller() {
    let extra = [
        r#"{"Sid":"Sessions","Effect":"Deny","Principal":{"AWS":["arn:aws:sts::111122223333:assumed-role/App1/s1","arn:aws:sts::444455556666:assumed-role/Ext1/x"]},"Action":"kms:Sign","Resource":"*"}"#,
        r#"{"Sid":"Fed","Effect":"Allow","Principal":{"AWS":["arn:aws:sts::111122223333:federated-user/u7","arn:aws:iam::111122223333:user/u8"]},"Action":"kms:Verify","Resource":"*"}"#,
        r#"{"Sid":"Svc","Effect":"Allow","Principal":{"Service":["logs.amazonaws.com","s3.amazonaws.com"]},"Action":"kms:Decrypt","Resource":"*"}"#,
    ];
    let chosen: Vec<&str> = STATEMENTS
        .iter()
        .chain(CLASS_STATEMENTS)
        .chain(CALLER_STATEMENTS)
        .chain(&extra)
        .copied()
        .collect();
    let policy = context(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        chosen.join(",")
    ));
    let inputs = InputsFor::standalone()
        .keys([Arc::new(KeyInputs {
            facts: KeyFacts::from_arn(KEY).unwrap(),
            policies: Some(vec![policy]),
            grants: Some(Vec::new()),
            policy_unknown: None,
        })])
        .build();
    let index = eval::PrincipalIndex::of(&inputs);
    let open = KeyLintContext::options(false).open;
    let mut callers = named_callers();
    let mut federated = Caller::parse("arn:aws:sts::111122223333:federated-user/u7", None).unwrap();
    federated.federating_user = Some("arn:aws:iam::111122223333:user/u8".into());
    callers.push(federated);
    callers.push(Caller::parse("s3.amazonaws.com", None).unwrap());
    callers.push(
        Caller::parse(
            "arn:aws:sts::111122223333:assumed-role/App1/s1",
            Some("arn:aws:iam::111122223333:role/App1"),
        )
        .unwrap(),
    );
    let mut named = 0;
    for c in &callers {
        let scanned = eval::CallerSignature::of(&inputs, c, &open);
        let indexed = eval::CallerSignature::of_indexed(&inputs, &index, c, &open);
        assert_eq!(indexed, scanned, "{}", c.arn);
        named += scanned.named_statements();
    }
    // The callers are named: the comparison is not of empty signatures.
    assert!(named >= 20, "{named}");
}

/// R110: every principal an `Allow` names is a candidate administrator once, however many
/// times and however it is written (an account id and its root ARN are one caller; a role
/// named in two statements is one caller, kept where it is first named), and callers that
/// differ only in their role ARN stay apart.
#[test]
fn r110_each_named_caller_is_one_candidate() {
    let text = r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"},
        {"Sid":"Id","Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::111122223333:role/Admin"]},"Action":"kms:Describe*","Resource":"*"},
        {"Sid":"Again","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:role/Admin","arn:aws:iam::111122223333:role/ops/Admin","arn:aws:sts::111122223333:assumed-role/Admin/s"]},"Action":"kms:PutKeyPolicy","Resource":"*"},
        {"Sid":"Other","Effect":"Allow","Principal":{"AWS":["444455556666","arn:aws:iam::444455556666:root"]},"Action":"kms:Decrypt","Resource":"*"}
    ]}"#;
    let policy = context(text);
    let facts = KeyFacts::from_arn(KEY).unwrap();
    let cx = KeyLintContext::new(&policy, facts, "k".into(), None);
    let got: Vec<(&str, usize)> = cx
        .admin_analysis()
        .candidates
        .iter()
        .map(|c| (c.principal.as_str(), c.statement))
        .collect();
    assert_eq!(
        got,
        [
            ("arn:aws:iam::111122223333:root", 0),
            ("arn:aws:iam::111122223333:role/Admin", 1),
            // Another path: another role ARN, so another caller.
            ("arn:aws:iam::111122223333:role/ops/Admin", 2),
            // One session of the role, not the role: another caller.
            ("arn:aws:sts::111122223333:assumed-role/Admin/s", 2),
            ("444455556666", 3),
        ]
    );
}

/// R110, R116: an administrator whose path holds only under a condition is settled from the
/// owner's side once per key policy. Lockout settles every candidate and keeps the answer on
/// it; the Deny trap then reads it and finds what it finds on a context of its own.
#[test]
fn r116_owner_side_answers_are_settled_once_per_key() {
    let text = r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"Admins","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:role/KeyAdmin","arn:aws:iam::111122223333:role/Break-Glass"]},"Action":"kms:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}},
        {"Sid":"ViaOnly","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/App"},"Action":"kms:*","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}},
        {"Sid":"NoPut","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:role/Break-Glass"},"Action":"kms:PutKeyPolicy","Resource":"*"}
    ]}"#;
    let policy = context(text);
    let facts = || KeyFacts::from_arn(KEY).unwrap();
    let cx = KeyLintContext::new(&policy, facts(), "k".into(), None);
    let mut lockout = Vec::new();
    crate::lint::lockout::check(&cx, &mut lockout);
    let settled: Vec<(&str, Option<bool>)> = cx
        .admin_analysis()
        .admins()
        .map(|c| {
            (
                c.principal.as_str(),
                c.owner_keeps.get().map(|(keeps, _)| keeps),
            )
        })
        .collect();
    // KeyAdmin keeps its path (an administrator can sign in with MFA); Break-Glass is denied
    // and App reaches it only through a service, so neither is asked.
    assert_eq!(
        settled,
        [("arn:aws:iam::111122223333:role/KeyAdmin", Some(true))]
    );
    let warned: Vec<&str> = lockout.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(
        warned,
        [
            "only `arn:aws:iam::111122223333:role/KeyAdmin` can call kms:PutKeyPolicy: if it is deleted, the key cannot be managed"
        ]
    );
    let mut after = Vec::new();
    crate::lint::deny_trap::check(&cx, &mut after);
    let alone = KeyLintContext::new(&policy, facts(), "k".into(), None);
    let mut fresh = Vec::new();
    crate::lint::deny_trap::check(&alone, &mut fresh);
    let messages =
        |v: &[crate::lint::Finding]| v.iter().map(|f| f.message.clone()).collect::<Vec<_>>();
    assert_eq!(messages(&after), messages(&fresh));
}

/// R110, R116: a rule that reads the candidates another rule settled from the owner's side is
/// charged the work they cost, so its model's budget runs out where it would have had it
/// settled them itself. Here the Deny trap, after lockout, has just enough budget left to
/// leave `role/X` (named by `aws:PrincipalArn`) undetermined, as it does alone: charged
/// nothing, it would settle `role/X` and report a trap lockout does not see.
#[test]
fn r116_owner_side_budget_is_charged_for_shared_answers() {
    let pad: Vec<String> = (0..600)
        .map(|i| format!(r#""aws:ResourceTag/t{i}":"v""#))
        .collect();
    let text = format!(
        r#"{{"Version":"2012-10-17","Statement":[
        {{"Sid":"Root","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111122223333:root"}},"Action":"kms:*","Resource":"*"}},
        {{"Sid":"DenyPut","Effect":"Deny","Principal":"*","Action":"kms:PutKeyPolicy","Resource":"*","Condition":{{"ArnNotEquals":{{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/X"}}}}}},
        {{"Sid":"X","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111122223333:role/X"}},"Action":"kms:*","Resource":"*","Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}},
        {{"Sid":"XTls","Effect":"Deny","Principal":{{"AWS":"arn:aws:iam::111122223333:role/X"}},"Action":"kms:PutKeyPolicy","Resource":"*","Condition":{{"Bool":{{"aws:SecureTransport":"true"}}}}}},
        {{"Sid":"Pad","Effect":"Deny","Principal":{{"AWS":"arn:aws:iam::111122223333:role/Nobody"}},"Action":"kms:Decrypt","Resource":"*","Condition":{{"StringEquals":{{{}}}}}}}
    ]}}"#,
        pad.join(",")
    );
    let policy = context(&text);
    let facts = || KeyFacts::from_arn(KEY).unwrap();
    let codes = |v: &[crate::lint::Finding]| v.iter().map(|f| f.rule.code).collect::<Vec<_>>();
    // Lockout first, as a full run orders them; then the Deny trap on the same context.
    let cx = KeyLintContext::new(&policy, facts(), "k".into(), None);
    let mut together = Vec::new();
    crate::lint::lockout::check(&cx, &mut together);
    assert_eq!(codes(&together), ["KMS003"]);
    let settled = cx
        .admin_analysis()
        .admins()
        .filter_map(|c| c.owner_keeps.get())
        .count();
    assert!(
        settled > 0,
        "lockout settled no candidate from the owner's side"
    );
    crate::lint::deny_trap::check(&cx, &mut together);
    // The Deny trap alone, on a context of its own.
    let alone = KeyLintContext::new(&policy, facts(), "k".into(), None);
    let mut by_itself = Vec::new();
    crate::lint::deny_trap::check(&alone, &mut by_itself);
    assert!(by_itself.is_empty(), "{:?}", codes(&by_itself));
    assert_eq!(codes(&together), ["KMS003"]);
}
