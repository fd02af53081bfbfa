//! Command-line types (clap derive). They hold only what was typed; `app` validates them once.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Offline auditor for AWS KMS key policies, IAM policies and grants.
#[derive(Debug, Parser)]
#[command(name = "kmsaudit", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lint policy files: syntax, validity and risky patterns, each at its exact line.
    Check(CheckArgs),
    /// List the rules `check` applies, with their codes.
    Rules(RulesArgs),
}

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Graphical report with the offending text underlined (default on a terminal).
    Human,
    /// `path:line:col: CODE message` (default otherwise).
    Concise,
    /// One JSON object with a `version` field and a `findings` array.
    Json,
}

/// Lowest severity that makes `check` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Errors only.
    Error,
    /// Warnings and errors.
    Warning,
    /// Any finding.
    Info,
    /// Never exit 1 for findings.
    Never,
}

/// Policy kinds for `--policy-kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyKindArg {
    /// KMS key policy.
    Key,
    /// IAM identity policy.
    Identity,
    /// Permissions boundary.
    Boundary,
    /// Session policy.
    Session,
    /// Service control policy.
    Scp,
    /// Resource control policy.
    Rcp,
    /// VPC endpoint policy.
    Vpce,
}

/// Arguments of `check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Files or directories (searched recursively for `*.json`); `-` reads standard input.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format [default: human on a terminal, concise otherwise].
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Exit 1 when a finding at or above this severity is reported.
    #[arg(long, value_enum, default_value = "warning")]
    pub fail_on: FailOn,
    /// Report only these rules (codes or names, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Do not report these rules (codes or names, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Read every policy as this kind instead of inferring it (a document naming principals is
    /// read as a key policy, any other as an identity policy).
    #[arg(long, value_enum)]
    pub policy_kind: Option<PolicyKindArg>,
    /// Refuse files larger than this many bytes.
    #[arg(long, default_value_t = crate::input::DEFAULT_MAX_FILE_SIZE)]
    pub max_file_size: u64,
    /// Refuse JSON nested deeper than this.
    #[arg(long, default_value_t = crate::json::DEFAULT_MAX_DEPTH)]
    pub max_depth: usize,
    /// Skip paths matching this glob in directory walks (repeatable).
    #[arg(long)]
    pub exclude: Vec<String>,
    /// Print no summary line on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Arguments of `rules`.
#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}
