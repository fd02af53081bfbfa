//! The checks of `KMS017` lockout-check-bypassed on declared keys. The rule and its
//! documentation are in `diag::input_rules`, for the input readers report it too, on key
//! policy updates that declare no key of their own.

use super::{DeclaredKey, Finding};
pub(crate) use crate::diag::input_rules::LOCKOUT_CHECK_BYPASSED as RULE;

pub(crate) fn check(cx: &DeclaredKey<'_>, out: &mut Vec<Finding>) {
    let Some(b) = &cx.key.settings.bypass else {
        return;
    };
    out.push(
        Finding::new(&RULE, b.source, b.span, format!("`{}` bypasses the lockout safety check: a policy that locks everyone out of the key will be accepted", cx.key.address), "safety check off")
            .help("remove the bypass; if a policy is rejected without it, fix the policy so the deploying principal keeps kms:PutKeyPolicy"),
    );
}
