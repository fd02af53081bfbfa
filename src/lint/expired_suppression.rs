//! `KMS061` expired-suppression.
//!
//! ## What it does
//! Reports each suppression in `kmsaudit.toml` whose `expires` date has passed. It no longer
//! suppresses anything: the findings it covered are reported again.
//!
//! ## Why is this bad?
//! Suppressions are promises to fix something by a date. An expired one means the accepted
//! risk is still there and nobody looked again.
//!
//! ## Example
//! ```toml
//! [[suppress]]
//! rule = "KMS005"
//! fingerprint = "a012a8f94fdaafe3"
//! reason = "migration in progress"
//! expires = "2024-01-31"
//! ```
//! Use instead: fix the finding and remove the suppression, or review it and set a new date.
//!
//! ## References
//! - kmsaudit documentation: `docs/configuration.md` (suppressions)

use super::{Rule, Severity};

/// The rule.
pub(crate) static EXPIRED_SUPPRESSION: Rule = Rule {
    code: "KMS061",
    name: "expired-suppression",
    severity: Severity::Warning,
    spec: "-",
    summary: "a suppression in `kmsaudit.toml` has passed its `expires` date and no longer applies",
    input_error: false,
};
