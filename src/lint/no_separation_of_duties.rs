//! `KMS054` no-separation-of-duties.
//!
//! ## What it does
//! Asks the engine, for each user, role or session the key policy names, whether the key
//! policy alone lets it both administer the key (`kms:PutKeyPolicy`) and decrypt with it
//! (`kms:Decrypt`).
//!
//! ## Why is this bad?
//! Key administrators manage the key; key users use it. One identity with both can read the
//! data and cover its tracks by changing who else can, and one stolen credential gives both.
//! AWS's console default keeps the two in separate statements for this reason.
//!
//! ## Example
//! ```json
//! {"Sid": "BadAdminAndUser", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/Ops"}, "Action": "kms:*", "Resource": "*"}
//! ```
//! Use instead:
//! ```json
//! {"Sid": "GoodAdminOnly", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/Ops"}, "Action": ["kms:Describe*", "kms:Put*", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"], "Resource": "*"}
//! ```
//!
//! ## References
//! - AWS KMS Developer Guide: "Default key policy" (key administrators and key users)
//! - AWS KMS Developer Guide: "Security best practices for AWS KMS" (separation of duties)

use super::keys::{KeyLintContext, Reach};
use super::{Finding, Rule, Severity};

pub(crate) static RULE: Rule = Rule {
    code: "KMS054",
    name: "no-separation-of-duties",
    severity: Severity::Info,
    spec: "R53, R118",
    summary: "one principal can both administer the key (PutKeyPolicy) and decrypt with it",
    input_error: false,
};

pub(crate) fn check(cx: &KeyLintContext<'_>, out: &mut Vec<Finding>) {
    for n in cx.named_callers() {
        let (st, e, arn, caller) = (n.statement, n.entry, n.arn, n.caller);
        {
            let yes = |a: &str| matches!(cx.allow_reach(&caller, a, Some(&[])), Reach::Yes(_));
            if yes("kms:PutKeyPolicy") && yes("kms:Decrypt") {
                out.push(
                    Finding::new(&RULE, cx.doc().source, e.span, format!("`{arn}` can both change the key policy and decrypt with the key"), "administrator and user")
                        .in_statement(st)
                        .help("give administration and use to different roles, as the console's default key policy does"),
                );
            }
        }
    }
}
