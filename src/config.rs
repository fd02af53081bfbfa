//! `kmsaudit.toml`: what a team tells `check` about its estate, and the findings it accepts.
//!
//! Found by walking up from the working directory (or given with `--config`). Holds the
//! accounts and organisation the exposure rules trust, key administrators, the minimum
//! deletion window, rule selection and severities, and suppressions — each naming a rule, a
//! target (a finding's fingerprint, or a key and optionally a statement) and a reason, with an
//! optional expiry date. Unknown keys are errors with their line and column; an expired
//! suppression no longer suppresses and is a finding of its own (`KMS061`).
//!
//! ```toml
//! trusted_accounts = ["444455556666"]
//! organisation = "o-a1b2c3d4e5"
//! admins = ["arn:aws:iam::111122223333:role/KeyAdmin"]
//! min_deletion_window = 14
//! deployer = "arn:aws:iam::111122223333:role/Deployer"
//! ignore = ["KMS020"]
//!
//! [severity]
//! KMS057 = "warning"
//!
//! [[suppress]]
//! rule = "KMS005"
//! key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
//! statement = "PublicReadViaS3"
//! reason = "bucket objects are public by design (ticket SEC-42)"
//! expires = "2027-06-30"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::diag::{Finding, Rule, Severity};
use crate::lint::Config as RuleConfig;
use crate::lint::expired_suppression::EXPIRED_SUPPRESSION;
use crate::lint::invalid_config::INVALID_CONFIG;
use crate::source::{SourceFile, SourceMap, Span};

/// The file name looked for.
pub(crate) const FILE_NAME: &str = "kmsaudit.toml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    trusted_accounts: Option<Vec<String>>,
    #[serde(alias = "organization")]
    organisation: Option<String>,
    admins: Option<Vec<String>>,
    min_deletion_window: Option<u64>,
    deployer: Option<String>,
    select: Option<Vec<Spanned<String>>>,
    ignore: Option<Vec<Spanned<String>>>,
    severity: Option<BTreeMap<String, Spanned<String>>>,
    suppress: Option<Vec<Spanned<RawSuppression>>>,
    guard: Option<Vec<Spanned<RawGuard>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGuard {
    name: String,
    keys: Vec<String>,
    actions: Vec<String>,
    only: Option<Vec<String>>,
    deny_outside_org: Option<String>,
    require: Option<RawRequire>,
    severity: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequire {
    action: String,
    by_any_of: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuppression {
    rule: Spanned<String>,
    fingerprint: Option<String>,
    key: Option<String>,
    statement: Option<String>,
    reason: String,
    expires: Option<Spanned<String>>,
}

/// One suppression.
#[derive(Debug, Clone)]
pub(crate) struct Suppression {
    /// The rule.
    pub(crate) rule: &'static Rule,
    /// A finding's fingerprint.
    pub(crate) fingerprint: Option<String>,
    /// A key (or policy) identity, as fingerprints use it.
    pub(crate) key: Option<String>,
    /// A statement's `Sid` (or `#n`).
    pub(crate) statement: Option<String>,
    /// Why it is accepted.
    pub(crate) reason: String,
    /// `YYYY-MM-DD`.
    pub(crate) expires: Option<String>,
    /// Where it is written.
    pub(crate) span: Span,
}

impl Suppression {
    /// True when it names this finding.
    pub(crate) fn matches(&self, f: &Finding) -> bool {
        if !std::ptr::eq(self.rule, f.rule) {
            return false;
        }
        if let Some(fp) = &self.fingerprint {
            return f.fingerprint.as_deref() == Some(fp.as_str());
        }
        let Some(about) = &f.about else { return false };
        self.key.as_deref() == Some(about.identity.as_str())
            && self
                .statement
                .as_deref()
                .is_none_or(|s| s == about.statement)
    }
}

/// A loaded configuration.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    /// What the rules read.
    pub(crate) rules: RuleConfig,
    /// Rules to report only.
    pub(crate) select: Vec<&'static Rule>,
    /// Rules not to report.
    pub(crate) ignore: Vec<&'static Rule>,
    /// Severity overrides.
    pub(crate) severity: Vec<(&'static Rule, Severity)>,
    /// Suppressions in force.
    pub(crate) suppressions: Vec<Suppression>,
    /// Expired suppressions, as findings.
    pub(crate) expired: Vec<Finding>,
    /// The file, when one was read.
    pub(crate) path: Option<PathBuf>,
    /// The `[[guard]]` rules, checked by `check` on the inputs as a whole.
    pub(crate) guards: Vec<crate::diff::guard::Guard>,
}

/// Walks up from `dir` to the first `kmsaudit.toml`, stopping at the repository root (the
/// first directory holding `.git`, a directory or a worktree's file): a file above the
/// checkout (a shared runner's `/tmp`, another project's home) is never read. Outside a
/// repository the walk goes up to the file-system root.
pub(crate) fn find(dir: &Path) -> Option<PathBuf> {
    for d in dir.ancestors() {
        let p = d.join(FILE_NAME);
        if p.is_file() {
            return Some(p);
        }
        if d.join(".git").exists() {
            return None;
        }
    }
    None
}

/// Today's date in UTC, `YYYY-MM-DD`.
pub(crate) fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut date = crate::eval::iso8601(i64::try_from(secs).unwrap_or(0));
    date.truncate("YYYY-MM-DD".len());
    date
}

/// Whether `s` is a calendar date written `YYYY-MM-DD`: a month of the year, a day of that
/// month (29 February only in a leap year).
fn valid_date(s: &str) -> bool {
    let b = s.as_bytes();
    let shaped = b.len() == 10
        && b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && s.chars()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    let number = |r: std::ops::Range<usize>| s.get(r).and_then(|p| p.parse::<u32>().ok());
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    shaped && (1..=days).contains(&day)
}

fn severity_named(s: &str) -> Option<Severity> {
    match s {
        "error" => Some(Severity::Error),
        "warning" => Some(Severity::Warning),
        "info" => Some(Severity::Info),
        _ => None,
    }
}

/// Reads a configuration file. Problems come back as findings in the file (exit code 2).
pub(crate) fn load(
    path: &Path,
    today: &str,
    sources: &mut SourceMap,
) -> Result<Loaded, Vec<Finding>> {
    let name = path.display().to_string();
    // Through the one capped reader: a `kmsaudit.toml` that is a device or a named pipe (or
    // a symbolic link to one) is refused, not read forever.
    let text = match crate::input::capped::read_text(path, crate::input::DEFAULT_MAX_FILE_SIZE) {
        Ok(t) => t,
        Err(e) => {
            let id = sources.add(SourceFile::new(name.clone(), "", None));
            return Err(vec![
                Finding::new(
                    &INVALID_CONFIG,
                    id,
                    Span::point(0),
                    format!("cannot read `{name}`: {e}"),
                    "here",
                )
                .help("check the path given with `--config`"),
            ]);
        }
    };
    let id = sources.add(SourceFile::new(name, text.as_str(), None));
    let problem = |span: Span, message: String, help: &str| {
        Finding::new(&INVALID_CONFIG, id, span, message, "here").help(help.to_owned())
    };
    let raw: RawConfig = toml::from_str(&text).map_err(|e| {
        let span = e
            .span()
            .map_or(Span::point(0), |r| Span::new(r.start, r.end.max(r.start + 1)));
        vec![problem(
            span,
            format!("invalid configuration: {}", e.message().trim()),
            "the keys are trusted_accounts, organisation, admins, min_deletion_window, deployer, select, ignore, [severity], [[suppress]] (rule, fingerprint or key and statement, reason, expires) and [[guard]] (name, keys, actions, only or deny_outside_org or require, severity)",
        )]
    })?;
    let mut errors = Vec::new();
    let rule_at = |s: &Spanned<String>, errors: &mut Vec<Finding>| -> Option<&'static Rule> {
        let r = crate::lint::rule(s.get_ref().trim());
        if r.is_none() {
            let span = s.span();
            errors.push(problem(
                Span::new(span.start, span.end),
                format!("unknown rule `{}`", s.get_ref()),
                "run `kmsaudit rule --all` to list the rules",
            ));
        }
        r
    };
    let mut out = Loaded {
        path: Some(path.to_path_buf()),
        ..Loaded::default()
    };
    out.select = raw
        .select
        .iter()
        .flatten()
        .filter_map(|s| rule_at(s, &mut errors))
        .collect();
    out.ignore = raw
        .ignore
        .iter()
        .flatten()
        .filter_map(|s| rule_at(s, &mut errors))
        .collect();
    let mut severities = Vec::new();
    for (code, sev) in raw.severity.iter().flatten() {
        let spanned = Spanned::new(sev.span(), code.clone());
        let Some(rule) = rule_at(&spanned, &mut errors) else {
            continue;
        };
        match severity_named(sev.get_ref()) {
            Some(s) => severities.push((rule, s)),
            None => {
                let span = sev.span();
                errors.push(problem(
                    Span::new(span.start, span.end),
                    format!("unknown severity `{}`", sev.get_ref()),
                    "use `error`, `warning` or `info`",
                ));
            }
        }
    }
    out.severity = severities;
    let suppressions = read_suppressions(raw.suppress, &problem, &rule_at, &mut errors);
    out.guards = read_guards(raw.guard, id, &problem, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    for s in suppressions {
        match &s.expires {
            Some(e) if e.as_str() < today => out.expired.push(
                Finding::new(
                    &EXPIRED_SUPPRESSION,
                    id,
                    s.span,
                    format!(
                        "the suppression of {} expired on {e} (\"{}\"): its findings are reported again",
                        s.rule.code, s.reason
                    ),
                    "expired",
                )
                .help("fix the findings and remove the suppression, or review it and set a new `expires`"),
            ),
            _ => out.suppressions.push(s),
        }
    }
    out.rules = RuleConfig {
        min_deletion_window: raw
            .min_deletion_window
            .unwrap_or(RuleConfig::DEFAULT.min_deletion_window),
        deployer: raw.deployer,
        trusted_accounts: raw.trusted_accounts.unwrap_or_default(),
        organisation: raw.organisation,
        admins: raw.admins.unwrap_or_default(),
        run: RuleConfig::DEFAULT.run,
    };
    Ok(out)
}

/// The `[[guard]]` entries, each checked: one demand (`only`, `deny_outside_org` or
/// `require`), keys and actions, and a known severity. Problems go to `errors`.
fn read_guards(
    guards: Option<Vec<Spanned<RawGuard>>>,
    id: crate::source::SourceId,
    problem: &impl Fn(Span, String, &str) -> Finding,
    errors: &mut Vec<Finding>,
) -> Vec<crate::diff::guard::Guard> {
    use crate::diff::guard::{Demand, Guard};
    let mut out = Vec::new();
    for g in guards.into_iter().flatten() {
        let span = g.span();
        let span = Span::new(span.start, span.end);
        let g = g.into_inner();
        let mut demands = Vec::new();
        if let Some(only) = g.only {
            demands.push(Demand::Only(only));
        }
        if let Some(org) = g.deny_outside_org {
            demands.push(Demand::DenyOutsideOrg(org));
        }
        if let Some(r) = g.require {
            demands.push(Demand::Require {
                action: r.action,
                by_any_of: r.by_any_of,
            });
        }
        if demands.len() != 1 {
            errors.push(problem(
                span,
                format!(
                    "guard `{}` must have exactly one of `only`, `deny_outside_org` and `require`",
                    g.name
                ),
                "split it into one guard per demand",
            ));
            continue;
        }
        let Some(demand) = demands.pop() else {
            continue;
        };
        let severity = match &g.severity {
            None => Severity::Error,
            Some(s) => match severity_named(s.get_ref()) {
                Some(v) => v,
                None => {
                    let ss = s.span();
                    errors.push(problem(
                        Span::new(ss.start, ss.end),
                        format!("unknown severity `{}`", s.get_ref()),
                        "use `error`, `warning` or `info`",
                    ));
                    continue;
                }
            },
        };
        if g.keys.is_empty() || g.actions.is_empty() {
            errors.push(problem(
                span,
                format!("guard `{}` names no keys or no actions", g.name),
                "list `keys` (ARNs, aliases, addresses, globs; `*` for all) and `actions`",
            ));
            continue;
        }
        out.push(Guard {
            name: g.name,
            keys: g.keys,
            actions: g.actions,
            demand,
            severity,
            source: id,
            span,
        });
    }
    out
}

/// The `[[suppress]]` entries, each checked: a known rule, a target, a reason and a valid
/// `expires` date. Problems go to `errors`.
fn read_suppressions(
    suppress: Option<Vec<Spanned<RawSuppression>>>,
    problem: &impl Fn(Span, String, &str) -> Finding,
    rule_at: &impl Fn(&Spanned<String>, &mut Vec<Finding>) -> Option<&'static Rule>,
    errors: &mut Vec<Finding>,
) -> Vec<Suppression> {
    let mut suppressions = Vec::new();
    for s in suppress.into_iter().flatten() {
        let span = s.span();
        let span = Span::new(span.start, span.end);
        let s = s.into_inner();
        let Some(rule) = rule_at(&s.rule, errors) else {
            continue;
        };
        if s.fingerprint.is_none() && s.key.is_none() {
            errors.push(problem(
                span,
                "a suppression must name its target: `fingerprint`, or `key` (and optionally `statement`)".into(),
                "copy the fingerprint from `check --format json`",
            ));
            continue;
        }
        if s.reason.trim().is_empty() {
            errors.push(problem(
                span,
                "a suppression needs a `reason`".into(),
                "say why the finding is accepted",
            ));
            continue;
        }
        if let Some(e) = &s.expires {
            if !valid_date(e.get_ref()) {
                let es = e.span();
                errors.push(problem(
                    Span::new(es.start, es.end),
                    format!("`{}` is not a date", e.get_ref()),
                    "write `expires = \"YYYY-MM-DD\"`",
                ));
                continue;
            }
        }
        suppressions.push(Suppression {
            rule,
            fingerprint: s.fingerprint,
            key: s.key,
            statement: s.statement,
            reason: s.reason,
            expires: s.expires.map(Spanned::into_inner),
            span,
        });
    }
    suppressions
}
