//! Bounded cost on hostile inputs: generated inputs that blew up in time or memory before run
//! the real binary under a time and memory budget and must still give the right answers.
//! The budgets are generous (a debug build on a loaded machine); speed itself is measured in
//! BENCHMARKS.md.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::root;

/// Address space a run may use: the runs before the fix grew to gigabytes.
const MEMORY_KIB: u64 = 1024 * 1024;
/// Wall time a run may take.
const TIME: Duration = Duration::from_secs(90);

const ACCOUNT: &str = "111122223333";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kmsaudit-cost-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the binary under `ulimit -v` and a deadline; fails the test past either.
fn run_bounded(args: &[&str]) -> (i32, String) {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {MEMORY_KIB}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_kmsaudit"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).unwrap();
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > TIME {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} ran past {TIME:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = reader.join().unwrap();
    let code = status.code().unwrap_or(-1);
    assert!(code >= 0, "{args:?} ended by a signal (out of memory?)");
    (code, out)
}

/// Rule codes of a `check --format json` report, with how often each was found.
fn codes(report: &str) -> std::collections::BTreeMap<String, usize> {
    let v: serde_json::Value = serde_json::from_str(report).unwrap();
    let mut out = std::collections::BTreeMap::new();
    for f in v["findings"].as_array().unwrap() {
        *out.entry(f["code"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    out
}

/// A key policy: optionally the root delegation, then one statement per role, each letting
/// that role use the key and create grants directly.
fn role_policy(roles: usize, root_delegation: bool) -> String {
    let mut st: Vec<String> = Vec::new();
    if root_delegation {
        st.push(format!(
            r#"{{"Sid":"Root","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}}"#
        ));
    }
    for i in 0..roles {
        st.push(format!(
            r#"{{"Sid":"S{i}","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:role/App{i}"}},"Action":["kms:Decrypt","kms:Encrypt","kms:GenerateDataKey*","kms:CreateGrant"],"Resource":"*"}}"#
        ));
    }
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        st.join(",")
    )
}

#[test]
fn r109_key_rules_on_10000_statements_naming_distinct_roles_stay_bounded() {
    let dir = temp_dir("statements");
    let p = dir.join("key-policy.json");
    // 10,000 statements (the default statement cap), no root delegation: the lockout rule
    // explains why each of the 10,000 roles cannot manage the key.
    std::fs::write(&p, role_policy(10_000, false)).unwrap();
    let path = p.display().to_string();
    let (code, out) = run_bounded(&["check", "--format", "json", &path]);
    assert_eq!(code, 1, "{out}");
    let found = codes(&out);
    // Every role can create grants directly (KMS022), each found once; nobody can manage the
    // key (KMS003).
    assert_eq!(found.get("KMS022"), Some(&10_000), "{found:?}");
    assert_eq!(found.get("KMS003"), Some(&1), "{found:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn r110_lockout_of_5000_named_roles_with_their_authorization_details_stays_bounded() {
    let dir = temp_dir("authz");
    let roles: Vec<String> = (0..5_000)
        .map(|i| {
            format!(
                r#"{{"Path":"/","RoleName":"App{i}","RoleId":"AROA{i:017}","Arn":"arn:aws:iam::{ACCOUNT}:role/App{i}","CreateDate":"2024-01-01T00:00:00Z","AssumeRolePolicyDocument":{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"ec2.amazonaws.com"}},"Action":"sts:AssumeRole"}}]}},"InstanceProfileList":[],"RolePolicyList":[{{"PolicyName":"inline","PolicyDocument":{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["kms:Decrypt","kms:Encrypt"],"Resource":"*"}}]}}}}],"AttachedManagedPolicies":[],"Tags":[],"RoleLastUsed":{{}}}}"#
            )
        })
        .collect();
    let dump = dir.join("authorization-details.json");
    std::fs::write(
        &dump,
        format!(
            r#"{{"UserDetailList":[],"GroupDetailList":[],"RoleDetailList":[{}],"Policies":[]}}"#,
            roles.join(",")
        ),
    )
    .unwrap();
    let key = dir.join("key-policy.json");
    // No root delegation and no role may call PutKeyPolicy: nobody can manage the key.
    std::fs::write(&key, role_policy(5_000, false)).unwrap();
    let (dump, key) = (dump.display().to_string(), key.display().to_string());
    let (code, out) = run_bounded(&[
        "check",
        "--format",
        "json",
        "--account",
        ACCOUNT,
        &dump,
        &key,
    ]);
    assert_eq!(code, 1, "{out}");
    let found = codes(&out);
    assert_eq!(found.get("KMS003"), Some(&1), "{found:?}");
    assert_eq!(found.get("KMS022"), Some(&5_000), "{found:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn r16_a_condition_block_of_100000_keys_is_read_in_linear_time() {
    let dir = temp_dir("keys");
    let p = dir.join("many-keys.json");
    // 100,000 encryption-context keys, then the eighth written again: one duplicate.
    let mut pairs: Vec<String> = (0..100_000)
        .map(|i| format!(r#""kms:EncryptionContext:k{i}":"v""#))
        .collect();
    pairs.push(r#""kms:EncryptionContext:k7":"w""#.to_owned());
    std::fs::write(
        &p,
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*","Condition":{{"StringEquals":{{{}}}}}}}]}}"#,
            pairs.join(",")
        ),
    )
    .unwrap();
    let path = p.display().to_string();
    let (_, out) = run_bounded(&["check", "--format", "json", &path]);
    let found = codes(&out);
    assert_eq!(found.get("KMS025"), Some(&1), "{found:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/// Authorization details of `n` roles that may all assume one another (each trusts the
/// account and may call sts:AssumeRole on anything); the last may also decrypt when
/// `last_decrypts`. Returns the directory, the dump and the key policy (root delegation).
fn mutual_roles(name: &str, n: usize, last_decrypts: bool) -> (PathBuf, String, String) {
    let dir = temp_dir(name);
    let roles: Vec<String> = (0..n)
        .map(|i| {
            let kms = if last_decrypts && i + 1 == n {
                r#",{"PolicyName":"kms","PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}}"#
            } else {
                ""
            };
            format!(
                r#"{{"Path":"/","RoleName":"R{i:04}","RoleId":"AROA{i:017}","Arn":"arn:aws:iam::{ACCOUNT}:role/R{i:04}","CreateDate":"2024-01-01T00:00:00Z","AssumeRolePolicyDocument":{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"sts:AssumeRole"}}]}},"InstanceProfileList":[],"RolePolicyList":[{{"PolicyName":"assume","PolicyDocument":{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}}]}}}}{kms}],"AttachedManagedPolicies":[],"Tags":[],"RoleLastUsed":{{}}}}"#
            )
        })
        .collect();
    let dump = dir.join("authorization-details.json");
    std::fs::write(
        &dump,
        format!(
            r#"{{"UserDetailList":[],"GroupDetailList":[],"RoleDetailList":[{}],"Policies":[]}}"#,
            roles.join(",")
        ),
    )
    .unwrap();
    let key = dir.join("key-policy.json");
    std::fs::write(&key, role_policy(0, true)).unwrap();
    let (dump, key) = (dump.display().to_string(), key.display().to_string());
    (dir, dump, key)
}

#[test]
fn r54_who_can_on_1000_mutually_assumable_roles_finds_every_chain_within_bounds() {
    let (dir, dump, key) = mutual_roles("mutual-1000", 1_000, true);
    let (code, out) = run_bounded(&[
        "who-can",
        "--action",
        "kms:Decrypt",
        "--key",
        KEY,
        "--key-policy",
        &key,
        "--format",
        "json",
        &dump,
    ]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rows = v["rows"].as_array().unwrap();
    // The root user and R0999 directly; every other role by assuming R0999, one hop.
    assert_eq!(rows.len(), 1_001);
    let last = format!("arn:aws:iam::{ACCOUNT}:role/R0999");
    let mut escalated = 0;
    for r in rows {
        if r["escalated"] == true {
            escalated += 1;
            let path = r["path"].as_array().unwrap();
            assert_eq!(path.len(), 2, "{r}");
            assert_eq!(path[0]["action"], "sts:AssumeRole");
            assert_eq!(path[0]["target"], last.as_str());
            assert_eq!(path[1]["action"], "kms:Decrypt");
        }
    }
    assert_eq!(escalated, 999);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn r54_no_chain_among_400_mutually_assumable_roles_is_settled_without_a_search_per_role() {
    let (dir, dump, key) = mutual_roles("mutual-400", 400, false);
    let (code, out) = run_bounded(&[
        "matrix",
        "--actions",
        "kms:Decrypt,kms:Encrypt",
        "--key",
        KEY,
        "--key-policy",
        &key,
        "--format",
        "json",
        &dump,
    ]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rows = v["rows"].as_array().unwrap();
    // Only the root user, through the root delegation: no role may use the key, however
    // many roles it can become.
    let who: std::collections::BTreeSet<&str> = rows
        .iter()
        .map(|r| r["principal"].as_str().unwrap())
        .collect();
    assert_eq!(who.len(), 1, "{who:?}");
    assert!(who.iter().all(|p| p.ends_with(":root")), "{who:?}");
    // The drawing of 160,000 acts-as edges is cut, and still one JSON document.
    let (code, out) = run_bounded(&["graph", "--format", "json", &dump]);
    assert_eq!(code, 0);
    let g: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        g["edges"].as_array().unwrap().len(),
        kmsaudit::graph::MAX_DRAWN_EDGES
    );
    let _ = std::fs::remove_dir_all(&dir);
}
