//! Every parse-error kind: the message, the help and the underlined text, as users see them.

use super::{check_file, fixture, run};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    file: String,
    code: String,
    message: String,
    help: String,
    underlined: String,
}

#[test]
fn each_parse_error_has_its_message_help_and_underline() {
    let text = std::fs::read_to_string(fixture("parse-errors/cases.json")).unwrap();
    let cases: Vec<Case> = serde_json::from_str(&text).unwrap();
    let mut files: Vec<String> = std::fs::read_dir(fixture("parse-errors"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "cases.json")
        .collect();
    files.sort();
    let mut covered: Vec<String> = cases.iter().map(|c| c.file.clone()).collect();
    covered.sort();
    assert_eq!(files, covered, "every parse-error fixture needs a case");
    for c in &cases {
        let checked = check_file(&fixture(&format!("parse-errors/{}", c.file)), None);
        let f = checked
            .findings
            .iter()
            .find(|f| f.code() == c.code)
            .unwrap_or_else(|| panic!("{}: no {} finding", c.file, c.code));
        assert_eq!(f.message, c.message, "{}", c.file);
        assert_eq!(f.help.as_deref(), Some(c.help.as_str()), "{}", c.file);
        let src = checked.sources.get(f.source).unwrap();
        assert_eq!(
            src.slice(f.span),
            c.underlined,
            "{}: underlined text",
            c.file
        );
        let rule = kmsaudit::lint::rule(&c.code).unwrap();
        let (code, stdout, _) = run(
            &[
                "check",
                "--format",
                "concise",
                &format!("fixtures/parse-errors/{}", c.file),
            ],
            None,
        );
        assert!(stdout.contains(&c.code), "{}: {stdout}", c.file);
        if rule.input_error {
            assert_eq!(code, 2, "{}: input errors exit 2", c.file);
        } else {
            assert_ne!(code, 2, "{}", c.file);
        }
    }
}

#[test]
fn syntax_error_points_at_line_and_column() {
    let (code, stdout, _) = run(
        &[
            "check",
            "--format",
            "concise",
            "fixtures/mistakes/not-json.json",
        ],
        None,
    );
    assert_eq!(code, 2);
    assert_eq!(
        stdout,
        "fixtures/mistakes/not-json.json:4:24: KMS031 unexpected `\"`: expected `,` or `}` (write `,` or `}` here; a missing comma or colon is the usual cause)\n"
    );
}

#[test]
fn embedded_policy_errors_point_into_the_outer_file() {
    let (_, stdout, _) = run(
        &[
            "check",
            "--format",
            "json",
            "fixtures/parse-errors/get-key-policy-broken-string.json",
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let f = &v["findings"][0];
    assert_eq!(
        f["file"],
        "fixtures/parse-errors/get-key-policy-broken-string.json"
    );
    // `[,]` inside the escaped string: the comma is at column 59 of the outer line.
    assert_eq!(f["line"], 1);
    assert_eq!(f["column"], 59);
    assert_eq!(
        f["embedded"]["source"],
        "fixtures/parse-errors/get-key-policy-broken-string.json › Policy"
    );
    assert_eq!(f["embedded"]["column"], 41);
}
