//! No input makes `check` panic: every bad input gets a clean error and exit code 2.

use super::run;

fn assert_clean_error(input: &[u8], what: &str) {
    let (code, out, err) = run(&["check", "--format", "concise", "-"], Some(input));
    assert_eq!(code, 2, "{what}: exit {code}\n{out}\n{err}");
    assert!(out.starts_with("<stdin>:"), "{what}: {out}");
    assert!(!err.contains("panicked"), "{what}: {err}");
}

#[test]
fn truncated_inputs() {
    let text = std::fs::read(super::fixture("examples/console-default-key-policy.json")).unwrap();
    for cut in [1, 10, 100, 500, text.len() / 2, text.len() - 3] {
        assert_clean_error(&text[..cut], &format!("truncated at {cut}"));
    }
    // Every prefix through the library: no panic, always a finding.
    let mut sources = kmsaudit::source::SourceMap::new();
    for cut in 0..text.len() - 2 {
        let Ok(s) = std::str::from_utf8(&text[..cut]) else {
            continue;
        };
        let r = kmsaudit::json::parse(s);
        assert!(r.is_err(), "prefix {cut} parsed");
        let _ = sources.add(kmsaudit::source::SourceFile::new("x", s, None));
    }
}

#[test]
fn deeply_nested_input() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_clean_error(deep.as_bytes(), "10,000 levels of arrays");
    let deep = "{\"a\":".repeat(10_000);
    assert_clean_error(deep.as_bytes(), "10,000 levels of objects");
}

#[test]
fn huge_inputs() {
    // Over the 16 MiB cap.
    let mut big = b"{\"Id\": \"".to_vec();
    big.extend(std::iter::repeat_n(b'a', 17 * 1024 * 1024));
    big.extend(b"\", \"Statement\": []}");
    let (code, out, _) = run(&["check", "--format", "concise", "-"], Some(&big));
    assert_eq!(code, 2);
    assert!(out.contains("KMS033"), "{out}");
    // A huge string under the cap is fine JSON but not a policy.
    let mut s = b"\"".to_vec();
    s.extend(std::iter::repeat_n(b'x', 4 * 1024 * 1024));
    s.push(b'"');
    assert_clean_error(&s, "4 MiB string");
    // Raising the cap lets a large file through.
    let (code, _, _) = run(
        &["check", "--max-file-size", "20000000", "-q", "-"],
        Some(&big),
    );
    assert_eq!(code, 1, "empty Statement warns");
}

#[test]
fn invalid_utf8_and_random_bytes() {
    assert_clean_error(b"{\"Statement\": [\"\xc3\x28\"]}", "invalid UTF-8");
    assert_clean_error(b"\xff\xff\xff", "0xFF bytes");
    // Seeded xorshift: deterministic random inputs.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..40 {
        let len = (next() % 300) as usize + 1;
        let bytes: Vec<u8> = (0..len).map(|_| (next() & 0xff) as u8).collect();
        assert_clean_error(&bytes, &format!("random input {i}"));
    }
    // Random JSON-ish text through the library, many more times.
    let alphabet = b"{}[]:,\"\\ tfnru0123456789.-eE/*'aS";
    for _ in 0..5000 {
        let len = (next() % 60) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let text = String::from_utf8(bytes).unwrap();
        if let Ok(j) = kmsaudit::json::parse(&text) {
            let _ = kmsaudit::policy::parse_policy(
                &j,
                kmsaudit::source::SourceId::new(0, 0),
                kmsaudit::policy::PolicyKind::Key,
            );
        }
    }
}

/// Every input the fuzzer kept (and the adversarial inputs beside them) reads cleanly: a
/// finding or an input error, never a panic.
#[test]
fn fuzz_regressions_replay_cleanly() {
    let dir = super::fixture("regressions");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json" || e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "{files:?}");
    for f in files {
        let path = f.display().to_string();
        let (code, out, err) = run(&["check", "--format", "json", &path], None);
        assert!((0..=2).contains(&code), "{path}: exit {code}\n{err}");
        assert!(!err.contains("panicked"), "{path}: {err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(v["findings"].is_array(), "{path}");
    }
}
