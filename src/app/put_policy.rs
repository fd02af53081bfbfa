//! `kmsaudit check-put-policy`: the lockout safety check of CreateKey, PutKeyPolicy and
//! ReplicateKey, run before deploy (spec R111, R112, E71).
//!
//! AWS rejects a new key policy (without `BypassPolicyLockoutSafetyCheck`) when it would not
//! let the calling principal call `kms:PutKeyPolicy` afterwards. This runs that request —
//! the caller, `kms:PutKeyPolicy`, the key with the new policy, no bypass flag — through the
//! same evaluation as `can`, with the caller's IAM policies when they are given.

use std::io::{self, Write};

use super::can;
use super::outcome::{Exit, Failure, fail, finish, unless_reader_gone};
use crate::cli::{CanArgs, CanFormat, Cli, Command, PutPolicyArgs};
use crate::eval::{Caller, Decision};
use crate::report;
use crate::source::SourceMap;

/// The verdict words.
fn verdict(d: Decision) -> &'static str {
    match d {
        Decision::Allow => "passes",
        Decision::Undetermined => "undetermined",
        Decision::ExplicitDeny | Decision::ImplicitDeny => "would-be-rejected",
    }
}

/// `kmsaudit check-put-policy`. Exit 0 when the policy passes the check, 1 when it would be
/// rejected or the answer hinges on what is not known, 2 on a usage or input error.
pub(crate) fn check_put_policy(
    args: &PutPolicyArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> io::Result<Exit> {
    let mut sources = SourceMap::new();
    let result = run(args, &mut sources, stdout);
    finish(result, &sources, stderr)
}

/// The settings step: the `can` request this check runs — the caller, `kms:PutKeyPolicy`,
/// the key with the new policy, no bypass flag — with the caller's IAM policies, boundary and
/// SCPs when they are given.
fn request(args: &PutPolicyArgs) -> Result<Box<CanArgs>, Failure> {
    let caller = Caller::parse(&args.caller, None).map_err(fail)?;
    if caller.account.is_empty() {
        return Err(fail(format!(
            "`{}`: the caller must be an IAM principal of an account",
            args.caller
        )));
    }
    let key = args.key.clone().unwrap_or_else(|| {
        format!(
            "arn:{}:kms:{}:{}:key/00000000-0000-0000-0000-000000000000",
            caller.partition, args.region, caller.account
        )
    });
    // The same request `can` answers; the flags are spelled out so every input is read the
    // way `can` reads it.
    let mut argv: Vec<std::ffi::OsString> = vec![
        "kmsaudit".into(),
        "can".into(),
        "--principal".into(),
        args.caller.clone().into(),
        "--action".into(),
        "kms:PutKeyPolicy".into(),
        "--key".into(),
        key.into(),
        "--key-policy".into(),
        args.policy.clone().into(),
        "--key-manager".into(),
        "customer".into(),
    ];
    for p in &args.identity_policy {
        argv.push("--identity-policy".into());
        argv.push(p.clone().into());
    }
    if args.identity_policy.is_empty() {
        // Unknown unless authorization details among the files hold the caller.
        argv.push("--identity-unknown".into());
    }
    if let Some(b) = &args.boundary {
        argv.push("--boundary".into());
        argv.push(b.clone().into());
    }
    for p in &args.scp {
        argv.push("--scp".into());
        argv.push(p.clone().into());
    }
    if args.no_trace {
        argv.push("--no-trace".into());
    }
    argv.push("--".into());
    argv.extend(args.files.iter().map(|f| f.clone().into()));
    let cli = <Cli as clap::Parser>::try_parse_from(argv)
        .map_err(|e| fail(format!("cannot build the request: {e}")))?;
    let Command::Can(can_args) = cli.command else {
        return Err(fail("cannot build the request"));
    };
    Ok(can_args)
}

fn run(
    args: &PutPolicyArgs,
    sources: &mut SourceMap,
    out: &mut dyn Write,
) -> Result<Exit, Failure> {
    let can_args = request(args)?;
    let (mut ev, req) = can::answer(&can_args, sources)?;
    if args.no_trace {
        for c in &mut ev.checks {
            c.steps.clear();
        }
    }
    let v = verdict(ev.decision);
    let sentence = match ev.decision {
        Decision::Allow => format!(
            "passes: `{}` can still call kms:PutKeyPolicy under the new policy, so AWS accepts it without the bypass flag",
            args.caller
        ),
        Decision::Undetermined => format!(
            "undetermined: the new policy passes only if `{}`'s IAM policies allow kms:PutKeyPolicy on the key — give them with `--identity-policy` or authorization details",
            args.caller
        ),
        Decision::ExplicitDeny | Decision::ImplicitDeny => format!(
            "would be rejected: the new policy would not let `{}` call kms:PutKeyPolicy afterwards, so CreateKey/PutKeyPolicy fail with MalformedPolicyDocumentException unless BypassPolicyLockoutSafetyCheck is set — and setting it risks an unmanageable key",
            args.caller
        ),
    };
    let written = match args.format {
        CanFormat::Human => writeln!(out, "{sentence}\n")
            .and_then(|()| report::can::render_human(&ev, &req, sources, out)),
        CanFormat::Json => {
            let mut buf = Vec::new();
            report::can::render_json(&ev, &req, sources, &mut buf)?;
            let mut value: serde_json::Value = serde_json::from_slice(&buf)
                .map_err(|e| fail(format!("cannot write the answer: {e}")))?;
            if let Some(obj) = value.as_object_mut() {
                obj.insert("verdict".into(), v.into());
                obj.insert("summary".into(), sentence.clone().into());
            }
            serde_json::to_writer_pretty(&mut *out, &value)
                .map_err(io::Error::from)
                .and_then(|()| writeln!(out))
        }
    };
    // A reader that has gone (`… | head`) is not an error; the status is still the answer's.
    unless_reader_gone(written)?;
    Ok(Exit::failing_if(ev.decision != Decision::Allow))
}
