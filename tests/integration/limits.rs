//! Limits: every cap gives a clear error naming the flag that raises it, and one bad input
//! never hides the results of the others.

use super::{fixture, run};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("kmsaudit-limits-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn policy_with(statements: usize) -> String {
    let st: Vec<String> = (0..statements)
        .map(|i| {
            format!(
                r#"{{"Sid":"S{i}","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111122223333:root"}},"Action":"kms:DescribeKey","Resource":"*"}}"#
            )
        })
        .collect();
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        st.join(",")
    )
}

#[test]
fn a_policy_over_the_statement_cap_is_refused_not_half_read() {
    let dir = temp_dir("statements");
    let p = dir.join("many.json");
    std::fs::write(&p, policy_with(12)).unwrap();
    let path = p.display().to_string();
    let (code, out, _) = run(
        &[
            "check",
            "--format",
            "concise",
            "--max-statements",
            "10",
            &path,
        ],
        None,
    );
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("KMS033 the policy has 12 statements, over the limit of 10"),
        "{out}"
    );
    // `can` refuses it too rather than judging part of it.
    let (code, _, err) = run(
        &[
            "can",
            "--principal",
            "111122223333",
            "--action",
            "kms:DescribeKey",
            "--key",
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "--key-policy",
            &path,
            "--max-statements",
            "10",
        ],
        None,
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("KMS033"), "{err}");
    // Under the default cap it reads.
    let (code, _, _) = run(&["check", "-q", &path], None);
    assert!(code < 2);
}

#[test]
fn inputs_over_the_policy_cap_are_refused_by_name() {
    let a = fixture("examples/console-default-key-policy.json");
    let b = fixture("defaults/sdk-default.json");
    let (a, b) = (a.display().to_string(), b.display().to_string());
    let (code, out, err) = run(
        &[
            "check",
            "--format",
            "concise",
            "--max-policies",
            "1",
            &a,
            &b,
        ],
        None,
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains("KMS033 the inputs hold more than 1 policies"),
        "{out}"
    );
    // Inputs are read in path order: the second one is the one refused, by name.
    assert!(
        out.contains("console-default-key-policy.json:1:1: KMS033"),
        "{out}"
    );
    let (code, _, err) = run(
        &[
            "who-can",
            "--action",
            "kms:Decrypt",
            "--key",
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "--max-policies",
            "1",
            &a,
            &b,
        ],
        None,
    );
    assert_eq!(code, 2);
    assert!(err.contains("--max-policies"), "{err}");
}

#[test]
fn a_graph_over_the_node_cap_is_refused() {
    let authz = fixture("graph/org/authorization-details.json");
    let (code, _, err) = run(
        &[
            "matrix",
            "--max-graph-nodes",
            "3",
            &authz.display().to_string(),
        ],
        None,
    );
    assert_eq!(code, 2);
    assert!(err.contains("raise `--max-graph-nodes`"), "{err}");
}

/// A 1 GiB file (sparse: it costs no disk) is refused from its size, before it is read.
#[test]
fn a_one_gigabyte_input_is_refused_before_reading() {
    let dir = temp_dir("huge");
    let p = dir.join("huge.json");
    let f = std::fs::File::create(&p).unwrap();
    f.set_len(1 << 30).unwrap();
    let (code, out, _) = run(
        &["check", "--format", "concise", &p.display().to_string()],
        None,
    );
    std::fs::remove_file(&p).unwrap();
    assert_eq!(code, 2);
    assert!(
        out.contains("KMS033 file is 1073741824 bytes, over the 16777216-byte limit"),
        "{out}"
    );
}

/// `*a*a*a…*b` against a long run of `a`: the matcher keeps one backtrack point, so this is
/// quick; an exponential matcher would not finish.
#[test]
fn adversarial_wildcards_match_in_polynomial_time() {
    let pattern = format!("{}b", "*a".repeat(40));
    let (p, _) = kmsaudit::pattern::Pattern::parse(&pattern, true, false);
    let text = "a".repeat(20_000);
    assert!(!p.matches(&text));
    assert!(p.matches(&format!("{text}b")));
    // Through the engine: an identity policy whose Resource is that pattern.
    let dir = temp_dir("glob");
    let id = dir.join("identity.json");
    std::fs::write(
        &id,
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:111122223333:key/{pattern}"}}]}}"#
        ),
    )
    .unwrap();
    let key = format!(
        "arn:aws:kms:us-east-1:111122223333:key/{}",
        "a".repeat(5_000)
    );
    let kp = fixture("examples/console-default-key-policy.json");
    let (code, out, err) = run(
        &[
            "can",
            "--no-trace",
            "--principal",
            "arn:aws:iam::111122223333:role/App",
            "--action",
            "kms:Decrypt",
            "--key",
            &key,
            "--key-policy",
            &kp.display().to_string(),
            "--identity-policy",
            &id.display().to_string(),
        ],
        None,
    );
    assert!(code < 2, "{err}");
    assert!(out.contains("decision: implicit-deny"), "{out}");
}

/// Ten files, one corrupt: the nine are fully reported and the run exits 2 naming the tenth.
#[test]
fn one_corrupt_file_among_ten_hides_nothing_of_the_nine() {
    let dir = temp_dir("ten");
    let bad_policy = std::fs::read_to_string(fixture("rules/KMS005.json")).unwrap();
    for i in 0..9 {
        std::fs::write(dir.join(format!("policy-{i}.json")), &bad_policy).unwrap();
    }
    std::fs::write(dir.join("policy-9.json"), "{\"Statement\": [").unwrap();
    let (code, out, err) = run(
        &["check", "--format", "concise", &dir.display().to_string()],
        None,
    );
    assert_eq!(code, 2, "{out}{err}");
    for i in 0..9 {
        assert!(
            out.lines()
                .any(|l| l.contains(&format!("policy-{i}.json")) && l.contains("KMS005")),
            "file {i} not reported:\n{out}"
        );
    }
    assert!(
        out.lines()
            .any(|l| l.contains("policy-9.json") && l.contains("KMS031")),
        "{out}"
    );
    assert!(err.contains("10 files checked"), "{err}");
}
