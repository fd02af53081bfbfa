//! `KMS062` grant-too-broad.
//!
//! ## What it does
//! Flags grants (other than those AWS services create for their resources) that give
//! `CreateGrant` — so the grantee can pass the key on — or that are held by a principal in
//! another account than the key's and not among `trusted_accounts`.
//!
//! ## Why is this bad?
//! Grants do not appear in the key policy, and AWS allows them to be created quietly. A grant
//! that carries `CreateGrant` can be re-delegated without limit, and a grant to a foreign
//! principal gives another account use of the key that nobody reviewing the key policy sees.
//!
//! ## Example
//! ```json
//! {"Grants": [{"KeyId": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "GrantId": "b5c7a9", "GranteePrincipal": "arn:aws:iam::444455556666:role/Partner", "Operations": ["Decrypt", "CreateGrant"], "IssuingAccount": "arn:aws:iam::111122223333:root"}]}
//! ```
//! Use instead:
//! ```json
//! {"Grants": [{"KeyId": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "GrantId": "b5c7a9", "GranteePrincipal": "arn:aws:iam::111122223333:role/Reporting", "Operations": ["Decrypt"], "Constraints": {"EncryptionContextEquals": {"report": "q3"}}, "IssuingAccount": "arn:aws:iam::111122223333:root"}]}
//! ```
//!
//! ## References
//! - AWS KMS Developer Guide: "Grants in AWS KMS" (CreateGrant in a grant)
//! - AWS KMS Developer Guide: "Best practices for AWS KMS grants"

use super::{Finding, GrantContext, Rule, Severity};

pub(crate) static RULE: Rule = Rule {
    code: "KMS062",
    name: "grant-too-broad",
    severity: Severity::Warning,
    spec: "R69-R80",
    summary: "a grant that can be passed on (it includes CreateGrant) or is held by a principal of a foreign, untrusted account",
    input_error: false,
};

pub(crate) fn check(cx: &GrantContext<'_>, out: &mut Vec<Finding>) {
    let g = cx.grant;
    if cx.made_by_service() {
        return;
    }
    let mut reasons = Vec::new();
    let passes_on = g.operations.iter().any(|o| o == "CreateGrant");
    if passes_on {
        reasons.push("it includes CreateGrant, so the grantee can pass it on".to_owned());
    }
    let grantee_account = g.grantee_class.account();
    if let (Some(k), Some(a)) = (cx.key_account.as_deref(), grantee_account) {
        if k != a && !cx.config.trusted_accounts.iter().any(|t| t == a) {
            reasons.push(format!(
                "its grantee is in account {a}, not the key's ({k})"
            ));
        }
    }
    if reasons.is_empty() {
        return;
    }
    out.push(
        Finding::new(
            &RULE,
            g.source,
            if passes_on { g.operations_span } else { g.grantee_span },
            format!("grant {} to `{}`: {}", g.label(), g.grantee, reasons.join("; ")),
            if passes_on { "includes CreateGrant" } else { "foreign grantee" },
        )
            .help("retire the grant if it is not needed; otherwise drop CreateGrant and constrain it, or list the account in `trusted_accounts`"),
    );
}
