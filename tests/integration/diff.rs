//! `kmsaudit diff` and the `[[guard]]` rules of `kmsaudit.toml` (issue 22).

use std::collections::BTreeSet;

use super::{fixture, run};

const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1111aaaa-11aa-11aa-11aa-111111111111";

fn json(args: &[&str]) -> (i32, serde_json::Value) {
    let (code, out, err) = run(args, None);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    (code, v)
}

/// (change, principal, action, key) of every row.
fn rows(v: &serde_json::Value) -> BTreeSet<(String, String, String, String)> {
    v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap().to_owned();
            (s("change"), s("principal"), s("action"), s("key"))
        })
        .collect()
}

fn set(items: &[(&str, &str, &str)]) -> BTreeSet<(String, String, String, String)> {
    items
        .iter()
        .map(|(c, p, a)| ((*c).into(), (*p).into(), (*a).into(), KEY.into()))
        .collect()
}

/// The external account's actions are added, at the statement that adds them; the new grant
/// adds the grantee's operations (its IAM is not in the plan, so it is taken as none: before
/// the grant the role had no access); the unchanged key has no row.
#[test]
fn a_plan_diff_lists_the_added_account_and_the_grantee_and_nothing_for_unchanged_keys() {
    let plan = fixture("diff/plan.json");
    let (code, v) = json(&["diff", plan.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0);
    let want = set(&[
        ("added", "account:444455556666", "kms:Decrypt"),
        ("added", "account:444455556666", "kms:DescribeKey"),
        ("added", "arn:aws:iam::444455556666:root", "kms:Decrypt"),
        ("added", "arn:aws:iam::444455556666:root", "kms:DescribeKey"),
        (
            "added",
            "arn:aws:iam::111122223333:role/batch",
            "kms:Decrypt",
        ),
        (
            "added",
            "arn:aws:iam::111122223333:role/batch",
            "kms:GenerateDataKey",
        ),
    ]);
    assert_eq!(rows(&v), want);
    let text = v.to_string();
    assert!(text.contains("policy#PartnerDecrypt"), "{text}");
    assert!(text.contains("grant aws_kms_grant.batch"), "{text}");
    // Added first.
    assert_eq!(v["changes"][0]["change"], "added");
}

/// A plan is read once for both worlds, by the input reader: a plan that cannot be read is
/// refused with the reader's finding at its line and column, and an input that is not a plan
/// with what it reads as.
#[test]
fn a_plan_that_cannot_be_read_is_refused_at_its_line_and_column() {
    let dir = std::env::temp_dir().join(format!("kmsaudit-diff-broken-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let broken = dir.join("plan.json");
    std::fs::write(
        &broken,
        "{\"format_version\": \"1.2\",\n \"resource_changes\": [\n  {\"address\": \"aws_kms_key.a\",}\n ]}\n",
    )
    .unwrap();
    let (code, _out, err) = run(&["diff", broken.to_str().unwrap()], None);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("plan.json:3:"), "{err}");
    assert!(err.contains("KMS031"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
    let policy = fixture("diff/proposed-policy.json");
    let (code, _out, err) = run(&["diff", policy.to_str().unwrap()], None);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("is not a Terraform plan kmsaudit can diff: it reads as a policy document"),
        "{err}"
    );
    assert!(err.contains("`--before` and `--after`"), "{err}");
    // A YAML template is read as a template, not refused as broken JSON.
    let template = fixture("cloudformation/key-and-roles.yaml");
    let (code, _out, err) = run(&["diff", template.to_str().unwrap()], None);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("it reads as a CloudFormation template"),
        "{err}"
    );
}

#[test]
fn fail_on_new_access_exits_1_when_access_is_added_and_0_when_not() {
    let plan = fixture("diff/plan.json");
    let (code, _, _) = run(
        &["diff", plan.to_str().unwrap(), "--fail-on-new-access"],
        None,
    );
    assert_eq!(code, 1);
    let same = fixture("diff/get-key-policy.json");
    let key = fixture("diff/describe-key.json");
    let (code, out, _) = run(
        &[
            "diff",
            "--before",
            same.to_str().unwrap(),
            key.to_str().unwrap(),
            "--after",
            same.to_str().unwrap(),
            key.to_str().unwrap(),
            "--fail-on-new-access",
        ],
        None,
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("access diff: 0 added, 0 removed, 0 changed"),
        "{out}"
    );
}

/// The same change through `--before/--after`: a `get-key-policy` output against a proposed
/// policy file, each with the key's `describe-key`.
#[test]
fn before_and_after_inputs_give_the_added_rows_of_a_proposed_policy() {
    let (old, new, key) = (
        fixture("diff/get-key-policy.json"),
        fixture("diff/proposed-policy.json"),
        fixture("diff/describe-key.json"),
    );
    let (_, v) = json(&[
        "diff",
        "--before",
        old.to_str().unwrap(),
        key.to_str().unwrap(),
        "--after",
        new.to_str().unwrap(),
        key.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let want = set(&[
        ("added", "account:444455556666", "kms:Decrypt"),
        ("added", "account:444455556666", "kms:DescribeKey"),
        ("added", "arn:aws:iam::444455556666:root", "kms:Decrypt"),
        ("added", "arn:aws:iam::444455556666:root", "kms:DescribeKey"),
    ]);
    assert_eq!(rows(&v), want);
}

#[test]
fn markdown_and_github_name_each_added_row() {
    let plan = fixture("diff/plan.json");
    let p = plan.to_str().unwrap();
    let (_, md, _) = run(&["diff", p, "--format", "markdown"], None);
    assert!(
        md.starts_with("### KMS access changes: 6 added, 0 removed, 0 changed"),
        "{md}"
    );
    assert!(
        md.contains("| added | `arn:aws:iam::444455556666:root` | `kms:Decrypt` |"),
        "{md}"
    );
    assert!(md.contains("<details><summary>Paths</summary>"), "{md}");
    let (_, gh, _) = run(&["diff", p, "--format", "github"], None);
    let lines: Vec<&str> = gh.lines().collect();
    assert_eq!(lines.len(), 6, "{gh}");
    // Each at the line of the statement or grant that adds it.
    assert_eq!(
        lines.iter().filter(|l| l.contains("line=38")).count(),
        4,
        "{gh}"
    );
    assert_eq!(
        lines.iter().filter(|l| l.contains("line=108")).count(),
        2,
        "{gh}"
    );
}

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("schemas/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

#[test]
fn sarif_of_a_diff_and_of_a_guard_violation_validates() {
    let v = validator();
    let plan = fixture("diff/plan.json");
    let p = plan.to_str().unwrap();
    let (_, out, _) = run(&["diff", p, "--format", "sarif"], None);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v.is_valid(&doc), "{out}");
    assert_eq!(doc["runs"][0]["results"].as_array().unwrap().len(), 6);
    let cfg = fixture("diff/only.toml");
    let (_, out, _) = run(
        &[
            "check",
            "--config",
            cfg.to_str().unwrap(),
            "--select",
            "KMS080",
            "--format",
            "sarif",
            p,
        ],
        None,
    );
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v.is_valid(&doc), "{out}");
    assert!(out.contains("KMS080"), "{out}");
}

/// KMS080 findings of a guard on a plan: (line, principal) pairs and whether each "may" violate.
fn guard_findings(config: &str, plan: &str) -> Vec<(usize, String, bool)> {
    let cfg = fixture(config);
    let plan = fixture(plan);
    let (_, out, err) = run(
        &[
            "check",
            "--config",
            cfg.to_str().unwrap(),
            "--select",
            "KMS080",
            "--format",
            "json",
            plan.to_str().unwrap(),
        ],
        None,
    );
    let v: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    let mut got: Vec<(usize, String, bool)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let m = f["message"].as_str().unwrap();
            (
                f["line"].as_u64().unwrap() as usize,
                m.split(' ').next().unwrap().to_owned(),
                m.contains(" may violate "),
            )
        })
        .collect();
    got.sort();
    got.dedup();
    got
}

#[test]
fn the_only_guard_names_everyone_else_by_any_path_and_keeps_a_compliant_key() {
    let got = guard_findings("diff/only.toml", "diff/plan.json");
    let who: BTreeSet<&str> = got.iter().map(|(_, p, _)| p.as_str()).collect();
    assert_eq!(
        who,
        [
            "account:111122223333",
            "account:444455556666",
            "arn:aws:iam::111122223333:role/batch",
            "arn:aws:iam::111122223333:root",
            "arn:aws:iam::444455556666:root",
        ]
        .into_iter()
        .collect()
    );
    // The grantee at the grant, the partner at its statement; the account class only "may".
    assert!(got.contains(&(108, "arn:aws:iam::111122223333:role/batch".into(), false)));
    assert!(got.contains(&(38, "arn:aws:iam::444455556666:root".into(), false)));
    assert!(
        got.iter()
            .filter(|(_, p, _)| p == "account:111122223333")
            .all(|(_, _, may)| *may)
    );
    assert_eq!(
        guard_findings("diff/only.toml", "diff/plan-keeps.json"),
        vec![]
    );
}

/// `only` names principals by Terraform address as `can --principal` resolves it: two roles
/// whose addresses end in `app` (one in a module, in another path and account) are told
/// apart, and only the addressed one is exempt.
#[test]
fn only_by_address_exempts_exactly_the_addressed_role() {
    const APP: &str = "arn:aws:iam::111122223333:role/app";
    const LEGACY: &str = "arn:aws:iam::444455556666:role/legacy/app";
    let who = |config: &str| -> BTreeSet<String> {
        guard_findings(config, "diff/plan-two-apps.json")
            .into_iter()
            .map(|(_, p, _)| p)
            .filter(|p| p == APP || p == LEGACY)
            .collect()
    };
    assert_eq!(
        who("diff/only-by-address.toml"),
        [LEGACY.to_owned()].into_iter().collect()
    );
    assert_eq!(
        who("diff/only-by-module-address.toml"),
        [APP.to_owned()].into_iter().collect()
    );
}

#[test]
fn the_organisation_guard_reports_the_other_account_as_may_violate_without_its_tree() {
    let got = guard_findings("diff/outside-org.toml", "diff/plan.json");
    let who: BTreeSet<&str> = got.iter().map(|(_, p, _)| p.as_str()).collect();
    assert_eq!(
        who,
        ["account:444455556666", "arn:aws:iam::444455556666:root"]
            .into_iter()
            .collect()
    );
    assert!(got.iter().all(|(_, _, may)| *may));
    assert_eq!(
        guard_findings("diff/outside-org.toml", "diff/plan-keeps.json"),
        vec![]
    );
}

#[test]
fn the_require_guard_is_kept_by_a_key_policy_that_names_the_administrator() {
    // KeyAdmin is named for kms:PutKeyPolicy in both keys' policies; its own IAM policies are
    // not in the plan, which is read as none (the one assumption every command makes), so no
    // IAM Deny takes the access away: the guard holds.
    let got = guard_findings("diff/require.toml", "diff/plan.json");
    assert_eq!(got, vec![]);
}

#[test]
fn the_require_guard_breaks_on_keys_the_administrator_cannot_manage() {
    // SecurityAdmin is named in no key policy and its IAM is not given (taken as none): no
    // key keeps it as an administrator, so each of the two keys violates the guard, for sure.
    let got = guard_findings("diff/require-gone.toml", "diff/plan.json");
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|(_, _, may)| !*may), "{got:?}");
}

#[test]
fn an_unknown_key_in_a_guard_is_kms060() {
    let cfg = fixture("diff/typo.toml");
    let plan = fixture("diff/plan.json");
    let (code, out, _) = run(
        &[
            "check",
            "--config",
            cfg.to_str().unwrap(),
            "--format",
            "concise",
            plan.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, 2);
    assert!(
        out.contains("typo.toml:5:1: KMS060 invalid configuration: unknown field `onyl`"),
        "{out}"
    );
}

mod property {
    use std::collections::{BTreeMap, BTreeSet};

    use kmsaudit::diff::{ChangeKind, changed_worlds, compare, worlds};
    use kmsaudit::graph::{AccessGraph, Extras, Paths, Row};
    use kmsaudit::input::{self, InputName, InputOptions};
    use kmsaudit::inventory::Inventory;
    use kmsaudit::source::SourceMap;
    use proptest::prelude::*;
    use serde_json::json;

    const KEYS: [&str; 2] = [
        "arn:aws:kms:us-east-1:111122223333:key/1111aaaa-11aa-11aa-11aa-111111111111",
        "arn:aws:kms:us-east-1:111122223333:key/2222bbbb-22bb-22bb-22bb-222222222222",
    ];
    const PRINCIPALS: [&str; 4] = [
        "arn:aws:iam::111122223333:role/app",
        "arn:aws:iam::111122223333:role/batch",
        "arn:aws:iam::444455556666:root",
        "arn:aws:iam::111122223333:root",
    ];
    const ACTIONS: [&str; 4] = [
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:CreateGrant",
        "kms:PutKeyPolicy",
    ];

    /// A statement: which principal, which actions, Allow or Deny, maybe a condition.
    /// The principal is one of the pool or `*`, sometimes as `NotPrincipal`.
    fn statement() -> impl Strategy<Value = serde_json::Value> {
        (
            0..=PRINCIPALS.len(),
            prop::collection::btree_set(0..ACTIONS.len(), 1..3),
            any::<bool>(),
            any::<bool>(),
            0..5usize,
        )
            .prop_map(|(p, acts, allow, cond, not)| {
                let who = PRINCIPALS.get(p).copied().unwrap_or("*");
                let mut st = json!({
                    "Effect": if allow { "Allow" } else { "Deny" },
                    "Action": acts.iter().map(|a| ACTIONS[*a]).collect::<Vec<_>>(),
                    "Resource": "*",
                });
                let clause = if not == 0 {
                    "NotPrincipal"
                } else {
                    "Principal"
                };
                st[clause] = json!({"AWS": who});
                if cond {
                    st["Condition"] =
                        json!({"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}});
                }
                st
            })
    }

    /// An identity or trust statement of a role: KMS actions on one key or every key, or
    /// `sts:AssumeRole` / `iam:PutRolePolicy` on the other role.
    fn role_statement() -> impl Strategy<Value = serde_json::Value> {
        (
            0..4usize,
            prop::collection::btree_set(0..ACTIONS.len(), 1..3),
            any::<bool>(),
        )
            .prop_map(|(what, acts, allow)| {
                let effect = if allow { "Allow" } else { "Deny" };
                match what {
                    0 | 1 => json!({"Effect": effect,
                        "Action": acts.iter().map(|a| ACTIONS[*a]).collect::<Vec<_>>(),
                        "Resource": if what == 0 { json!("*") } else { json!(KEYS[0]) }}),
                    2 => json!({"Effect": effect, "Action": "sts:AssumeRole",
                        "Resource": "arn:aws:iam::111122223333:role/*"}),
                    _ => json!({"Effect": effect, "Action": "iam:PutRolePolicy",
                        "Resource": "arn:aws:iam::111122223333:role/batch"}),
                }
            })
    }

    /// A grant: key, grantee, operations.
    fn grant() -> impl Strategy<Value = (usize, usize, Vec<&'static str>)> {
        (
            0..KEYS.len(),
            0..PRINCIPALS.len(),
            prop::sample::subsequence(vec!["Decrypt", "Encrypt", "CreateGrant"], 1..3),
        )
    }

    /// A whole world: each key's policy statements, its grants, and each role's identity
    /// statements and who its trust policy lets assume it (a principal of the pool).
    #[derive(Debug, Clone)]
    struct Spec {
        keys: Vec<Vec<serde_json::Value>>,
        grants: Vec<(usize, usize, Vec<&'static str>)>,
        identity: Vec<Vec<serde_json::Value>>,
        trust: Vec<usize>,
        /// How many of the roles exist (`batch` may exist in one world only).
        roles: usize,
    }

    fn spec() -> impl Strategy<Value = Spec> {
        (
            prop::collection::vec(prop::collection::vec(statement(), 0..4), KEYS.len()),
            prop::collection::vec(grant(), 0..3),
            prop::collection::vec(prop::collection::vec(role_statement(), 0..3), ROLES.len()),
            prop::collection::vec(0..PRINCIPALS.len(), ROLES.len()),
            1..=ROLES.len(),
        )
            .prop_map(|(keys, grants, identity, trust, roles)| Spec {
                keys,
                grants,
                identity,
                trust,
                roles,
            })
    }

    /// A world before and one after that differs from it in a few parts only: each key
    /// policy, the grants, each role's identity policy and each trust policy is either kept
    /// or replaced (a key policy may instead gain a statement in front, so that every other
    /// statement's `#n` label shifts), and the second role may exist in one world only.
    fn before_after() -> impl Strategy<Value = (Spec, Spec)> {
        (
            spec(),
            spec(),
            prop::collection::vec(any::<bool>(), 8),
            prop::collection::vec(any::<bool>(), KEYS.len()),
        )
            .prop_map(|(b, new, keep, shift)| {
                let k = |i: usize| keep.get(i).copied().unwrap_or(true);
                let pick =
                    |i: usize, old: &Vec<serde_json::Value>, new: &Vec<serde_json::Value>| {
                        if k(i) {
                            old.clone()
                        } else if i < KEYS.len() && shift[i] {
                            new.iter().take(1).chain(old).cloned().collect()
                        } else {
                            new.clone()
                        }
                    };
                let a = Spec {
                    keys: (0..KEYS.len())
                        .map(|i| pick(i, &b.keys[i], &new.keys[i]))
                        .collect(),
                    grants: if k(2) {
                        b.grants.clone()
                    } else {
                        new.grants.clone()
                    },
                    identity: (0..ROLES.len())
                        .map(|i| pick(3 + i, &b.identity[i], &new.identity[i]))
                        .collect(),
                    trust: (0..ROLES.len())
                        .map(|i| if k(5 + i) { b.trust[i] } else { new.trust[i] })
                        .collect(),
                    roles: if k(7) { b.roles } else { new.roles },
                };
                (b, a)
            })
    }

    const ROLES: [&str; 2] = ["app", "batch"];

    fn load(inv: &mut Inventory, sources: &mut SourceMap, name: &str, v: &serde_json::Value) {
        let loaded = input::load(
            &InputName::Memory(name.to_owned(), v.to_string().into_bytes().into()),
            &InputOptions::default(),
            sources,
        );
        inv.add(name, loaded);
    }

    /// A world: each key's policy, every principal of the pool named by one fixed statement so
    /// that both worlds ask about the same principals.
    fn world(policies: &[Vec<serde_json::Value>]) -> Inventory {
        let mut inv = Inventory::new();
        let mut sources = SourceMap::new();
        keys_of(&mut inv, &mut sources, policies);
        inv
    }

    fn keys_of(inv: &mut Inventory, sources: &mut SourceMap, policies: &[Vec<serde_json::Value>]) {
        for (key, statements) in KEYS.iter().zip(policies) {
            let mut all = vec![json!({
                "Sid": "Names", "Effect": "Allow", "Principal": {"AWS": PRINCIPALS},
                "Action": "kms:ListResourceTags", "Resource": "*"
            })];
            all.extend(statements.iter().cloned());
            let doc = json!({"Version": "2012-10-17", "Statement": all});
            let id = key.rsplit('/').next().unwrap();
            let describe = json!({"KeyMetadata": {"AWSAccountId": "111122223333", "KeyId": id, "Arn": key,
                "KeyManager": "CUSTOMER", "KeyState": "Enabled", "KeyUsage": "ENCRYPT_DECRYPT",
                "KeySpec": "SYMMETRIC_DEFAULT", "Origin": "AWS_KMS"}});
            // A grant-less key policy tied to its key through a CloudFormation-free input:
            // `put-key-policy` input names the key.
            let put = json!({"KeyId": key, "PolicyName": "default", "Policy": doc.to_string()});
            for (n, v) in [("describe", describe), ("put", put)] {
                load(inv, sources, &format!("{id}-{n}.json"), &v);
            }
        }
    }

    /// A whole world: keys with their policies and grants, and the account's roles with their
    /// identity and trust policies (authorization details).
    fn full_world(spec: &Spec) -> Inventory {
        let mut inv = Inventory::new();
        let mut sources = SourceMap::new();
        keys_of(&mut inv, &mut sources, &spec.keys);
        let grants: Vec<serde_json::Value> = spec
            .grants
            .iter()
            .enumerate()
            .map(|(i, (k, p, ops))| {
                json!({"KeyId": KEYS[*k], "GrantId": format!("g{i}"),
                "Name": format!("grant-{i}"), "GranteePrincipal": PRINCIPALS[*p],
                "IssuingAccount": "arn:aws:iam::111122223333:root", "Operations": ops})
            })
            .collect();
        load(
            &mut inv,
            &mut sources,
            "grants.json",
            &json!({"Grants": grants}),
        );
        let roles: Vec<serde_json::Value> = ROLES
            .iter()
            .take(spec.roles)
            .enumerate()
            .map(|(i, name)| {
                let mut statements = spec.identity[i].clone();
                statements
                    .push(json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}));
                json!({"Path": "/", "RoleName": name, "RoleId": format!("AROA{i:017}"),
                    "Arn": format!("arn:aws:iam::111122223333:role/{name}"),
                    "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                        {"Effect": "Allow", "Principal": {"AWS": PRINCIPALS[spec.trust[i]]},
                         "Action": "sts:AssumeRole"}]},
                    "RolePolicyList": [{"PolicyName": "inline", "PolicyDocument":
                        {"Version": "2012-10-17", "Statement": statements}}],
                    "AttachedManagedPolicies": [], "Tags": []})
            })
            .collect();
        let details = json!({"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": roles,
            "Policies": [], "IsTruncated": false});
        load(&mut inv, &mut sources, "details.json", &details);
        inv
    }

    /// The changes of a diff, as comparable text.
    fn changes_text(old: &[Row], new: &[Row]) -> Vec<String> {
        compare(old, new).iter().map(|c| format!("{c:?}")).collect()
    }

    type Id = (String, String, String);

    fn who_can_rows(inv: &Inventory) -> BTreeMap<Id, Row> {
        let extras = Extras::default();
        let mut g = AccessGraph::build(inv, &extras);
        let mut out = BTreeMap::new();
        for key in KEYS {
            for action in kmsaudit::diff::key_actions() {
                for r in g.who_can(&action, key, Paths::All).unwrap() {
                    out.insert((r.key.clone(), r.action.clone(), r.principal.clone()), r);
                }
            }
        }
        out
    }

    /// Escalation through a changed role: `app` may assume `batch` in both worlds, and only
    /// `batch`'s own policy changes (it gains Decrypt on every key). `app`, unchanged itself,
    /// gains Decrypt through `batch`: the scoped diff asks about it and gives the whole
    /// computation's changes.
    #[test]
    fn a_principal_that_can_assume_a_changed_role_is_asked_about() {
        // Both keys delegate to the account's IAM.
        let delegate = json!({"Effect": "Allow", "Principal": {"AWS": PRINCIPALS[3]},
            "Action": "kms:*", "Resource": "*"});
        let keys = vec![vec![delegate]; KEYS.len()];
        let assume = json!({"Effect": "Allow", "Action": "sts:AssumeRole",
            "Resource": "arn:aws:iam::111122223333:role/*"});
        let before = Spec {
            keys,
            grants: Vec::new(),
            identity: vec![vec![assume.clone()], Vec::new()],
            trust: vec![3, 0],
            roles: 2,
        };
        let mut after = before.clone();
        after.identity[1] =
            vec![json!({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"})];
        let (b, a) = (full_world(&before), full_world(&after));
        let (old, new) = worlds(&b, &a, &Extras::default(), &[], Paths::All);
        let (sold, snew) = changed_worlds(&b, &a, &Extras::default(), &[], Paths::All);
        let whole = changes_text(&old.rows, &new.rows);
        assert!(
            whole
                .iter()
                .any(|c| c.contains("Added") && c.contains("role/app\"")),
            "{whole:#?}"
        );
        assert_eq!(whole, changes_text(&sold.rows, &snew.rows));
    }

    /// A class only one world asks about: the first key names another account only before,
    /// so `account:444455556666` is a class of the world before alone, and its rows on the
    /// second key (open to everyone, unchanged) are removed rows too. The scoped diff asks
    /// about it on every key, as the whole computation does.
    #[test]
    fn a_class_only_one_world_asks_about_is_asked_about_on_unchanged_keys() {
        let world = |first: Vec<serde_json::Value>| {
            let mut inv = Inventory::new();
            let mut sources = SourceMap::new();
            for (key, statements) in KEYS.iter().zip([
                first,
                vec![json!({"Effect": "Allow",
                "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"})],
            ]) {
                let doc = json!({"Version": "2012-10-17", "Statement": statements});
                let put = json!({"KeyId": key, "PolicyName": "default", "Policy": doc.to_string()});
                let id = key.rsplit('/').next().unwrap();
                load(&mut inv, &mut sources, &format!("{id}-put.json"), &put);
            }
            inv
        };
        let partner = json!({"Effect": "Allow", "Principal": {"AWS": PRINCIPALS[2]},
            "Action": "kms:Encrypt", "Resource": "*"});
        let (b, a) = (world(vec![partner]), world(Vec::new()));
        let (old, new) = worlds(&b, &a, &Extras::default(), &[], Paths::All);
        let (sold, snew) = changed_worlds(&b, &a, &Extras::default(), &[], Paths::All);
        let whole = changes_text(&old.rows, &new.rows);
        assert!(
            whole.iter().any(|c| c.contains("Removed")
                && c.contains("account:444455556666")
                && c.contains(KEYS[1])),
            "{whole:#?}"
        );
        assert_eq!(whole, changes_text(&sold.rows, &snew.rows));
    }

    /// Both roles with these identity statements and trust policies (indices into
    /// `PRINCIPALS`), on two keys whose policies delegate everything to the account.
    fn delegating(identity: Vec<Vec<serde_json::Value>>, trust: Vec<usize>) -> Spec {
        let delegate = json!({"Effect": "Allow", "Principal": {"AWS": PRINCIPALS[3]},
            "Action": "kms:*", "Resource": "*"});
        Spec {
            keys: vec![vec![delegate]; KEYS.len()],
            grants: Vec::new(),
            identity,
            trust,
            roles: 2,
        }
    }

    /// `app`'s identity policy gains Encrypt on the first key only, and `batch` may assume
    /// `app`: the scoped diff asks both about that key and action alone (the cells the
    /// changed statement can touch) and gives the whole computation's changes.
    #[test]
    fn an_identity_statement_on_one_key_changes_its_cells_for_it_and_who_reaches_it() {
        let before = delegating(
            vec![
                vec![json!({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"})],
                vec![json!({"Effect": "Allow", "Action": "sts:AssumeRole",
                    "Resource": "arn:aws:iam::111122223333:role/*"})],
            ],
            vec![1, 3],
        );
        let mut after = before.clone();
        after.identity[0]
            .push(json!({"Effect": "Allow", "Action": "kms:Encrypt", "Resource": KEYS[0]}));
        scoped_equals_whole(&before, &after, "Added", "role/app");
        scoped_equals_whole(&before, &after, "Added", "role/batch");
    }

    /// A changed identity statement the scope cannot bound (here `sts:AssumeRole`, a move)
    /// asks its principal about every cell: `app` gains `batch`'s Decrypt on every key.
    #[test]
    fn an_identity_statement_that_may_allow_a_move_asks_every_cell() {
        let delegate = json!({"Effect": "Allow", "Principal": {"AWS": PRINCIPALS[3]},
            "Action": "kms:*", "Resource": "*"});
        let mut before = plain(vec![delegate.clone()]);
        before.keys[1] = vec![delegate];
        before.identity[1] =
            vec![json!({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"})];
        let mut after = before.clone();
        after.identity[0] = vec![json!({"Effect": "Allow", "Action": "sts:AssumeRole",
            "Resource": "arn:aws:iam::111122223333:role/batch"})];
        scoped_equals_whole(&before, &after, "Added", "role/app");
    }

    /// `app`'s trust policy starts naming `batch`, whose IAM allows assuming it: `batch`
    /// gains `app`'s access on every key, though neither role's own policies change.
    #[test]
    fn a_trust_change_gives_the_new_assumer_the_role_access() {
        let before = delegating(
            vec![
                vec![json!({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"})],
                vec![json!({"Effect": "Allow", "Action": "sts:AssumeRole",
                    "Resource": "arn:aws:iam::111122223333:role/*"})],
            ],
            vec![2, 2],
        );
        let mut after = before.clone();
        after.trust[0] = 1;
        scoped_equals_whole(&before, &after, "Added", "role/batch");
    }

    /// `batch`'s trust policy starts naming `app` (so `app` is asked everywhere: it can now
    /// reach `batch`), while `app` gains Decrypt on the first key and `batch` could already
    /// assume `app`. `batch` gains Decrypt through `app`: who reaches a limited principal is
    /// worked out before the principals asked everywhere are left out.
    #[test]
    fn a_role_reaching_a_limited_principal_through_a_trust_change_gets_its_cells() {
        let before = delegating(
            vec![
                vec![json!({"Effect": "Allow", "Action": "sts:AssumeRole",
                    "Resource": "arn:aws:iam::111122223333:role/batch"})],
                vec![json!({"Effect": "Allow", "Action": "sts:AssumeRole",
                    "Resource": "arn:aws:iam::111122223333:role/app"})],
            ],
            vec![1, 2],
        );
        let mut after = before.clone();
        after.trust[1] = 0;
        after.identity[0]
            .push(json!({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEYS[0]}));
        scoped_equals_whole(&before, &after, "Added", "role/batch");
    }

    /// The whole computation's and the scoped diff's changes from `before` to `after`, after
    /// checking that the whole one has a change of `kind` for `principal` (an id's end).
    fn scoped_equals_whole(before: &Spec, after: &Spec, kind: &str, principal: &str) {
        let (b, a) = (full_world(before), full_world(after));
        let (old, new) = worlds(&b, &a, &Extras::default(), &[], Paths::All);
        let (sold, snew) = changed_worlds(&b, &a, &Extras::default(), &[], Paths::All);
        let whole = changes_text(&old.rows, &new.rows);
        let wanted = format!("{principal}\"");
        assert!(
            whole
                .iter()
                .any(|c| c.contains(kind) && c.contains(&wanted) && c.contains(KEYS[0])),
            "{whole:#?}"
        );
        assert_eq!(whole, changes_text(&sold.rows, &snew.rows));
    }

    fn allow(who: serde_json::Value, action: &str) -> serde_json::Value {
        json!({"Effect": "Allow", "Principal": {"AWS": who}, "Action": action, "Resource": "*"})
    }

    /// A world of both roles, no grant, no moves: `key0` holds `statements`.
    fn plain(statements: Vec<serde_json::Value>) -> Spec {
        Spec {
            keys: vec![statements, Vec::new()],
            grants: Vec::new(),
            identity: vec![Vec::new(), Vec::new()],
            trust: vec![3, 3],
            roles: 2,
        }
    }

    /// A statement naming `batch` is put in front of one naming `app`: `app`'s statement is
    /// textually the same but its `#n` label shifts, so `app`'s row changes its path. The
    /// key's statements are compared by label and text, so `app` is asked about.
    #[test]
    fn a_statement_whose_label_shifts_concerns_its_principal() {
        let app = allow(json!(PRINCIPALS[0]), "kms:Decrypt");
        let before = plain(vec![app.clone()]);
        let after = plain(vec![allow(json!(PRINCIPALS[1]), "kms:Encrypt"), app]);
        scoped_equals_whole(&before, &after, "Changed", "role/app");
    }

    /// A statement naming the account (`…:root`) concerns every principal of the account:
    /// `app`, whose own IAM allows Decrypt, gains it.
    #[test]
    fn an_account_entry_concerns_every_principal_of_the_account() {
        let mut before = plain(Vec::new());
        before.identity[0] =
            vec![json!({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"})];
        let mut after = before.clone();
        after.keys[0] = vec![allow(json!(PRINCIPALS[3]), "kms:Decrypt")];
        scoped_equals_whole(&before, &after, "Added", "role/app");
    }

    /// A `NotPrincipal` naming `batch` concerns everyone else: `app` loses Decrypt.
    #[test]
    fn a_not_principal_statement_concerns_everyone_it_does_not_name() {
        let app = allow(json!(PRINCIPALS[0]), "kms:Decrypt");
        let before = plain(vec![app.clone()]);
        let deny = json!({"Effect": "Deny", "NotPrincipal": {"AWS": PRINCIPALS[1]},
            "Action": "kms:Decrypt", "Resource": "*"});
        let after = plain(vec![app, deny]);
        scoped_equals_whole(&before, &after, "Removed", "role/app");
    }

    /// A statement with `*` concerns every principal and class.
    #[test]
    fn a_wildcard_statement_concerns_everyone() {
        let before = plain(Vec::new());
        let after = plain(vec![allow(json!("*"), "kms:Encrypt")]);
        scoped_equals_whole(&before, &after, "Added", "role/app");
    }

    /// A new grant concerns its grantee: `batch` gains Decrypt through it (beside a grant to
    /// `app` both worlds hold).
    #[test]
    fn a_new_grant_concerns_its_grantee() {
        let mut before = plain(Vec::new());
        before.grants = vec![(0, 0, vec!["Encrypt"])];
        let mut after = before.clone();
        after.grants.push((0, 1, vec!["Decrypt"]));
        scoped_equals_whole(&before, &after, "Added", "role/batch");
    }

    /// `app` may assume `batch`; the key policy starts naming `batch` only. `app` gains
    /// Decrypt through `batch`: whoever can reach a concerned principal is asked too.
    #[test]
    fn a_principal_that_can_assume_a_concerned_role_is_asked_about_on_the_key() {
        let mut before = plain(Vec::new());
        before.identity[0] = vec![json!({"Effect": "Allow", "Action": "sts:AssumeRole",
            "Resource": "arn:aws:iam::111122223333:role/*"})];
        before.trust = vec![3, 0];
        let mut after = before.clone();
        after.keys[0] = vec![allow(json!(PRINCIPALS[1]), "kms:Decrypt")];
        scoped_equals_whole(&before, &after, "Added", "role/app");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// Soundness of `diff`: its added and removed rows are exactly the difference of the
        /// who-can rows computed on each world alone, and every row whose decision or
        /// conditions differ is a changed row.
        #[test]
        fn diff_rows_are_the_difference_of_who_can_rows(
            before in prop::collection::vec(prop::collection::vec(statement(), 0..4), 2),
            after in prop::collection::vec(prop::collection::vec(statement(), 0..4), 2),
        ) {
            let (b, a) = (world(&before), world(&after));
            let (old, new) = worlds(&b, &a, &Extras::default(), &[], Paths::All);
            let changes = compare(&old.rows, &new.rows);
            let ids = |k: ChangeKind| -> BTreeSet<Id> {
                changes.iter().filter(|c| c.kind == k).filter_map(|c| c.row())
                    .map(|r| (r.key.clone(), r.action.clone(), r.principal.clone())).collect()
            };
            let (wb, wa) = (who_can_rows(&b), who_can_rows(&a));
            let kb: BTreeSet<Id> = wb.keys().cloned().collect();
            let ka: BTreeSet<Id> = wa.keys().cloned().collect();
            prop_assert_eq!(ids(ChangeKind::Added), ka.difference(&kb).cloned().collect::<BTreeSet<_>>());
            prop_assert_eq!(ids(ChangeKind::Removed), kb.difference(&ka).cloned().collect::<BTreeSet<_>>());
            let changed = ids(ChangeKind::Changed);
            for id in ka.intersection(&kb) {
                let (x, y) = (&wb[id], &wa[id]);
                if x.decision != y.decision || x.conditions != y.conditions {
                    prop_assert!(changed.contains(id), "{:?} changed but not reported", id);
                }
            }
        }

        /// The same on whole worlds (keys, grants, roles with identity and trust policies)
        /// where the world after changes a few of their parts, through the scoped diff `diff`
        /// runs.
        #[test]
        fn scoped_diff_rows_are_the_difference_of_who_can_rows((before, after) in before_after()) {
            let (b, a) = (full_world(&before), full_world(&after));
            let (old, new) = changed_worlds(&b, &a, &Extras::default(), &[], Paths::All);
            let changes = compare(&old.rows, &new.rows);
            let ids = |k: ChangeKind| -> BTreeSet<Id> {
                changes.iter().filter(|c| c.kind == k).filter_map(|c| c.row())
                    .map(|r| (r.key.clone(), r.action.clone(), r.principal.clone())).collect()
            };
            let (wb, wa) = (who_can_rows(&b), who_can_rows(&a));
            let kb: BTreeSet<Id> = wb.keys().cloned().collect();
            let ka: BTreeSet<Id> = wa.keys().cloned().collect();
            prop_assert_eq!(ids(ChangeKind::Added), ka.difference(&kb).cloned().collect::<BTreeSet<_>>());
            prop_assert_eq!(ids(ChangeKind::Removed), kb.difference(&ka).cloned().collect::<BTreeSet<_>>());
            let changed = ids(ChangeKind::Changed);
            for id in ka.intersection(&kb) {
                let (x, y) = (&wb[id], &wa[id]);
                if x.decision != y.decision || x.conditions != y.conditions {
                    prop_assert!(changed.contains(id), "{:?} changed but not reported", id);
                }
            }
        }

        /// The scoped diff (only the cells whose inputs differ) gives exactly the changes of
        /// the whole computation, with both paths settings.
        #[test]
        fn the_scoped_diff_equals_the_whole_computation((before, after) in before_after(), all in any::<bool>()) {
            let (b, a) = (full_world(&before), full_world(&after));
            let paths = if all { Paths::All } else { Paths::Direct };
            let (old, new) = worlds(&b, &a, &Extras::default(), &[], paths);
            let (sold, snew) = changed_worlds(&b, &a, &Extras::default(), &[], paths);
            prop_assert_eq!(changes_text(&old.rows, &new.rows), changes_text(&sold.rows, &snew.rows));
        }
    }
}

/// A principal a pull request writes reaches the diff's output escaped: no table cell, HTML
/// tag or workflow command of its own in the markdown comment, and no forged line in the
/// GitHub or human formats.
#[test]
fn a_hostile_principal_is_escaped_in_every_diff_format() {
    let mut policy: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("diff/proposed-policy.json")).unwrap(),
    )
    .unwrap();
    policy["Statement"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "Sid": "Hostile",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::444455556666:role/a|b<script>\n::error file=x::forged"},
            "Action": "kms:Decrypt",
            "Resource": "*"
        }));
    let dir = std::env::temp_dir().join(format!("kmsaudit-diff-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let after = dir.join("after.json");
    std::fs::write(&after, policy.to_string()).unwrap();
    let before = fixture("diff/get-key-policy.json");
    let key = fixture("diff/describe-key.json");
    for format in ["markdown", "github", "human", "sarif", "json"] {
        let (code, out, err) = run(
            &[
                "diff",
                "--before",
                before.to_str().unwrap(),
                key.to_str().unwrap(),
                "--after",
                after.to_str().unwrap(),
                key.to_str().unwrap(),
                "--format",
                format,
            ],
            None,
        );
        assert!(code <= 1, "{format}: {err}");
        assert!(out.contains("444455556666"), "{format}: {out}");
        for line in out.lines().chain(err.lines()) {
            assert!(
                !line.trim_start().starts_with("::error file=x"),
                "{format}: {line:?}"
            );
        }
        if format == "markdown" {
            assert!(!out.contains("<script>"), "{out}");
            assert!(!out.contains("a|b"), "{out}");
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
