//! Engine behaviour beyond the worked examples: open defaults, undetermined answers, residuals.

/// Rules cited by the tests in this module (checked by the coverage test).
pub(crate) fn cited_rules() -> Vec<u32> {
    Vec::new()
}
