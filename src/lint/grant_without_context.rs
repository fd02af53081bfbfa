//! `KMS016` grant-without-context (spec L016, R73).
//!
//! ## What it does
//! Notes grants for cryptographic operations (`Decrypt`, `Encrypt`, `GenerateDataKey*`,
//! `ReEncrypt*`) with no encryption-context constraint, and grants whose
//! `EncryptionContextSubset` constraint lets requests add pairs of their own where
//! `EncryptionContextEquals` would pin the context. Grants AWS services create for their
//! resources are skipped.
//!
//! ## Why is this bad?
//! A grant is a second door to the key that the key policy does not show. Without an
//! encryption-context constraint, the grantee can decrypt everything encrypted under the key,
//! not only the data the grant was meant for.
//!
//! ## Example
//! ```json
//! {"Grants": [{"KeyId": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "GrantId": "0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60", "GranteePrincipal": "arn:aws:iam::111122223333:role/Reporting", "Operations": ["Decrypt"], "IssuingAccount": "arn:aws:iam::111122223333:root"}]}
//! ```
//! Use instead:
//! ```json
//! {"Grants": [{"KeyId": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "GrantId": "0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60", "GranteePrincipal": "arn:aws:iam::111122223333:role/Reporting", "Operations": ["Decrypt"], "Constraints": {"EncryptionContextEquals": {"report": "quarterly"}}, "IssuingAccount": "arn:aws:iam::111122223333:root"}]}
//! ```
//!
//! ## References
//! - AWS KMS Developer Guide: "Grant constraints" (EncryptionContextEquals, EncryptionContextSubset)
//! - AWS KMS Developer Guide: "Best practices for AWS KMS grants"

use super::{Finding, GrantContext, Rule, Severity};
use crate::catalog::ENCRYPTION_OPERATIONS;

pub(crate) static RULE: Rule = Rule {
    code: "KMS016",
    name: "grant-without-context",
    severity: Severity::Info,
    spec: "L016, R73",
    summary: "a grant for cryptographic operations without an encryption-context constraint (or with Subset where Equals would pin it)",
    input_error: false,
};

pub(crate) fn check(cx: &GrantContext<'_>, out: &mut Vec<Finding>) {
    let g = cx.grant;
    if cx.made_by_service()
        || !g
            .operations
            .iter()
            .any(|o| ENCRYPTION_OPERATIONS.contains(&o.as_str()))
    {
        return;
    }
    let c = &g.constraints;
    let message = if c.equals.is_none() && c.subset.is_none() {
        format!(
            "grant {} lets `{}` use the key without an encryption-context constraint: it can decrypt everything under the key",
            g.label(),
            g.grantee
        )
    } else if c.equals.is_none() && c.subset.is_some() {
        format!(
            "grant {} uses EncryptionContextSubset: requests may add pairs of their own; EncryptionContextEquals pins the context",
            g.label()
        )
    } else {
        return;
    };
    out.push(
        Finding::new(&RULE, g.source, g.operations_span, message, "cryptographic operations")
            .label(g.grantee_span, "grantee")
            .help("create the grant with `--constraints EncryptionContextEquals={…}` naming the data it is for"),
    );
}
