//! The README's walkthrough runs: every `console` block's command is run with this build of
//! kmsaudit and its standard output must be exactly what the README shows.

use super::root;

/// (command, expected output) of each `console` block between `## Walkthrough` and the next
/// `## ` heading.
fn blocks(readme: &str) -> Vec<(String, String)> {
    let start = readme
        .find("## Walkthrough")
        .expect("a walkthrough section");
    let rest = &readme[start + 3..];
    let section = &rest[..rest.find("\n## ").unwrap_or(rest.len())];
    let mut out = Vec::new();
    let mut lines = section.lines();
    while let Some(l) = lines.next() {
        if l.trim() != "```console" {
            continue;
        }
        let mut cmd = String::new();
        let mut expected = Vec::new();
        let mut in_cmd = true;
        for l in lines.by_ref() {
            if l.trim() == "```" {
                break;
            }
            if in_cmd {
                let part = l.strip_prefix("$ ").unwrap_or(l).trim();
                let (part, more) = match part.strip_suffix('\\') {
                    Some(p) => (p.trim(), true),
                    None => (part, false),
                };
                cmd.push_str(part);
                cmd.push(' ');
                in_cmd = more;
            } else {
                expected.push(l);
            }
        }
        out.push((cmd.trim().to_owned(), expected.join("\n")));
    }
    out
}

#[test]
fn every_walkthrough_command_prints_what_the_readme_shows() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let blocks = blocks(&readme);
    assert!(blocks.len() >= 15, "{}", blocks.len());
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_kmsaudit"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for (cmd, expected) in blocks {
        assert!(cmd.starts_with("kmsaudit "), "{cmd}");
        let out = std::process::Command::new("sh")
            .args(["-c", &cmd])
            .current_dir(root())
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let got = String::from_utf8(out.stdout).unwrap();
        assert_eq!(got.trim_end(), expected.trim_end(), "\n$ {cmd}\n");
    }
}
