//! Findings about `kmsaudit.toml` itself (read by `config`).

use super::{Rule, Severity};

/// `KMS060`: the configuration file cannot be used.
///
/// ## What it does
/// Reports a `kmsaudit.toml` that is not valid TOML, has a key kmsaudit does not know, a value
/// of the wrong type, an unknown rule code or severity, or a suppression without a reason or
/// target. It names the line and column.
///
/// ## Why is this bad?
/// A misspelt setting silently ignored would change what is checked — a suppression that never
/// applies, or one that applies to more than meant. `check` stops with exit code 2 instead.
///
/// ## Example
/// ```toml
/// trusted_acounts = ["444455556666"]
/// ```
/// Use instead:
/// ```toml
/// trusted_accounts = ["444455556666"]
/// ```
///
/// ## References
/// - kmsaudit README: "Configuration"
/// - TOML v1.0.0 specification
pub static INVALID_CONFIG: Rule = Rule {
    code: "KMS060",
    name: "invalid-config",
    severity: Severity::Error,
    spec: "-",
    summary: "`kmsaudit.toml` is not valid: a syntax error, an unknown key, a wrong type or an unknown rule",
    input_error: true,
};

/// `KMS061`: a suppression has expired.
///
/// ## What it does
/// Reports each suppression in `kmsaudit.toml` whose `expires` date has passed. It no longer
/// suppresses anything: the findings it covered are reported again.
///
/// ## Why is this bad?
/// Suppressions are promises to fix something by a date. An expired one means the accepted
/// risk is still there and nobody looked again.
///
/// ## Example
/// ```toml
/// [[suppress]]
/// rule = "KMS005"
/// fingerprint = "a012a8f94fdaafe3"
/// reason = "migration in progress"
/// expires = "2024-01-31"
/// ```
/// Use instead: fix the finding and remove the suppression, or review it and set a new date.
///
/// ## References
/// - kmsaudit README: "Configuration" (suppressions)
pub static EXPIRED_SUPPRESSION: Rule = Rule {
    code: "KMS061",
    name: "expired-suppression",
    severity: Severity::Warning,
    spec: "-",
    summary: "a suppression in `kmsaudit.toml` has passed its `expires` date and no longer applies",
    input_error: false,
};
