//! `KMS006` not-principal-allow (spec L006, R26).
//!
//! ## What it does
//! Flags `Allow` statements that use `NotPrincipal`.
//!
//! ## Why is this bad?
//! AWS documents `NotPrincipal` as supported only with `Deny`. Where an old policy still has
//! it, it allows every principal of every account except the ones listed.
//!
//! ## Example
//! ```json
//! {"Sid": "BadAllowAllButOne", "Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:role/Ops"}, "Action": "kms:Decrypt", "Resource": "*"}
//! ```
//! Use instead: name the allowed principals in `Principal`.
//!
//! ## References
//! - IAM User Guide: "AWS JSON policy elements: NotPrincipal"

use super::{Finding, LintContext, Rule, Severity};

pub(crate) static RULE: Rule = Rule {
    code: "KMS006",
    name: "not-principal-allow",
    severity: Severity::Error,
    spec: "L006, R26",
    summary: "`NotPrincipal` with `Allow` allows everyone not listed, in every account",
    input_error: false,
};

pub(crate) fn check(cx: &LintContext<'_>, out: &mut Vec<Finding>) {
    for st in &cx.doc.statements {
        let Some(p) = &st.principal else { continue };
        if p.negated && st.is_allow() {
            out.push(
                Finding::new(&RULE, cx.doc.source, p.key_span, "`NotPrincipal` with `Allow` allows every principal not listed", "`NotPrincipal` in an `Allow`")
                    .in_statement(st)
                    .help("name the allowed principals in `Principal`; AWS supports `NotPrincipal` only with `Deny`"),
            );
        }
    }
}
