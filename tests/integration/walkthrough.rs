//! Every command the README and the walkthrough page show runs: each `console` block's
//! command is run with this build of kmsaudit and its output (standard output, then standard
//! error) must be what the page shows; a line `…` stands for lines left out. The README's
//! first block, the two set-up commands, is checked too.

use super::root;

/// (command, expected output) of each `console` block of a page.
fn blocks(page: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = page.lines();
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

/// Runs a shell command line with this build's `kmsaudit` first on `PATH`.
fn sh(cmd: &str) -> std::process::Output {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_kmsaudit"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    std::process::Command::new("sh")
        .args(["-c", cmd])
        .current_dir(root())
        .env("PATH", &path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Whether `got` is what a page shows: line for line, a `…` line standing for any number of
/// lines (at least one).
fn shows(expected: &str, got: &str) -> bool {
    let want: Vec<&str> = expected.trim_end().lines().collect();
    let have: Vec<&str> = got.trim_end().lines().collect();
    match want.iter().position(|l| l.trim() == "…") {
        None => want == have,
        Some(at) => {
            let (head, tail) = (&want[..at], &want[at + 1..]);
            have.len() > head.len() + tail.len() && have.starts_with(head) && have.ends_with(tail)
        }
    }
}

fn run_page(rel: &str, at_least: usize) {
    let page = std::fs::read_to_string(root().join(rel)).unwrap();
    let blocks = blocks(&page);
    assert!(blocks.len() >= at_least, "{rel}: {} blocks", blocks.len());
    for (cmd, expected) in blocks {
        assert!(cmd.starts_with("kmsaudit "), "{rel}: {cmd}");
        let out = sh(&cmd);
        let code = out.status.code().unwrap_or(-1);
        assert!(code <= 1, "{rel}: `{cmd}` exited {code}");
        let got = format!(
            "{}{}",
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap()
        );
        assert!(
            shows(&expected, &got),
            "{rel}:\n$ {cmd}\n--- shown:\n{expected}\n--- printed:\n{got}"
        );
    }
}

#[test]
fn every_readme_command_prints_what_the_readme_shows() {
    run_page("README.md", 4);
}

#[test]
fn every_walkthrough_command_prints_what_the_page_shows() {
    run_page("docs/walkthrough.md", 15);
}

/// The README starts with the two commands a newcomer needs: the first lints the examples and
/// exits 1 (their mistakes are deliberate), never 2; the second is the test suite, which
/// `.ci/run` runs. The README stays under 250 lines.
#[test]
fn the_readme_starts_with_the_two_set_up_commands() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(readme.lines().count() < 250, "{}", readme.lines().count());
    let first = readme.split("```sh\n").nth(1).unwrap();
    let first = &first[..first.find("```").unwrap()];
    let cmds: Vec<&str> = first
        .lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .collect();
    assert_eq!(
        cmds,
        [
            "cargo run --release -- check fixtures/examples/",
            "cargo test"
        ]
    );
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    assert!(
        ci.lines().any(|l| l.trim() == "cargo test"),
        ".ci/run runs `cargo test`"
    );
    // `cargo run --release --` stands for the binary.
    let out = sh("kmsaudit check fixtures/examples/");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stdout.is_empty());
}
