//! The CI formats: SARIF validated against the OASIS SARIF 2.1.0 schema, JSON against the
//! project's own schema, and a snapshot of each format.

use super::{fixture, root, run};

fn validator(schema_path: &std::path::Path) -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn errors(v: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path))
        .take(5)
        .collect()
}

#[test]
fn sarif_of_every_rule_fixture_validates_against_the_sarif_2_1_0_schema() {
    let v = validator(&fixture("schemas/sarif-schema-2.1.0.json"));
    let mut n = 0;
    let mut files: Vec<_> = std::fs::read_dir(fixture("rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    // Embedded policies, input errors and sensitive values too.
    files.extend([
        fixture("parse-errors/get-key-policy-broken-string.json"),
        fixture("mistakes/not-json.json"),
        fixture("terraform/kms-basic/plan.json"),
    ]);
    for path in files {
        let p = path
            .strip_prefix(root())
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let (_, out, err) = run(&["check", "-q", "--format", "sarif", &p], None);
        let doc: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{p}: {e}: {out}{err}"));
        let problems = errors(&v, &doc);
        assert!(problems.is_empty(), "{p}: {problems:?}");
        let results = doc["runs"][0]["results"].as_array().unwrap();
        for r in results {
            let region = &r["locations"][0]["physicalLocation"]["region"];
            assert!(region["startLine"].as_u64().unwrap() >= 1);
            assert!(region["startColumn"].as_u64().unwrap() >= 1);
            // Embedded policies are located in the file the user committed.
            assert_eq!(
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
                p.as_str()
            );
        }
        n += 1;
    }
    assert!(n >= 60, "{n}");
    // The validator is live: a result with a level SARIF does not define fails.
    let (_, out, _) = run(
        &[
            "check",
            "-q",
            "--format",
            "sarif",
            "fixtures/rules/KMS005.json",
        ],
        None,
    );
    let mut doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    doc["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!errors(&v, &doc).is_empty());
}

#[test]
fn json_output_validates_against_the_projects_schema() {
    let v = validator(&root().join("src/report/check-output.schema.json"));
    for p in [
        "fixtures/rules/KMS005.json",
        "fixtures/mistakes",
        "fixtures/parse-errors/get-key-policy-broken-string.json",
        "fixtures/terraform/kms-basic/plan.json",
        "fixtures/rules/KMS062.bad.json",
    ] {
        let (_, out, _) = run(&["check", "-q", "--format", "json", p], None);
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        let problems = errors(&v, &doc);
        assert!(problems.is_empty(), "{p}: {problems:?}");
        assert!(!doc["findings"].as_array().unwrap().is_empty(), "{p}");
    }
}

fn format(f: &str, path: &str) -> String {
    let (_, out, _) = run(&["check", "-q", "--format", f, path], None);
    out
}

#[test]
fn each_format_has_a_snapshot() {
    let p = "fixtures/mistakes/three-mistakes.json";
    insta::assert_snapshot!("format_concise", format("concise", p));
    insta::assert_snapshot!("format_github", format("github", p));
    insta::assert_snapshot!("format_junit", format("junit", p));
    let json = format("json", p);
    insta::assert_snapshot!("format_json", json);
    // SARIF carries every rule's document: the results are what changes with the input.
    let sarif: serde_json::Value = serde_json::from_str(&format("sarif", p)).unwrap();
    insta::assert_snapshot!(
        "format_sarif_results",
        serde_json::to_string_pretty(&sarif["runs"][0]["results"]).unwrap()
    );
}

#[test]
fn without_a_terminal_or_with_no_color_there_are_no_escape_codes() {
    for f in ["human", "concise", "json", "sarif", "github", "junit"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kmsaudit"))
            .args([
                "check",
                "--format",
                f,
                "fixtures/mistakes/three-mistakes.json",
            ])
            .current_dir(root())
            .env_remove("NO_COLOR")
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            !text.contains('\u{1b}'),
            "{f}: escape codes in non-terminal output"
        );
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(!err.contains('\u{1b}'), "{f}: escape codes on stderr");
    }
}

#[test]
fn junit_fails_a_case_per_rule_and_file_at_the_threshold() {
    let out = format("junit", "fixtures/mistakes/three-mistakes.json");
    assert!(
        out.contains("name=\"KMS014 partial-wildcard-principal\">\n      <failure"),
        "{out}"
    );
    // One case per rule that found something, not one per possible rule.
    assert!(!out.contains("KMS001 root-delegation-missing"), "{out}");
    let (_, out, _) = run(
        &[
            "check",
            "-q",
            "--format",
            "junit",
            "--fail-on",
            "never",
            "fixtures/mistakes/three-mistakes.json",
        ],
        None,
    );
    assert!(!out.contains("<failure"), "{out}");
}

/// A file that cannot be read is an `<error>` of its suite, and the totals of `<testsuites>`
/// are the sums of the suites' counts (CI dashboards add them up).
#[test]
fn junit_totals_are_the_sums_of_the_suites_and_input_errors_are_errors() {
    let (_, out, _) = run(
        &[
            "check",
            "-q",
            "--format",
            "junit",
            "fixtures/parse-errors/bare-key.json",
            "fixtures/mistakes/three-mistakes.json",
        ],
        None,
    );
    let count = |tag: &str, attr: &str| -> Vec<usize> {
        out.lines()
            .filter(|l| l.trim_start().starts_with(&format!("<{tag} ")))
            .filter_map(|l| {
                let at = l.find(&format!(" {attr}=\""))? + attr.len() + 3;
                l.get(at..)?.split('"').next()?.parse().ok()
            })
            .collect()
    };
    for attr in ["tests", "failures", "errors"] {
        let total = count("testsuites", attr);
        let suites: usize = count("testsuite", attr).iter().sum();
        assert_eq!(total, vec![suites], "{attr}: {out}");
    }
    assert_eq!(count("testsuites", "errors"), vec![1], "{out}");
    assert!(
        out.contains("<error message=\"1 finding(s)\" type=\"KMS031\">"),
        "{out}"
    );
}

/// The CI recipes (`docs/ci.md`) name commands that work against the current CLI: each
/// `kmsaudit check …` runs on a real plan (and the example policies for `policies/`), exits 0
/// or 1 (never a usage or input error), and prints the format it asks for.
#[test]
fn the_ci_recipes_run_against_the_current_cli() {
    let section = std::fs::read_to_string(super::root().join("docs/ci.md")).unwrap();
    let mut ran = 0;
    for line in section.lines() {
        let Some(at) = line.find("kmsaudit check") else {
            continue;
        };
        // A comment that mentions the command is not a command.
        if line[..at].contains('#') {
            continue;
        }
        let cmd = line[at..]
            .split(['`', '#', '>'])
            .next()
            .unwrap()
            .trim()
            .to_owned();
        let words: Vec<String> = cmd
            .split_whitespace()
            .skip(1)
            .map(|w| match w {
                "plan.json" => "fixtures/terraform/kms-basic/plan.json".to_owned(),
                "policies/" => "fixtures/examples/".to_owned(),
                other => other.to_owned(),
            })
            .collect();
        let args: Vec<&str> = words.iter().map(String::as_str).collect();
        let (code, out, err) = super::run(&args, None);
        assert!(code <= 1, "`{cmd}` exited {code}:\n{err}");
        if cmd.contains("--format sarif") {
            assert!(out.contains("\"version\": \"2.1.0\""), "{cmd}: {out}");
        }
        if cmd.contains("--format junit") {
            assert!(out.starts_with("<?xml"), "{cmd}: {out}");
        }
        ran += 1;
    }
    assert!(ran >= 5, "only {ran} recipe commands found");
}
