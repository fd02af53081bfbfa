//! The `check` command as users run it: exit codes, formats, selection, stdin, directories.

use super::run;

#[test]
fn three_independent_mistakes_are_all_reported_at_their_tokens() {
    let (code, stdout, stderr) = run(
        &[
            "check",
            "--format",
            "concise",
            "fixtures/mistakes/three-mistakes.json",
        ],
        None,
    );
    assert_eq!(code, 1, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "fixtures/mistakes/three-mistakes.json:14:28: KMS014 principal `arn:aws:iam::111122223333:role/*` has a wildcard inside it: it matches no principal (use `\"Principal\": \"*\"` with an `ArnLike` condition on `aws:PrincipalArn`, or name the principals)",
            "fixtures/mistakes/three-mistakes.json:15:33: KMS010 `kms:Decrpyt` matches no KMS action (did you mean `kms:Decrypt`?)",
            "fixtures/mistakes/three-mistakes.json:18:9: KMS025 duplicate key `StringEquals`: this occurrence is ignored (merge the two into one entry; only the last occurrence of a key counts)",
        ]
    );
    assert!(stderr.contains("1 error, 2 warnings"), "{stderr}");
}

#[test]
fn console_default_key_policy_is_clean() {
    let (code, stdout, _) = run(
        &[
            "check",
            "--format",
            "concise",
            "fixtures/examples/console-default-key-policy.json",
        ],
        None,
    );
    assert_eq!(code, 0);
    // Only notes: the two key administrators control the key (KMS063, R115) and account
    // 444455556666, which the console added as a key user, can use it (KMS056).
    let codes: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split(": ").nth(1)?.split(' ').next())
        .collect();
    assert_eq!(codes, ["KMS063", "KMS063", "KMS056"], "{stdout}");
}

#[test]
fn json_output_carries_version_and_locations() {
    let (code, stdout, _) = run(
        &[
            "check",
            "--format",
            "json",
            "fixtures/mistakes/three-mistakes.json",
        ],
        None,
    );
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["version"], 1);
    let f = &v["findings"][1];
    assert_eq!(f["code"], "KMS010");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["file"], "fixtures/mistakes/three-mistakes.json");
    assert_eq!(f["line"], 15);
    assert_eq!(f["column"], 33);
    assert_eq!(f["help"], "did you mean `kms:Decrypt`?");
    assert_eq!(v["summary"]["errors"], 1);
    assert_eq!(v["summary"]["warnings"], 2);
}

#[test]
fn fail_on_select_and_ignore() {
    let f = "fixtures/mistakes/three-mistakes.json";
    assert_eq!(run(&["check", "-q", "--fail-on", "never", f], None).0, 0);
    assert_eq!(run(&["check", "-q", "--fail-on", "error", f], None).0, 1);
    let (code, out, _) = run(
        &[
            "check",
            "-q",
            "--format",
            "concise",
            "--ignore",
            "KMS014",
            "--fail-on",
            "error",
            f,
        ],
        None,
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.lines().count(), 2);
    let (code, out, _) = run(
        &[
            "check",
            "-q",
            "--format",
            "concise",
            "--select",
            "duplicate-key",
            f,
        ],
        None,
    );
    assert_eq!(code, 1);
    assert_eq!(out.lines().count(), 1);
    assert!(out.contains("KMS025"));
    let (code, _, err) = run(&["check", "--select", "KMS999", f], None);
    assert_eq!(code, 2);
    assert!(err.contains("unknown rule `KMS999`"), "{err}");
    // Info findings fail only with --fail-on info.
    let g = "fixtures/rules/KMS002.json";
    assert_eq!(run(&["check", "-q", g], None).0, 0);
    assert_eq!(run(&["check", "-q", "--fail-on", "info", g], None).0, 1);
}

#[test]
fn reads_standard_input() {
    let policy = std::fs::read(super::fixture("mistakes/three-mistakes.json")).unwrap();
    let (code, out, _) = run(&["check", "--format", "concise", "-"], Some(&policy));
    assert_eq!(code, 1);
    assert!(out.starts_with("<stdin>:14:28: KMS014"), "{out}");
}

#[test]
fn directories_are_walked_and_non_policies_skipped() {
    // The documented policies are quiet; the walkthrough's scenarios (in a subdirectory, walked
    // too) show what goes wrong, as warnings.
    let (code, out, err) = run(&["check", "--format", "concise", "fixtures/examples"], None);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("15 files checked") && err.contains("0 errors"),
        "{err}"
    );
    assert!(
        out.lines().all(|l| l.contains("/walkthrough/")
            || l.contains(" KMS056 ")
            || l.contains(" KMS063 ")),
        "{out}"
    );
    // One bad file does not hide findings in the others, and exit 2 wins.
    let (code, out, _) = run(
        &["check", "--format", "concise", "-q", "fixtures/mistakes"],
        None,
    );
    assert_eq!(code, 2);
    assert!(out.contains("KMS031") && out.contains("KMS014"), "{out}");
    // A named file that is not a policy is an error; found in a walk it is skipped.
    assert_eq!(
        run(
            &["check", "-q", "fixtures/parse-errors/not-a-policy.json"],
            None
        )
        .0,
        2
    );
    let (_, _, err) = run(
        &[
            "check",
            "--exclude",
            "**/not-json.json",
            "fixtures/mistakes",
        ],
        None,
    );
    assert!(err.contains("1 file checked"), "{err}");
}

#[test]
fn get_key_policy_output_is_read() {
    let (code, out, _) = run(
        &[
            "check",
            "--format",
            "concise",
            "fixtures/examples/get-key-policy-output.json",
        ],
        None,
    );
    assert_eq!(code, 0, "{out}");
}

#[test]
fn rules_lists_every_code() {
    let (code, out, _) = run(&["rules"], None);
    assert_eq!(code, 0);
    for c in ["KMS006", "KMS010", "KMS014", "KMS025", "KMS031", "KMS046"] {
        assert!(out.contains(c), "{c}");
    }
    let (_, out, _) = run(&["rules", "--json"], None);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v.as_array().unwrap().len() >= 25);
}

#[test]
fn version_completions_and_manual_page() {
    let (code, out, _) = run(&["--version"], None);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("kmsaudit 0.") && out.contains("KMS service reference of 20"),
        "{out}"
    );
    for (shell, marker) in [
        ("bash", "_kmsaudit()"),
        ("zsh", "#compdef kmsaudit"),
        ("fish", "complete -c kmsaudit"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let (code, out, _) = run(&["completions", shell], None);
        assert_eq!(code, 0, "{shell}");
        assert!(
            out.contains(marker) && out.contains("check-put-policy"),
            "{shell}: {out}"
        );
    }
    let (code, out, _) = run(&["manpage"], None);
    assert_eq!(code, 0);
    assert!(
        out.contains(".TH kmsaudit 1") && out.contains("check"),
        "{out}"
    );
}

/// `kmsaudit check … | head`: a reader that closes the pipe early, whether while the report is
/// written or before the buffered end of it is flushed, ends the run quietly, with the exit
/// status the findings (or answers) call for. So does `can`, one answer or a batch of thousands.
#[test]
fn a_closed_output_pipe_is_not_an_error() {
    use std::io::Read as _;
    let requests = std::fs::read_to_string("fixtures/can/requests.jsonl").unwrap();
    let batch =
        std::env::temp_dir().join(format!("kmsaudit-closed-pipe-{}.jsonl", std::process::id()));
    std::fs::write(&batch, requests.repeat(2_000)).unwrap();
    let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let batch_path = batch.to_str().unwrap();
    // Failing findings in a report larger than the output buffer.
    let many = std::env::temp_dir().join(format!("kmsaudit-closed-pipe-{}", std::process::id()));
    std::fs::create_dir_all(&many).unwrap();
    let mistakes = std::fs::read("fixtures/mistakes/three-mistakes.json").unwrap();
    for i in 0..400 {
        std::fs::write(many.join(format!("p{i:03}.json")), &mistakes).unwrap();
    }
    let many_path = many.to_str().unwrap();
    let mut runs: Vec<Vec<&str>> = [
        ("json", "fixtures"),
        ("sarif", "fixtures"),
        ("junit", "fixtures"),
        ("github", "fixtures"),
        ("human", "fixtures"),
        (
            "concise",
            "fixtures/examples/console-default-key-policy.json",
        ),
        ("json", "fixtures/mistakes/three-mistakes.json"),
        ("concise", many_path),
        ("github", many_path),
    ]
    .into_iter()
    .map(|(format, input)| vec!["check", "--format", format, input])
    .collect();
    for format in ["json", "human"] {
        let policy = "fixtures/cases/policies/F5.json";
        runs.push(vec![
            "can",
            "--requests",
            batch_path,
            "--key",
            key,
            "--key-policy",
            policy,
            "--format",
            format,
        ]);
        runs.push(vec![
            "can",
            "--principal",
            "arn:aws:iam::111122223333:role/App",
            "--action",
            "kms:Decrypt",
            "--key",
            key,
            "--key-policy",
            policy,
            "--format",
            format,
        ]);
    }
    for args in runs {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kmsaudit"))
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 16];
        let _ = stdout.read(&mut first).unwrap();
        drop(stdout);
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(!stderr.contains("error:"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(status.code().is_some(), "{args:?}: ended by a signal");
        // The report was cut short, not the verdict: the status is the one the full run
        // gives (`set -o pipefail` scripts must not see a pass for a failing check).
        let (expected, _, _) = super::run(&args, None);
        assert_eq!(status.code(), Some(expected), "{args:?}: {stderr}");
    }
    // The runs above include failing ones: a closed pipe that always exited 0 would not pass.
    assert_eq!(
        super::run(&["check", "--format", "concise", many_path], None).0,
        1
    );
    let _ = std::fs::remove_dir_all(&many);
    let _ = std::fs::remove_file(&batch);
}

/// The path a decision prints is a name `explain` knows: the classic "IAM allows and still
/// AccessDenied" answer leads to a page on delegation, and an unknown name is a usage error.
#[test]
fn explain_knows_the_path_a_decision_prints() {
    let key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    for (policy, expected) in [
        ("key-no-root-delegation.json", "no statement allows"),
        ("key-deny-outside-endpoint.json", "root delegation + IAM"),
    ] {
        let (_, out, _) = run(
            &[
                "can",
                "--no-trace",
                "--principal",
                "arn:aws:iam::111122223333:role/App",
                "--action",
                "kms:Decrypt",
                "--key",
                key,
                "--key-policy",
                &format!("fixtures/examples/walkthrough/{policy}"),
                "--identity-policy",
                "fixtures/examples/walkthrough/app-iam.json",
                "--context",
                "aws:SourceVpce=vpce-0a1b2c3d4e5f60789",
            ],
            None,
        );
        let path = out
            .lines()
            .find_map(|l| l.strip_prefix("path: "))
            .unwrap_or_else(|| panic!("no path line in {out}"));
        assert_eq!(path, expected);
        let (code, page, _) = run(&["explain", path], None);
        assert_eq!(code, 0, "{page}");
        assert!(page.starts_with(&format!("{path} (")), "{page}");
    }
    let (code, page, _) = run(&["explain", "no-allow"], None);
    assert_eq!(code, 0);
    assert!(page.contains("arn:aws:iam::ACCOUNT:root"), "{page}");
    let (code, list, _) = run(&["explain"], None);
    assert_eq!(code, 0);
    assert!(
        list.contains("root-delegation") && list.contains("scp-gate"),
        "{list}"
    );
    let (code, _, err) = run(&["explain", "6a"], None);
    assert_eq!(code, 2);
    assert!(err.contains("run `kmsaudit explain` to list them"), "{err}");
}
