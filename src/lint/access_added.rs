//! `KMS081` access-added.
//!
//! ## What it does
//! Reported by `kmsaudit diff` (SARIF and GitHub formats), never by `check`: a principal that
//! can perform an action on a key after the change and could not before, at the statement or
//! grant that gives it the access.
//!
//! ## Why is this bad?
//! New access is what a reviewer of an infrastructure change most needs to see; it is not
//! wrong in itself, and the reviewer decides.
//!
//! ## Example
//! A key policy statement added for `arn:aws:iam::444455556666:root` with `kms:Decrypt`.
//!
//! Use instead: nothing, when the access is intended; a `[[guard]]` makes a rule of it.
//!
//! ## References
//! - kmsaudit documentation: `docs/diff.md`

use super::{Rule, Severity};

/// The rule.
pub(crate) static ACCESS_ADDED: Rule = Rule {
    code: "KMS081",
    name: "access-added",
    severity: Severity::Warning,
    spec: "-",
    summary: "a change gives a principal access to a key that it did not have (`kmsaudit diff`)",
    input_error: false,
};
