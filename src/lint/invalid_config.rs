//! `KMS060` invalid-config.
//!
//! ## What it does
//! Reports a `kmsaudit.toml` that is not valid TOML, has a key kmsaudit does not know, a value
//! of the wrong type, an unknown rule code or severity, or a suppression without a reason or
//! target. It names the line and column.
//!
//! ## Why is this bad?
//! A misspelt setting silently ignored would change what is checked — a suppression that never
//! applies, or one that applies to more than meant. `check` stops with exit code 2 instead.
//!
//! ## Example
//! ```toml
//! trusted_acounts = ["444455556666"]
//! ```
//! Use instead:
//! ```toml
//! trusted_accounts = ["444455556666"]
//! ```
//!
//! ## References
//! - kmsaudit documentation: `docs/configuration.md`
//! - TOML v1.0.0 specification

use super::{Rule, Severity};

/// The rule.
pub(crate) static INVALID_CONFIG: Rule = Rule {
    code: "KMS060",
    name: "invalid-config",
    severity: Severity::Error,
    spec: "-",
    summary: "`kmsaudit.toml` is not valid: a syntax error, an unknown key, a wrong type or an unknown rule",
    input_error: true,
};
