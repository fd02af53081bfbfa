//! The documentation pages that are generated or tested: `docs/rules.md` is made from each
//! rule's own documentation (in its source file) and must not fall behind it.

use super::root;

/// The line after which `docs/rules.md` is generated; what is above it is written by hand.
const MARKER: &str = "<!-- Everything below is generated";

/// The generated part of `docs/rules.md`: a table of every rule, then each rule's document
/// (what it does, why it is bad, an example, references) with its headings one level down.
fn generated_rules_page() -> String {
    let rules: Vec<_> = kmsaudit::lint::rules().collect();
    let mut out = String::from("\n| code | name | severity | finds |\n|---|---|---|---|\n");
    for r in &rules {
        out.push_str(&format!(
            "| [{code}](#{anchor}) | {name} | {sev} | {summary} |\n",
            code = r.code,
            anchor = format!("{}-{}", r.code, r.name).to_ascii_lowercase(),
            name = r.name,
            sev = r.severity.as_str(),
            summary = r.summary.replace('|', "\\|"),
        ));
    }
    for r in &rules {
        out.push_str(&format!(
            "\n## {} {}\n\nDefault severity: {} — {}\n",
            r.code,
            r.name,
            r.severity.as_str(),
            r.summary
        ));
        let doc = kmsaudit::lint::rule_doc(r);
        let body: Vec<String> = doc
            .lines()
            .skip_while(|l| !l.starts_with("## "))
            .map(|l| {
                if l.starts_with('#') {
                    format!("#{l}")
                } else {
                    l.trim_end().to_owned()
                }
            })
            .collect();
        if !body.is_empty() {
            out.push('\n');
            out.push_str(body.join("\n").trim_end());
            out.push('\n');
        }
    }
    out
}

/// `docs/rules.md` is what the rules' documentation makes today. With
/// `KMSAUDIT_UPDATE_DOCS=1` the test writes the page instead of comparing.
#[test]
fn rules_page_is_generated_from_the_rule_docs_and_up_to_date() {
    let path = root().join("docs/rules.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let at = text
        .find(MARKER)
        .expect("the generated-part marker in docs/rules.md");
    let head_end = at + text[at..].find('\n').unwrap() + 1;
    let want = format!("{}{}", &text[..head_end], generated_rules_page());
    if std::env::var_os("KMSAUDIT_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    assert!(
        text == want,
        "docs/rules.md is stale: run `KMSAUDIT_UPDATE_DOCS=1 cargo test --test integration docs::`"
    );
    // Every rule has its section.
    for r in kmsaudit::lint::rules() {
        assert!(
            text.contains(&format!("\n## {} {}\n", r.code, r.name)),
            "{}",
            r.code
        );
    }
}
