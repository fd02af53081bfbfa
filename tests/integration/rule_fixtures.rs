//! Every rule fixture: each `Bad…` statement draws the rule's finding, no `Good…` one does.

use super::{check_file, fixture};
use kmsaudit::policy::PolicyKind;

#[test]
fn bad_statements_are_flagged_and_good_ones_are_not() {
    let dir = fixture("rules");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    assert!(entries.len() >= 20, "rule fixtures missing");
    for path in entries {
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let code = &name[..6];
        assert!(
            kmsaudit::lint::rule(code).is_some(),
            "{name}: no rule {code}"
        );
        let kind = name.contains(".identity.").then_some(PolicyKind::Identity);
        let checked = check_file(&path, kind);
        // Rules about a key policy as a whole, or a key's declaration, have a `.bad` input that
        // draws the finding (anywhere) and a `.good` one that does not.
        let whole = [(".bad.", "Bad"), (".good.", "Good")]
            .into_iter()
            .find(|(m, _)| name.contains(m));
        if let Some((_, prefix)) = whole {
            assert!(
                checked.policies.len() <= 1,
                "{name}: at most one policy expected"
            );
            for st in checked.policies.iter().flat_map(|p| &p.doc.statements) {
                let sid = st.sid.as_ref().map(|s| s.value.clone()).unwrap_or_default();
                assert!(
                    sid.starts_with(prefix),
                    "{name}: Sid `{sid}` must start with {prefix}"
                );
            }
            let hits = checked.findings.iter().filter(|f| f.code() == code).count();
            if prefix == "Bad" {
                assert!(hits > 0, "{name}: the policy should draw {code}");
            } else {
                assert_eq!(hits, 0, "{name}: the policy should not draw {code}");
            }
            continue;
        }
        assert_eq!(checked.policies.len(), 1, "{name}: one policy expected");
        let doc = &checked.policies[0].doc;
        let mut bad = 0;
        for st in &doc.statements {
            let sid = st.sid.as_ref().map(|s| s.value.clone()).unwrap_or_default();
            assert!(
                sid.starts_with("Bad") || sid.starts_with("Good"),
                "{name}: Sid `{sid}` must start with Bad or Good"
            );
            let hits = checked
                .findings
                .iter()
                .filter(|f| {
                    f.code() == code
                        && f.source == doc.source
                        && st.span.start <= f.span.start
                        && f.span.end <= st.span.end
                })
                .count();
            if sid.starts_with("Bad") {
                bad += 1;
                assert!(hits > 0, "{name}: statement `{sid}` should draw {code}");
            } else {
                assert_eq!(hits, 0, "{name}: statement `{sid}` should not draw {code}");
            }
        }
        assert!(bad > 0, "{name}: no Bad statement");
        // No finding of the rule outside any statement.
        for f in checked.findings.iter().filter(|f| f.code() == code) {
            assert!(
                doc.statements
                    .iter()
                    .any(|st| st.span.start <= f.span.start && f.span.end <= st.span.end),
                "{name}: {code} outside statements: {}",
                f.message
            );
        }
    }
}

#[test]
fn every_rule_has_bad_and_good_fixtures() {
    let names: Vec<String> = std::fs::read_dir(fixture("rules"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    // Notes about inputs (encoding, pages, unknown values) and about kmsaudit.toml (KMS061:
    // fixtures/config/expired.toml, tested in config.rs) have no policy fixture; KMS064 needs
    // an organisation tree beside the key policy (fixtures/lockout/, tested in lockout.rs);
    // KMS080 comes from the guards of kmsaudit.toml and KMS081 from `diff` (tested in diff.rs).
    let exempt = [
        "KMS034", "KMS048", "KMS051", "KMS061", "KMS064", "KMS080", "KMS081",
    ];
    for rule in kmsaudit::lint::rules().filter(|r| !r.input_error && !exempt.contains(&r.code)) {
        let single = names.iter().any(|n| {
            n.starts_with(&format!("{}.", rule.code))
                && !n.contains(".bad.")
                && !n.contains(".good.")
        });
        let pair = names
            .iter()
            .any(|n| n.starts_with(&format!("{}.bad.", rule.code)))
            && names
                .iter()
                .any(|n| n.starts_with(&format!("{}.good.", rule.code)));
        assert!(
            single || pair,
            "{}: no fixture in fixtures/rules",
            rule.code
        );
    }
}

#[test]
fn documented_default_key_policies_draw_no_findings_r117_r120() {
    let mut n = 0;
    for dir in ["defaults", "examples"] {
        for e in std::fs::read_dir(fixture(dir)).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                continue; // examples/walkthrough: scenarios, some deliberately wrong
            }
            let checked = check_file(&path, None);
            assert!(!checked.policies.is_empty(), "{}", path.display());
            let serious: Vec<_> = checked
                .findings
                .iter()
                .filter(|f| f.severity >= kmsaudit::lint::Severity::Warning)
                .map(|f| format!("{} {}", f.code(), f.message))
                .collect();
            assert!(serious.is_empty(), "{}: {serious:?}", path.display());
            if dir == "defaults" {
                // Only notes: an external account is allowed (AWS's console adds account
                // 444455556666 that way) and who controls the key (R115).
                assert!(
                    checked
                        .findings
                        .iter()
                        .all(|f| f.code() == "KMS056" || f.code() == "KMS063"),
                    "{}: {:?}",
                    path.display(),
                    checked
                        .findings
                        .iter()
                        .map(|f| &f.message)
                        .collect::<Vec<_>>()
                );
            }
            n += 1;
        }
    }
    assert!(n >= 10);
}

#[test]
fn every_rule_is_documented_with_every_section() {
    for rule in kmsaudit::lint::rules() {
        let doc = kmsaudit::lint::rule_doc(rule);
        for section in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "Use instead",
            "## References",
        ] {
            assert!(
                doc.contains(section),
                "{}: no `{section}` in its documentation",
                rule.code
            );
        }
    }
}

#[test]
fn rule_command_prints_the_document_and_all_lists_every_rule() {
    let (code, out, _) = super::run(&["rule", "KMS005"], None);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("KMS005 public-key (error; spec L005"),
        "{out}"
    );
    assert!(
        out.contains("## Why is this bad?") && out.contains("BadViaServiceOnly"),
        "{out}"
    );
    let (code, out, _) = super::run(&["rule", "--all"], None);
    assert_eq!(code, 0);
    for rule in kmsaudit::lint::rules() {
        assert!(
            out.contains(rule.code),
            "{} missing from the table",
            rule.code
        );
    }
    assert_eq!(super::run(&["rule", "KMS999"], None).0, 2);
}
