//! Hostile pull requests: inputs written to hang the run, exhaust memory, forge output or make
//! kmsaudit read what it should not. Each test runs the binary as CI would.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{root, run};

/// A scratch directory of its own for a test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kmsaudit-hostile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the binary with its address space capped at `mib` MiB (`ulimit -v`) and a deadline;
/// a run past the deadline is killed and fails the test rather than hanging it.
fn run_bounded(args: &[&str], mib: u64, deadline: Duration) -> (i32, String, String, Duration) {
    let start = Instant::now();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {} && exec \"$0\" \"$@\"", mib * 1024))
        .arg(env!("CARGO_BIN_EXE_kmsaudit"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} ran past {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let elapsed = start.elapsed();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed,
    )
}

#[test]
fn yaml_alias_bomb_is_refused_in_under_a_second_and_100_mib() {
    let (code, out, err, took) = run_bounded(
        &[
            "check",
            "--no-config",
            "--format",
            "concise",
            "fixtures/hostile/alias-bomb.yaml",
        ],
        100,
        Duration::from_secs(20),
    );
    assert_eq!(code, 2, "refused as an input error: {out}{err}");
    assert!(
        out.contains("alias-bomb.yaml:1:1: KMS033 YAML aliases expand to more than"),
        "{out}{err}"
    );
    assert!(took < Duration::from_secs(1), "took {took:?}");
}

#[test]
fn yaml_aliases_within_the_budget_are_still_expanded() {
    // The same template with one level of aliases: read, and its key policy checked.
    let text = std::fs::read_to_string(root().join("fixtures/hostile/alias-bomb.yaml")).unwrap();
    let small: String = text
        .lines()
        .filter(|l| {
            !l.starts_with("  c:")
                && !l
                    .trim_start()
                    .starts_with(|c: char| ('d'..='i').contains(&c) && l.contains(": &"))
        })
        .collect::<Vec<_>>()
        .join("\n");
    let dir = scratch("aliases");
    let path = dir.join("template.yaml");
    std::fs::write(&path, small).unwrap();
    let (code, out, err) = run(
        &[
            "check",
            "--no-config",
            "--format",
            "concise",
            path.to_str().unwrap(),
        ],
        None,
    );
    assert_ne!(code, 2, "{out}{err}");
    assert!(err.contains("1 policy"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// No output of a format may carry these raw: they forge lines, move the cursor or reorder text.
const RAW: [char; 6] = ['\u{1b}', '\r', '\u{7}', '\u{85}', '\u{202e}', '\u{fffe}'];

fn assert_no_raw(what: &str, out: &str) {
    for c in RAW {
        assert!(
            !out.contains(c),
            "{what}: raw U+{:04X} in\n{out}",
            u32::from(c)
        );
    }
}

/// A minimal well-formedness check of an XML document: only characters XML 1.0 allows, every
/// `&` an entity, tags balanced and properly nested.
fn assert_well_formed_xml(doc: &str) {
    for c in doc.chars() {
        let ok = matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..);
        assert!(ok, "U+{:04X} is not allowed in XML", u32::from(c));
    }
    let mut rest = doc;
    while let Some(i) = rest.find('&') {
        rest = &rest[i + 1..];
        let end = rest.find(';').expect("an entity ends with `;`");
        assert!(
            ["amp", "lt", "gt", "quot", "apos"].contains(&&rest[..end]),
            "unknown entity `{}`",
            &rest[..end]
        );
    }
    let body = doc.trim_start_matches(|c| c != '\n').trim();
    let mut stack: Vec<String> = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find('<') {
        let close = rest[open..].find('>').expect("a tag ends") + open;
        let tag = &rest[open + 1..close];
        assert!(!tag.contains('<'), "`<` inside a tag: {tag}");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "unbalanced </{name}>");
        } else if !tag.ends_with('/') {
            stack.push(tag.split_whitespace().next().unwrap().to_owned());
        }
        rest = &rest[close + 1..];
    }
    assert!(stack.is_empty(), "unclosed {stack:?}");
}

#[test]
fn injected_control_characters_are_escaped_in_every_check_format() {
    // An action that carries GitHub workflow commands, a carriage return, C1 and U+FFFE, a Sid
    // that retitles and clears the terminal with a bidi override, a principal with a line
    // break; and a file whose name carries a workflow command.
    let dir = scratch("injection");
    let forged = dir.join("x\n::error file=forged.json,line=1::forged name\u{1b}[2J.json");
    std::fs::copy(
        root().join("fixtures/mistakes/three-mistakes.json"),
        &forged,
    )
    .unwrap();
    let inputs = [
        "fixtures/hostile/injection-action.json",
        "fixtures/hostile/injection.json",
        forged.to_str().unwrap(),
    ];
    let check = |format: &str| {
        let mut args = vec!["check", "--no-config", "--format", format];
        args.extend(inputs);
        let (code, out, err) = run(&args, None);
        assert_eq!(code, 1, "{format}: {err}");
        if format == "json" || format == "sarif" {
            // Data for programs: the serialiser escapes the C0 controls; the rest is the value.
            assert!(!out.contains(['\u{1b}', '\r', '\u{7}']), "{format}: {out}");
        } else {
            assert_no_raw(format, &out);
        }
        assert_no_raw(&format!("{format} (stderr)"), &err);
        out
    };
    // concise: one line per finding, each starting with its file; nothing else.
    let concise = check("concise");
    for line in concise.lines() {
        assert!(
            line.starts_with("fixtures/hostile/injection")
                || line.starts_with(dir.to_str().unwrap()),
            "a forged line: {line}"
        );
    }
    assert!(
        concise.contains("kms:Decrypt\\n::error file=forged.json,line=1::forged\\r"),
        "{concise}"
    );
    assert!(
        concise.contains("x\\n::error file=forged.json"),
        "{concise}"
    );
    let findings = concise.lines().count();
    assert!(findings >= 5, "{concise}");
    // human: the Sid's escape sequences are shown, not sent.
    let human = check("human");
    assert!(
        human.contains("Title\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{202e}evil\\n::error::forged"),
        "{human}"
    );
    // github: exactly one workflow command per finding, properties and message encoded.
    let github = check("github");
    assert_eq!(github.lines().count(), findings, "{github}");
    for line in github.lines() {
        assert!(
            line.starts_with("::error file=")
                || line.starts_with("::warning file=")
                || line.starts_with("::notice file="),
            "{line}"
        );
    }
    assert!(
        github.contains("kms:Decrypt%0A::error file=forged.json,line=1::forged%0D"),
        "{github}"
    );
    assert!(
        github.contains("x%0A%3A%3Aerror file=forged.json%2Cline=1%3A%3Aforged"),
        "{github}"
    );
    // junit: well-formed XML with U+FFFE and the controls gone.
    let junit = check("junit");
    assert_well_formed_xml(&junit);
    // json and sarif: they parse, and carry the value exactly (the serialiser escapes it).
    let json: serde_json::Value = serde_json::from_str(&check("json")).unwrap();
    let messages: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("kms:Decrypt\n::error file=forged.json")),
        "{messages:?}"
    );
    let sarif: serde_json::Value = serde_json::from_str(&check("sarif")).unwrap();
    let uris: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(
        uris.iter().any(|u| u.ends_with(
            "x%0A%3A%3Aerror%20file%3Dforged.json%2Cline%3D1%3A%3Aforged%20name%1B%5B2J.json"
        )),
        "{uris:?}"
    );
    for u in &uris {
        assert!(u.bytes().all(|b| b.is_ascii_graphic()), "{u}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn injected_names_cannot_add_graph_statements_or_table_lines() {
    let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let graph = |format: &str| {
        let (code, out, err) = run(
            &[
                "graph",
                "--format",
                format,
                "--key",
                key,
                "--key-policy",
                "fixtures/hostile/injection.json",
            ],
            None,
        );
        assert_eq!(code, 0, "{err}");
        assert_no_raw(format, &out);
        out
    };
    // Mermaid: every line is a statement kmsaudit writes; a principal's line break is escaped.
    let mermaid = graph("mermaid");
    assert!(mermaid.contains("secret\\r"), "{mermaid}");
    for line in mermaid.lines().skip(1) {
        let t = line.trim_start();
        assert!(
            t.starts_with('n')
                || t.starts_with("legend_")
                || t.starts_with("subgraph ")
                || t == "end"
                || t.starts_with("classDef "),
            "a forged statement: {line}"
        );
        assert!(!t.contains("::add-mask"), "{line}");
    }
    // DOT: every node and edge line is one statement; quotes balanced on each line.
    let dot = graph("dot");
    assert!(
        dot.contains("role/App\\\\n::add-mask::secret\\\\r"),
        "{dot}"
    );
    for line in dot.lines() {
        let unescaped_quotes = line
            .replace("\\\\", "")
            .replace("\\\"", "")
            .matches('"')
            .count();
        assert_eq!(unescaped_quotes % 2, 0, "{line}");
    }
    // can's tree: the Sid and the principal are escaped inside their lines.
    let (code, tree, err) = run(
        &[
            "can",
            "--principal",
            "arn:aws:iam::111122223333:role/App",
            "--action",
            "kms:Decrypt",
            "--key",
            key,
            "--key-policy",
            "fixtures/hostile/injection.json",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert_no_raw("can", &tree);
    assert!(
        tree.contains("decided by: injection.json#Title\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{202e}evil\\n::error::forged"),
        "{tree}"
    );
    assert!(!tree.lines().any(|l| l.starts_with("::")), "{tree}");
    // who-can's table: the principal is one escaped cell.
    let (code, table, err) = run(
        &[
            "who-can",
            "--action",
            "kms:Decrypt",
            "--key",
            key,
            "--key-policy",
            "fixtures/hostile/injection.json",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert_no_raw("who-can", &table);
    assert!(table.contains("role/App\\n::add-mask::secret"), "{table}");
    assert!(!table.lines().any(|l| l.starts_with("::")), "{table}");
}

#[cfg(unix)]
#[test]
fn walks_finish_on_fifos_and_links_and_report_what_they_do_not_read() {
    use std::os::unix::fs::symlink;
    let dir = scratch("walk");
    let tree = dir.join("repo");
    std::fs::create_dir_all(tree.join("policies")).unwrap();
    let policy = root().join("fixtures/mistakes/three-mistakes.json");
    std::fs::copy(&policy, tree.join("policies/real.json")).unwrap();
    // A named pipe named like a policy: opening it would wait for a writer forever.
    let fifo = tree.join("policies/pipe.json");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    // Links: to the run's own output, to a file outside the tree, to a file inside it.
    symlink("/proc/self/fd/1", tree.join("policies/stdout.json")).unwrap();
    let outside = dir.join("secret.json");
    std::fs::copy(&policy, &outside).unwrap();
    symlink(&outside, tree.join("policies/outside.json")).unwrap();
    symlink(
        tree.join("policies/real.json"),
        tree.join("policies/inside.json"),
    )
    .unwrap();
    // A policy 70 directories down.
    let mut deep = tree.clone();
    for i in 0..70 {
        deep.push(format!("d{i}"));
    }
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::copy(&policy, deep.join("deep.json")).unwrap();
    let tree_arg = tree.to_str().unwrap();
    for follow in [false, true] {
        let mut args = vec!["check", "--no-config", "--format", "concise", tree_arg];
        if follow {
            args.push("--follow");
        }
        let (code, out, err, _) = run_bounded(&args, 1024, Duration::from_secs(60));
        // The pipe and the deep file are errors: the run cannot vouch for the tree.
        assert_eq!(code, 2, "{out}{err}");
        assert!(err.contains("pipe.json`: not a regular file"), "{err}");
        assert!(err.contains("more than 64 directories deep"), "{err}");
        // Nothing outside the tree is read or quoted.
        assert!(
            !out.contains("secret.json") && !out.contains("outside.json"),
            "{out}"
        );
        assert!(out.contains("real.json:15:33: KMS010"), "{out}");
        if follow {
            assert!(out.contains("inside.json:15:33: KMS010"), "{out}");
            assert!(err.contains("outside.json`: a symbolic link to"), "{err}");
            // `/proc/self/fd/1` is the run's own output: a pipe, not a file in the tree.
            assert!(err.contains("stdout.json`: a symbolic link"), "{err}");
        } else {
            assert!(!out.contains("inside.json"), "{out}");
            for name in ["inside.json", "outside.json", "stdout.json"] {
                assert!(
                    err.contains(&format!("{name}`: a symbolic link: not followed")),
                    "{name}: {err}"
                );
            }
            assert!(err.contains("3 entries not read"), "{err}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn a_link_named_on_the_command_line_is_not_read_outside_the_working_directory() {
    // A pre-commit hook names every committed file, links included: a committed link to a
    // file outside the repository must not be read and quoted in the report.
    use std::os::unix::fs::symlink;
    let dir = scratch("named-link");
    let policy = root().join("fixtures/mistakes/three-mistakes.json");
    let outside_dir = std::env::temp_dir().join(format!("kmsaudit-outside-{}", std::process::id()));
    std::fs::create_dir_all(&outside_dir).unwrap();
    let outside = outside_dir.join("secret.json");
    std::fs::copy(&policy, &outside).unwrap();
    let to_outside = dir.join("committed-outside.json");
    let to_inside = dir.join("committed-inside.json");
    symlink(&outside, &to_outside).unwrap();
    symlink(&policy, &to_inside).unwrap();
    let (code, out, err, _) = run_bounded(
        &[
            "check",
            "--no-config",
            "--format",
            "concise",
            to_outside.to_str().unwrap(),
            to_inside.to_str().unwrap(),
        ],
        1024,
        Duration::from_secs(60),
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("committed-outside.json`: a symbolic link to"),
        "{err}"
    );
    assert!(!out.contains("committed-outside.json"), "{out}");
    // A link that stays inside the working directory is read as the file it names.
    assert!(out.contains("committed-inside.json:15:33: KMS010"), "{out}");
    let _ = std::fs::remove_dir_all(&outside_dir);
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn devices_and_pipes_are_refused_wherever_a_file_is_read() {
    let dir = scratch("devices");
    let fifo = dir.join("pipe");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let fifo = fifo.to_str().unwrap();
    let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let policy = "fixtures/examples/console-default-key-policy.json";
    let runs: Vec<Vec<&str>> = vec![
        vec!["check", "--no-config", "--format", "concise", "/dev/zero"],
        vec!["check", "--no-config", "--format", "concise", fifo],
        vec!["check", "--no-config", "--baseline", "/dev/zero", policy],
        vec!["check", "--no-config", "--baseline", fifo, policy],
        vec!["check", "--config", "/dev/zero", policy],
        vec!["check", "--config", fifo, policy],
        vec![
            "can",
            "--requests",
            "/dev/zero",
            "--key",
            key,
            "--key-policy",
            policy,
        ],
        vec![
            "can",
            "--requests",
            fifo,
            "--key",
            key,
            "--key-policy",
            policy,
        ],
    ];
    for args in runs {
        let (code, out, err, _) = run_bounded(&args, 1024, Duration::from_secs(30));
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        let said = format!("{out}{err}");
        assert!(
            said.contains("it is a device, not a regular file")
                || said.contains("it is a named pipe, not a regular file"),
            "{args:?}: {said}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs the binary in `dir`.
fn run_in(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kmsaudit"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn configuration_discovery_stops_at_the_repository_root_and_the_summary_names_the_file() {
    let dir = scratch("config");
    let repo = dir.join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::create_dir_all(repo.join("sub")).unwrap();
    std::fs::copy(
        root().join("fixtures/rules/KMS005.json"),
        repo.join("sub/public.json"),
    )
    .unwrap();
    // Above the checkout: a file that would silence the public-key finding.
    std::fs::write(dir.join("kmsaudit.toml"), "ignore = [\"KMS005\"]\n").unwrap();
    let args = ["check", "--format", "concise", "public.json"];
    let (code, out, err) = run_in(&repo.join("sub"), &args);
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(out.matches(": KMS005 ").count(), 2, "{out}");
    assert!(!err.contains("config"), "{err}");
    // Inside the repository it is read, and the summary says which file took out what.
    std::fs::rename(dir.join("kmsaudit.toml"), repo.join("kmsaudit.toml")).unwrap();
    let (code, out, err) = run_in(&repo.join("sub"), &args);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("KMS005"), "{out}");
    let named = format!(
        "config `{}` (0 suppressed, 2 ignored)",
        repo.join("kmsaudit.toml").display()
    );
    assert!(err.contains(&named), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn the_baseline_is_replaced_whole_and_never_written_through_a_link_out_of_the_tree() {
    use std::os::unix::fs::symlink;
    let dir = scratch("baseline");
    let repo = dir.join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::copy(
        root().join("fixtures/rules/KMS005.json"),
        repo.join("public.json"),
    )
    .unwrap();
    let write = |target: &str| {
        run_in(
            &repo,
            &[
                "check",
                "--no-config",
                "--write-baseline",
                target,
                "public.json",
            ],
        )
    };
    // Replaced, not rewritten in place: a second name for the old file keeps the old text
    // (what a reader, or a run killed half-way, sees is the old file or the new, never part).
    std::fs::write(repo.join("baseline.json"), "old").unwrap();
    std::fs::hard_link(repo.join("baseline.json"), dir.join("old-name.json")).unwrap();
    let (code, _, err) = write("baseline.json");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("old-name.json")).unwrap(),
        "old"
    );
    let new = std::fs::read_to_string(repo.join("baseline.json")).unwrap();
    assert!(new.contains("\"fingerprints\""), "{new}");
    assert!(
        !std::fs::read_dir(&repo).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains(".tmp")),
        "no temporary file is left"
    );
    // A committed link to a file outside the tree is refused, and that file is untouched.
    std::fs::write(dir.join("victim"), "precious").unwrap();
    symlink(dir.join("victim"), repo.join("evil.json")).unwrap();
    let (code, _, err) = write("evil.json");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("outside the working tree"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("victim")).unwrap(),
        "precious"
    );
    // A link inside the tree is written through, and stays a link.
    std::fs::create_dir_all(repo.join("ci")).unwrap();
    symlink("ci/kept.json", repo.join("link.json")).unwrap();
    let (code, _, err) = write("link.json");
    assert_eq!(code, 0, "{err}");
    assert!(
        std::fs::symlink_metadata(repo.join("link.json"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(repo.join("ci/kept.json"))
            .unwrap()
            .contains("\"fingerprints\"")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_public_key_policy_in_modules_nested_20_deep_is_reported() {
    let (code, out, err) = run(
        &[
            "check",
            "--no-config",
            "--format",
            "concise",
            "fixtures/hostile/state-modules-20-deep.json",
        ],
        None,
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(": KMS005 any principal of any AWS account can call kms:Decrypt"),
        "{out}"
    );
    assert!(err.contains("1 policy"), "{err}");
}

#[test]
fn r133_without_the_configuration_a_policy_unknown_until_apply_is_not_taken_for_the_default() {
    // The committed plan, less its `configuration` block: whether the keys in the module set a
    // policy can no longer be told, so their policies are unknown, not AWS's default.
    let plan = "fixtures/hostile/plan-without-configuration.json";
    let key = "module.keys[\"a\"].aws_kms_key.this";
    let (_, out, err) = run(&["check", "--no-config", "--format", "concise", plan], None);
    assert!(
        out.contains(&format!(
            "KMS051 the policy of `{key}` is known only after apply"
        )),
        "{out}"
    );
    assert!(
        !out.contains(&format!("KMS059 `{key}` has no key policy")),
        "{out}"
    );
    assert!(
        err.contains("4 key policies could not be checked (known only after apply)"),
        "{err}"
    );
    // With the configuration, the same key sets no policy: the default applies (R117, even
    // for a module instance of `for_each`).
    let (_, out, _) = run(
        &[
            "check",
            "--no-config",
            "--format",
            "concise",
            "fixtures/terraform/kms-basic/plan.json",
        ],
        None,
    );
    assert!(
        out.contains(&format!("KMS059 `{key}` has no key policy")),
        "{out}"
    );
}

#[test]
fn fail_on_unchecked_fails_a_run_with_a_key_policy_known_only_after_apply() {
    let plan = "fixtures/terraform/kms-basic/plan.json";
    let base = [
        "check",
        "--no-config",
        "--format",
        "concise",
        "--fail-on",
        "never",
        plan,
    ];
    let (code, _, err) = run(&base, None);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("1 key policy could not be checked (known only after apply)"),
        "{err}"
    );
    let mut strict = base.to_vec();
    strict.push("--fail-on-unchecked");
    let (code, _, err) = run(&strict, None);
    assert_eq!(code, 1, "{err}");
    // A plan whose key policies are all known passes the switch.
    let (code, _, err) = run(
        &[
            "check",
            "--no-config",
            "--format",
            "concise",
            "--fail-on",
            "never",
            "--fail-on-unchecked",
            "fixtures/hostile/state-modules-20-deep.json",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
}

#[test]
fn r133_a_policy_set_in_a_module_17_deep_is_unknown_until_apply_not_the_default() {
    // The configuration sets the policy from a data source, 17 modules down: unknown at plan
    // time, so not checked, counted, and failing with `--fail-on-unchecked`.
    let plan = "fixtures/hostile/plan-modules-17-deep.json";
    let (code, out, err) = run(
        &[
            "check",
            "--no-config",
            "--format",
            "concise",
            "--fail-on",
            "error",
            "--fail-on-unchecked",
            plan,
        ],
        None,
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(": KMS051 the policy of `module.m0.module.m1."),
        "{out}"
    );
    assert!(!out.contains("KMS059"), "not the default policy: {out}");
    assert!(err.contains("1 key policy could not be checked"), "{err}");
}

/// Found by the fuzzer: a rule's help quoting a condition key with a line break in it must
/// not start a line of its own in the human format (a forged `::error` workflow command).
#[test]
fn a_line_break_in_help_text_is_escaped_in_the_human_format() {
    let file = "fixtures/regressions/human-help-line-break-in-condition-key.json";
    let (code, out, err) = super::run(&["check", "--no-config", "--format", "human", file], None);
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("help:"), "{out}");
    for line in out.lines() {
        assert!(
            !line.trim_start().starts_with("::error"),
            "a forged line: {line:?}\n{out}"
        );
    }
}
