//! `KMS080` guard-violated.
//!
//! ## What it does
//! Checks the `[[guard]]` rules of `kmsaudit.toml` on every run of `check`: for the keys and
//! actions a guard names, it asks the access graph who can perform them, through any path
//! (grants, role chains, `CreateGrant`, `PutKeyPolicy`, IAM changes), and reports each
//! principal that breaks the guard, with the guard's name and the path that gives it access.
//! A guard is one of: `only` (nobody else may), `deny_outside_org` (no principal outside the
//! organisation may), `require` (one of these principals must keep the action). An answer the
//! inputs leave open is reported as "may violate", with what is unknown.
//!
//! ## Why is this bad?
//! A guard is the team's own access rule. A change that breaks it (a grant to another role, a
//! statement naming another account, a lost administrator) should stop in review, not be found
//! in production.
//!
//! ## Example
//! ```toml
//! [[guard]]
//! name = "only the app decrypts customer data"
//! keys = ["alias/customer-*"]
//! actions = ["kms:Decrypt"]
//! only = ["arn:aws:iam::111122223333:role/app"]
//! ```
//! with a key policy that also allows `role/batch` to decrypt.
//!
//! Use instead: remove the access, or change the guard when the access is intended.
//!
//! ## References
//! - kmsaudit documentation: `docs/diff.md`

use super::{Rule, Severity};

/// The rule.
pub(crate) static GUARD_VIOLATED: Rule = Rule {
    code: "KMS080",
    name: "guard-violated",
    severity: Severity::Error,
    spec: "-",
    summary: "a principal breaks a `[[guard]]` of `kmsaudit.toml`: access it must not have, or access that must stay",
    input_error: false,
};
