//! The settings step of `check`: every flag is read and validated once, before any input is;
//! a wrong flag ends the run (exit 2) with nothing read.

use std::io::IsTerminal;

use globset::{Glob, GlobSetBuilder};

use crate::cli::{CheckArgs, FailOn, FormatArg, PolicyKindArg};
use crate::diag::{Rule, Severity};
use crate::input::{InputKind, InputOptions, TemplateContext};
use crate::lint;
use crate::policy::{ParseOptions, PolicyKind};
use crate::report::{Format, HumanOptions};

/// Validated settings of `check`.
#[derive(Debug)]
pub(super) struct CheckSettings {
    /// The report's format, and how the human one looks.
    pub(super) format: Format,
    pub(super) human: HumanOptions,
    /// The lowest severity that fails the run (`--fail-on`; none with `never`).
    pub(super) threshold: Option<Severity>,
    /// `--select` and `--ignore` (empty: the configuration's lists apply).
    pub(super) select: Vec<&'static Rule>,
    pub(super) ignore: Vec<&'static Rule>,
    /// `--exclude`.
    pub(super) exclude: globset::GlobSet,
    /// How every input is read.
    pub(super) opts: InputOptions,
}

impl CheckSettings {
    /// Reads and validates the flags of `check`; the error names the flag that is wrong.
    pub(super) fn from_args(args: &CheckArgs) -> Result<Self, String> {
        let terminal = std::io::stdout().is_terminal();
        let color = use_color(
            terminal,
            std::env::var_os("NO_COLOR").as_deref(),
            std::env::var_os("TERM").as_deref(),
        );
        let format = match args.format {
            Some(FormatArg::Human) => Format::Human,
            Some(FormatArg::Concise) => Format::Concise,
            Some(FormatArg::Json) => Format::Json,
            Some(FormatArg::Sarif) => Format::Sarif,
            Some(FormatArg::Github) => Format::Github,
            Some(FormatArg::Junit) => Format::Junit,
            None if terminal => Format::Human,
            None => Format::Concise,
        };
        let width = terminal_width().unwrap_or(100);
        let threshold = match args.fail_on {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        };
        // The globs are validated first, as they always were.
        let exclude = exclude(&args.exclude)?;
        Ok(Self {
            format,
            human: HumanOptions { color, width },
            threshold,
            select: rules(&args.select)?,
            ignore: rules(&args.ignore)?,
            exclude,
            opts: input_options(args)?,
        })
    }
}

/// The rules a `--select` or `--ignore` list names.
fn rules(list: &[String]) -> Result<Vec<&'static Rule>, String> {
    list.iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            lint::rule(s.trim())
                .ok_or_else(|| format!("unknown rule `{s}`: run `kmsaudit rules` to list them"))
        })
        .collect()
}

/// The `--exclude` globs.
fn exclude(globs: &[String]) -> Result<globset::GlobSet, String> {
    let mut builder = GlobSetBuilder::new();
    for g in globs {
        let glob = Glob::new(g).map_err(|e| format!("invalid `--exclude` glob `{g}`: {e}"))?;
        builder.add(glob);
    }
    builder
        .build()
        .map_err(|e| format!("invalid `--exclude` globs: {e}"))
}

/// How `check` reads every input: `--policy-kind`, `--input-kind`, the place flags and the
/// limits.
fn input_options(args: &CheckArgs) -> Result<InputOptions, String> {
    Ok(InputOptions {
        policy_kind: args.policy_kind.map(|k| match k {
            PolicyKindArg::Key => PolicyKind::Key,
            PolicyKindArg::Identity => PolicyKind::Identity,
            PolicyKindArg::Boundary => PolicyKind::Boundary,
            PolicyKindArg::Session => PolicyKind::Session,
            PolicyKindArg::Scp => PolicyKind::Scp,
            PolicyKindArg::Rcp => PolicyKind::Rcp,
            PolicyKindArg::Vpce => PolicyKind::VpcEndpoint,
        }),
        parse: ParseOptions::default(),
        template: TemplateContext {
            stand_in_account: true,
            ..template_context(&args.place)?
        },
        input_kind: match &args.input_kind {
            Some(k) => Some(InputKind::from_name(k).ok_or_else(|| {
                let names: Vec<&str> = InputKind::NAMES.iter().map(|(_, n)| *n).collect();
                format!(
                    "unknown `--input-kind {k}`: use one of {}",
                    names.join(", ")
                )
            })?),
            None => None,
        },
        ..args.limits.input_options()
    })
}

/// Values for CloudFormation intrinsics from `--account`, `--region`, `--partition`, `--param`.
pub(crate) fn template_context(place: &crate::cli::PlaceArgs) -> Result<TemplateContext, String> {
    let mut ctx = TemplateContext {
        account: place.account.clone(),
        region: place.region.clone(),
        partition: place.partition.clone(),
        params: std::collections::BTreeMap::new(),
        stand_in_account: false,
    };
    for p in &place.param {
        let (k, v) = p
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| format!("`--param {p}`: expected NAME=VALUE"))?;
        ctx.params.insert(k.to_owned(), v.to_owned());
    }
    Ok(ctx)
}

/// Colour only on a terminal that takes escape sequences: not with `NO_COLOR` set (any value,
/// as no-color.org asks), not with `TERM=dumb`.
fn use_color(
    terminal: bool,
    no_color: Option<&std::ffi::OsStr>,
    term: Option<&std::ffi::OsStr>,
) -> bool {
    terminal && no_color.is_none() && term.is_none_or(|t| t != "dumb")
}

fn terminal_width() -> Option<usize> {
    std::env::var("COLUMNS").ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::use_color;

    #[test]
    fn no_colour_off_a_terminal_with_no_color_or_on_a_dumb_terminal() {
        let os = |s: &'static str| Some(std::ffi::OsStr::new(s));
        assert!(use_color(true, None, os("xterm-256color")));
        assert!(use_color(true, None, None));
        assert!(!use_color(false, None, os("xterm")));
        assert!(!use_color(true, os(""), os("xterm")));
        assert!(!use_color(true, None, os("dumb")));
    }
}
