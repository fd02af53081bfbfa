//! The library-level targets: every parser, loader, the lint pipeline and the evaluator,
//! called through the library's functions on mutated bytes (seeds from `fixtures/`, with
//! JSON-aware mutations and a growth mutation that makes the large shapes).
//!
//! `json`, `policy`, `raw`, `aws-cli`, `authz`, `terraform`, `cfn-json`, `cfn-yaml`, `check`
//! (every lint rule, the key-level rules included) and `eval` (arbitrary policies ×
//! arbitrary requests; the traced and untraced decisions must agree; and the soundness
//! property of `tests/support/soundness.rs`: an answer given with request keys or facts left
//! unset holds for every value they can take, with the fuzzed policy's statements added to
//! the generated key policy).

use crate::driver::Rng;
use crate::soundness;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kmsaudit::eval::{
    self, Caller, Decision, Inputs, KeyFacts, KeyInputs, NamedPolicy, Options, Request,
};
use kmsaudit::input::{self, InputKind, InputName, InputOptions};
use kmsaudit::inventory::Inventory;
use kmsaudit::lint::{self, LintContext};
use kmsaudit::policy::PolicyKind;
use kmsaudit::source::{SourceId, SourceMap};

pub const TARGETS: [&str; 10] = [
    "json",
    "policy",
    "raw",
    "aws-cli",
    "authz",
    "terraform",
    "cfn-json",
    "cfn-yaml",
    "check",
    "eval",
];

/// Tokens that matter to the readers and the engine.
const TOKENS: &[&str] = &[
    "\"*\"",
    "null",
    "[]",
    "{}",
    "true",
    "1e999",
    "-0",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"${aws:username}\"",
    "\"${*}\"",
    "\"arn:aws:iam::*:root\"",
    "\"arn:aws:iam::111122223333:root\"",
    "\"arn:aws:iam::111122223333:role/a/b\"",
    "\"kms:*\"",
    "\"kms:Decrypt\"",
    "\"Condition\"",
    "\"StringLike\"",
    "\"ForAllValues:StringEquals\"",
    "\"kms:ViaService\"",
    "\"kms:EncryptionContext:k\"",
    "\"NotPrincipal\"",
    "\"NotAction\"",
    "\"NotResource\"",
    "\"Deny\"",
    "\"2008-10-17\"",
    "\"after_unknown\"",
    "\"Fn::Sub\"",
    "!Ref ",
    "!GetAtt ",
    "%7B",
    "\"a*a*a*a*a*a*a*a*a*a*b\"",
    ",",
    ":",
    "\"",
    "\\",
];

thread_local! {
    /// What the soundness property did, and its counterexamples.
    pub static SOUNDNESS: std::cell::RefCell<(soundness::Tally, u64, Vec<String>)> =
        std::cell::RefCell::new((soundness::Tally::default(), 0, Vec::new()));
}

/// The soundness property on a scenario drawn from `rng`, the fuzzed policy's statements
/// added to its key policy.
fn soundness_check(bytes: &[u8], rng: &mut Rng) {
    let facts = rng.below(2) == 0;
    let mut s = soundness::Scenario::draw(rng, facts);
    let extra = std::str::from_utf8(bytes)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
        .and_then(|v| match v.get("Statement")? {
            serde_json::Value::Array(a) => Some(a.clone()),
            o @ serde_json::Value::Object(_) => Some(vec![o.clone()]),
            _ => None,
        });
    if let Some(extra) = extra {
        s.key_policy.extend(extra.into_iter().take(8));
    }
    let mut tally = soundness::Tally::default();
    let found = soundness::check(&s, &mut tally)
        .map(|v| v.to_string())
        .or_else(|| {
            soundness::check_grant(&s).map(|(part, without, with)| {
                format!("a grant on the key with another {part} gives {with:?} (without it: {without:?}): {s:?}")
            })
        });
    SOUNDNESS.with(|c| {
        let mut c = c.borrow_mut();
        c.0.questions += tally.questions;
        c.0.assignments += tally.assignments;
        c.0.decided += tally.decided;
        if let Some(f) = found {
            c.1 += 1;
            if c.2.len() < 3 {
                c.2.push(f);
            }
        }
    });
}

pub fn seeds_for(target: &str, all: &[(PathBuf, Vec<u8>)]) -> Vec<Vec<u8>> {
    let yaml = |p: &Path| {
        p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| ["yaml", "yml", "template"].contains(&e))
    };
    let v: Vec<Vec<u8>> = all
        .iter()
        .filter(|(p, _)| {
            let toml = p.extension().is_some_and(|e| e == "toml");
            match target {
                "cfn-yaml" => yaml(p),
                "config" => toml,
                _ => !yaml(p) && !toml,
            }
        })
        .map(|(_, b)| b.clone())
        .collect();
    if v.is_empty() {
        vec![b"{}".to_vec()]
    } else {
        v
    }
}

pub fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| ["json", "yaml", "yml", "template", "jsonl", "toml"].contains(&e))
        {
            if let Ok(b) = std::fs::read(&p) {
                if b.len() < 256 * 1024 {
                    out.push((p, b));
                }
            }
        }
    }
}

/// Inserts, after a `"Statement":[`, up to a few thousand statements or members that each
/// name a different principal, service or condition key: the shape that made cost grow
/// faster than the input (every key rule asking about every principal against every
/// statement; duplicate-key lookups over a large object).
pub fn grow(rng: &mut Rng, data: &mut Vec<u8>) {
    let Some(at) = data
        .windows(13)
        .position(|w| w == b"\"Statement\":[")
        .map(|i| i + 13)
    else {
        return;
    };
    let n = 1 + rng.below(3_000);
    let shape = rng.below(3);
    let mut text = String::new();
    for i in 0..n {
        let _ = match shape {
            0 => write!(
                text,
                r#"{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111122223333:role/r{i}"}},"Action":["kms:Decrypt","kms:CreateGrant"],"Resource":"*"}},"#
            ),
            1 => write!(
                text,
                r#"{{"Effect":"Allow","Principal":{{"Service":"s{i}.amazonaws.com"}},"Action":"kms:*","Resource":"*"}},"#
            ),
            _ => write!(
                text,
                r#"{{"Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*","Condition":{{"StringEquals":{{"kms:EncryptionContext:k{i}":"v","kms:EncryptionContext:k{i}":"w"}}}}}},"#
            ),
        };
    }
    data.splice(at..at, text.into_bytes());
}

pub fn mutate(rng: &mut Rng, data: &mut Vec<u8>, seeds: &[Vec<u8>]) {
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let len = data.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                let at = rng.below(len + 1);
                data.splice(at..at, t.iter().copied());
            }
            2 if len > 1 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(64)).min(len);
                data.drain(a..b);
            }
            3 if len > 1 => {
                let a = rng.below(len);
                let b = (a + 1 + rng.below(256)).min(len);
                let chunk = data[a..b].to_vec();
                let at = rng.below(len + 1);
                data.splice(at..at, chunk);
            }
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let a = rng.below(other.len());
                    let b = (a + 1 + rng.below(512)).min(other.len());
                    let at = rng.below(len + 1);
                    data.splice(at..at, other[a..b].iter().copied());
                }
            }
            6 => grow(rng, data),
            5 if len > 0 => {
                // Replace a JSON string's contents with a token.
                let start = rng.below(len);
                if let Some(q) = data[start..].iter().position(|&b| b == b'"') {
                    let q = start + q;
                    if let Some(e) = data[q + 1..].iter().position(|&b| b == b'"') {
                        let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                        data.splice(q..=q + 1 + e, t.iter().copied());
                    }
                }
            }
            _ => {
                let at = rng.below(len + 1);
                let alphabet = b"{}[]:,\"\\ 0aZ*$";
                data.insert(at, alphabet[rng.below(alphabet.len())]);
            }
        }
    }
    if data.len() > 512 * 1024 {
        data.truncate(512 * 1024);
    }
}

fn load(name: &str, bytes: &[u8], kind: Option<InputKind>) -> (SourceMap, input::Loaded) {
    let mut sources = SourceMap::new();
    let opts = InputOptions {
        input_kind: kind,
        ..InputOptions::default()
    };
    let loaded = input::load(
        &InputName::Memory(name.to_owned(), Arc::from(bytes)),
        &opts,
        &mut sources,
    );
    (sources, loaded)
}

/// Every lint rule on one input, as `check` runs them.
fn check(bytes: &[u8]) {
    let (sources, mut loaded) = load("fuzz.json", bytes, None);
    let mut findings = std::mem::take(&mut loaded.findings);
    for p in &loaded.policies {
        if let Some(src) = sources.get(p.doc.source) {
            let cx = LintContext {
                doc: &p.doc,
                source: src,
                problems: &p.problems,
            };
            lint::check_document(&cx, &mut findings);
        }
    }
    let (this_input, shared) = kmsaudit::inventory::split_for_keys(loaded);
    let config = lint::Config::default();
    lint::check_declared(&this_input, &config, &mut findings);
    lint::check_grants(&this_input, &config, &mut findings);
    let pending = lint::keys_to_check(&this_input);
    let mut inventory = Inventory::new();
    inventory.add("fuzz.json", shared);
    lint::check_keys(
        pending,
        &inventory,
        &sources,
        None,
        None,
        &config,
        &mut findings,
    );
    for f in &findings {
        // Rendering locations must not panic either.
        let _ = sources.get(f.source).map(|s| s.line_col(f.span.start));
    }
}

fn policy_of(bytes: &[u8], kind: PolicyKind) -> Option<NamedPolicy> {
    let text = std::str::from_utf8(bytes).ok()?;
    let j = kmsaudit::json::parse(text).ok()?;
    let (doc, _) = kmsaudit::policy::parse_policy(&j, SourceId::new(0, 0), kind);
    Some(NamedPolicy {
        name: "fuzz".into(),
        doc: doc.into(),
    })
}

/// Arbitrary policies × arbitrary requests: no panic, and the traced and untraced engines
/// decide alike (the fast path must not drift from the explained one).
fn evaluate(bytes: &[u8], rng: &mut Rng) {
    let half = bytes.len() / 2;
    let key_policy = policy_of(bytes, PolicyKind::Key);
    let identity = policy_of(&bytes[half..], PolicyKind::Identity)
        .or_else(|| policy_of(bytes, PolicyKind::Identity));
    let principals = [
        "arn:aws:iam::111122223333:role/App",
        "arn:aws:iam::111122223333:user/alice",
        "arn:aws:sts::111122223333:assumed-role/App/s",
        "arn:aws:iam::444455556666:role/Partner",
        "111122223333",
        "s3.amazonaws.com",
        "*",
    ];
    let actions = kmsaudit::catalog::actions();
    let Ok(caller) = Caller::parse(principals[rng.below(principals.len())], None) else {
        return;
    };
    let action = format!("kms:{}", actions[rng.below(actions.len())].name);
    let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let Ok(facts) = KeyFacts::from_arn(key) else {
        return;
    };
    let inputs = Inputs {
        keys: vec![std::sync::Arc::new(KeyInputs {
            facts,
            policies: key_policy.map(|p| vec![p]),
            grants: Some(Vec::new()),
            policy_unknown: None,
        })],
        identity: match rng.below(3) {
            0 => None,
            _ => Some(identity.into_iter().collect()),
        },
        boundary: None,
        session: Vec::new(),
        scp: None,
        rcp: None,
        vpce: None,
    };
    let mut req = Request::new(caller, &action, key);
    if rng.below(2) == 0 {
        req.via_service = Some("s3.us-east-1.amazonaws.com".into());
    }
    if rng.below(2) == 0 {
        req.encryption_context = Some(vec![("k".into(), "v".into())]);
    }
    for residual in [false, true] {
        let fast = Options {
            residual,
            trace: false,
            ..Options::default()
        };
        let traced = Options {
            trace: true,
            ..fast.clone()
        };
        let a = eval::evaluate(&inputs, &req, &fast);
        let b = eval::evaluate(&inputs, &req, &traced);
        assert_eq!(
            a.decision, b.decision,
            "traced and untraced decisions differ (residual {residual})"
        );
        // The key rules' pre-check is a proof when it says no (no grants, boundary, session
        // policy, SCP, RCP or VPC endpoint policy here, as in their probes): the engine
        // neither allows nor allows under conditions.
        if let Some(kp) = inputs
            .keys
            .first()
            .and_then(|k| k.policies.as_ref()?.first())
        {
            let may = eval::key_policy_may_allow(
                &kp.doc,
                key,
                &req.caller,
                &action,
                inputs.identity.as_deref(),
                &fast,
            );
            let conditional = a.decision == Decision::Undetermined
                && a.checks.iter().all(|c| c.unknowns.is_empty())
                && a.checks
                    .iter()
                    .any(|c| c.residual.iter().any(|r| !r.is_empty()));
            assert!(
                may || !(a.decision == Decision::Allow || conditional),
                "the pre-check ruled out {action} by {} but the engine says {:?} (residual {residual})",
                req.caller.arn,
                a.decision
            );
        }
    }
    soundness_check(bytes, rng);
}

pub fn run_one(target: &str, bytes: &[u8], rng: &mut Rng) {
    match target {
        "json" => {
            if let Ok(t) = std::str::from_utf8(bytes) {
                let _ = kmsaudit::json::parse_with_depth(t, 64);
            }
        }
        "policy" => {
            for kind in [
                PolicyKind::Key,
                PolicyKind::Identity,
                PolicyKind::Scp,
                PolicyKind::Trust,
            ] {
                let _ = policy_of(bytes, kind);
            }
        }
        "raw" => drop(load("fuzz.json", bytes, Some(InputKind::Policy))),
        "aws-cli" => {
            let kinds = [
                InputKind::GetKeyPolicy,
                InputKind::ListGrants,
                InputKind::DescribeKey,
                InputKind::ListAliases,
                InputKind::CreateGrantInput,
                InputKind::EncodedPolicy,
            ];
            drop(load(
                "fuzz.json",
                bytes,
                Some(kinds[rng.below(kinds.len())]),
            ));
        }
        "authz" => drop(load(
            "fuzz.json",
            bytes,
            Some(InputKind::AuthorizationDetails),
        )),
        "terraform" => {
            let k = if rng.below(2) == 0 {
                InputKind::TerraformPlan
            } else {
                InputKind::TerraformState
            };
            drop(load("fuzz.json", bytes, Some(k)));
        }
        "cfn-json" => drop(load("fuzz.json", bytes, Some(InputKind::CloudFormation))),
        "cfn-yaml" => drop(load("fuzz.yaml", bytes, None)),
        "check" => check(bytes),
        "eval" => evaluate(bytes, rng),
        _ => {}
    }
}
