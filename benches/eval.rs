//! Evaluation speed: one request against a console-default key policy, three identity policies
//! and two grants (the reference workload). Run with `cargo bench --bench eval`.
//!
//! A plain timing loop (no harness crate): it reports the median over several batches, in
//! nanoseconds per evaluation, for the fast (untraced) and the traced paths.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    reason = "a benchmark harness: failing loudly on a broken fixture is the point"
)]

use std::hint::black_box;
use std::time::Instant;

use kmsaudit::eval::{self, Caller, Inputs, KeyFacts, KeyInputs, NamedPolicy, Options, Request};
use kmsaudit::policy::PolicyKind;
use kmsaudit::source::SourceId;

const K1: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn policy(path: &str, kind: PolicyKind) -> NamedPolicy {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let j = kmsaudit::json::parse(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (doc, _) = kmsaudit::policy::parse_policy(&j, SourceId::new(0, 0), kind);
    NamedPolicy {
        name: path.into(),
        doc: doc.into(),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let grants_text = std::fs::read_to_string("fixtures/can/grants.json").unwrap();
    let gj = kmsaudit::json::parse(&grants_text).unwrap();
    let (grants, _) = kmsaudit::grant::read_grants(&gj, SourceId::new(0, 0));
    let inputs = Inputs {
        keys: vec![std::sync::Arc::new(KeyInputs {
            facts: KeyFacts::from_arn(K1).unwrap(),
            policies: Some(vec![policy(
                "fixtures/examples/console-default-key-policy.json",
                PolicyKind::Key,
            )]),
            grants: Some(grants),
            policy_unknown: None,
        })],
        identity: Some(
            vec![
                policy("fixtures/cases/policies/I1.json", PolicyKind::Identity),
                policy(
                    "fixtures/examples/identity-read-only-keys.json",
                    PolicyKind::Identity,
                ),
                policy("fixtures/cases/policies/I2.json", PolicyKind::Identity),
            ]
            .into(),
        ),
        ..Inputs::default()
    };
    let callers = [
        (
            "arn:aws:sts::111122223333:assumed-role/ExampleRole/s1",
            Some("arn:aws:iam::111122223333:role/ExampleRole"),
        ),
        ("arn:aws:iam::111122223333:user/Alice", None),
        (
            "arn:aws:sts::111122223333:assumed-role/Worker/s1",
            Some("arn:aws:iam::111122223333:role/Worker"),
        ),
    ];
    let actions = [
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "kms:DescribeKey",
        "kms:PutKeyPolicy",
    ];
    let mut requests = Vec::new();
    for (c, r) in callers {
        for a in actions {
            let mut req = Request::new(Caller::parse(c, r).unwrap(), a, K1);
            req.encryption_context = Some(vec![("Department".into(), "IT".into())]);
            requests.push(req);
        }
    }
    let only_fast = std::env::args().any(|a| a == "--fast");
    for (name, trace) in [("decision only", false), ("with trace", true)] {
        if only_fast && trace {
            continue;
        }
        let opts = Options {
            trace,
            ..Options::default()
        };
        let per_batch: usize = std::env::var("KMSAUDIT_BENCH_BATCH")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20_000);
        let mut samples = Vec::new();
        for _ in 0..9 {
            let t = Instant::now();
            for i in 0..per_batch {
                let req = &requests[i % requests.len()];
                black_box(eval::evaluate(black_box(&inputs), black_box(req), &opts).decision);
            }
            samples.push(t.elapsed().as_nanos() as f64 / per_batch as f64);
        }
        println!(
            "evaluate ({name}): median {:.0} ns per request over 9 batches of {per_batch}",
            median(samples)
        );
    }
}
