//! `KMS058` short-deletion-window.
//!
//! ## What it does
//! Flags keys declared with a deletion waiting period (`deletion_window_in_days`,
//! `PendingWindowInDays`) shorter than the configured minimum (`min_deletion_window` in
//! `kmsaudit.toml`; 30 days, AWS's default, unless set).
//!
//! ## Why is this bad?
//! Deleting a key destroys every piece of data encrypted under it. The waiting period is the
//! only time to notice a mistaken or malicious `ScheduleKeyDeletion` and cancel it.
//!
//! ## Example
//! ```json
//! {"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"PendingWindowInDays": 7}}}}
//! ```
//! Use instead:
//! ```json
//! {"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"PendingWindowInDays": 30}}}}
//! ```
//!
//! ## References
//! - AWS KMS Developer Guide: "Deleting AWS KMS keys" (waiting period)
//! - AWS KMS API Reference: "ScheduleKeyDeletion" (PendingWindowInDays)

use super::{DeclaredKey, Finding, Rule, Severity};

pub(crate) static RULE: Rule = Rule {
    code: "KMS058",
    name: "short-deletion-window",
    severity: Severity::Info,
    spec: "-",
    summary: "a key's deletion waiting period is shorter than the configured minimum",
    input_error: false,
};

pub(crate) fn check(cx: &DeclaredKey<'_>, out: &mut Vec<Finding>) {
    let Some(w) = &cx.key.settings.deletion_window else {
        return;
    };
    let min = cx.config.min_deletion_window;
    if w.value >= min {
        return;
    }
    out.push(
        Finding::new(&RULE, w.source, w.span, format!("`{}` can be deleted {} days after it is scheduled; the minimum configured is {min}", cx.key.address, w.value), "short waiting period")
            .help(format!("use a waiting period of at least {min} days, or lower `min_deletion_window` in kmsaudit.toml")),
    );
}
