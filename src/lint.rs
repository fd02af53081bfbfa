//! The rule registry: every rule with its `KMSnnn` code and how it runs.
//!
//! Holds the registry of rules ([`rules`], sorted by code; a code is never reused) and the
//! structural rules that need no evaluation, one file per rule under `lint/`. Codes
//! `KMS001`–`KMS030` are the spec's lint catalogue (`L001` → `KMS001`); `KMS031` upward are
//! kmsaudit's own. `runner` runs the rules on documents, declared keys, grants and keys and
//! holds what each rule sees; `key_context` places each key policy with its key for the
//! key-level rules. [`Finding`] and rule metadata live in `diag`. Reading files is `input`'s
//! job, rendering is `report`'s; a rule that needs a decision asks `eval` through `keys`.

pub(crate) mod access_added;
pub(crate) mod adversary;
mod alias_in_identity_resource;
mod broad_key_admin;
mod confused_deputy;
mod create_grant_unscoped;
mod cross_account_unconditioned;
mod cross_account_unusable_action;
mod dead_actions;
mod deny_defeats_service_allows;
mod deny_trap;
mod duplicate_key;
mod enum_value_invalid;
pub(crate) mod expired_suppression;
mod for_all_values_trap;
mod grammar;
mod grant_too_broad;
mod grant_without_context;
pub(crate) mod guard_violated;
mod iam_only_action_in_key_policy;
mod iam_only_condition_key;
mod identity_create_grant_all_keys;
mod identity_decrypt_all_keys;
mod identity_key_admin_all_keys;
mod inert_key_policy_statement;
pub(crate) mod invalid_config;
mod key_context;
mod key_control_holders;
mod key_policy_limits;
mod key_policy_resource_not_star;
mod key_policy_resource_other_service;
mod key_unusable_for_crypto;
mod key_without_policy;
pub mod keys;
mod lockout;
mod lockout_check_bypassed;
mod malformed_principal;
mod multivalued_without_set_operator;
mod network_deny_without_carve_out;
mod no_separation_of_duties;
mod non_canonical_case;
mod not_principal_allow;
mod not_principal_without_account;
mod org_denies_put_key_policy;
mod owner;
mod partial_wildcard_principal;
mod permissive_allow_construct;
mod public_key;
mod root_delegation_missing;
mod root_delegation_partial;
mod rotation_disabled;
mod runner;
mod safety_check_would_reject;
pub(crate) use crate::policy::shapes;
mod short_deletion_window;
mod unique_id_principal;
mod unknown_action_or_key;
mod unknown_global_key;
mod unknown_region_or_partition;
mod variables_without_version;
mod via_service_value;
mod wildcard_admin_actions;

pub use crate::diag::{
    About, Finding, Label, Rule, Severity, fingerprint, input_rules, stamp, stamp_rest,
};
pub use key_context::{KeyToCheck, keys_to_check};
pub use runner::{
    Config, DeclaredKey, GrantContext, LintContext, RuleSet, check_declared, check_document,
    check_document_with, check_grants, check_key, check_keys,
};

type CheckFn = fn(&LintContext<'_>, &mut Vec<Finding>);
type KeyCheckFn = fn(&keys::KeyLintContext<'_>, &mut Vec<Finding>);
type DeclaredCheckFn = fn(&DeclaredKey<'_>, &mut Vec<Finding>);
type GrantCheckFn = fn(&GrantContext<'_>, &mut Vec<Finding>);

/// How a rule runs.
#[derive(Clone, Copy)]
enum Check {
    /// Reported by the input readers or the parser.
    None,
    /// On each document by itself.
    Doc(CheckFn),
    /// On each key policy with its key, asking the engine (`keys`).
    Key(KeyCheckFn),
    /// Both: what a document shows alone, and what needs its key.
    Both(CheckFn, KeyCheckFn),
    /// On each key a plan or template declares (its settings, not its policy).
    Declared(DeclaredCheckFn),
    /// On each grant.
    Grant(GrantCheckFn),
}

/// Every rule, sorted by code, with its check (input rules have none).
static REGISTRY: &[(&Rule, Check)] = &[
    (
        &root_delegation_missing::RULE,
        Check::Key(root_delegation_missing::check),
    ),
    (
        &root_delegation_partial::RULE,
        Check::Key(root_delegation_partial::check),
    ),
    (&lockout::RULE, Check::Key(lockout::check)),
    (&deny_trap::RULE, Check::Key(deny_trap::check)),
    (&public_key::RULE, Check::Key(public_key::check)),
    (
        &not_principal_allow::RULE,
        Check::Doc(not_principal_allow::check),
    ),
    (
        &for_all_values_trap::RULE,
        Check::Doc(for_all_values_trap::check),
    ),
    (
        &multivalued_without_set_operator::RULE,
        Check::Doc(multivalued_without_set_operator::check),
    ),
    (
        &via_service_value::RULE,
        Check::Both(via_service_value::check, via_service_value::check_key),
    ),
    (
        &unknown_action_or_key::RULE,
        Check::Doc(unknown_action_or_key::check),
    ),
    (
        &inert_key_policy_statement::RULE,
        Check::Doc(inert_key_policy_statement::check),
    ),
    (
        &iam_only_action_in_key_policy::RULE,
        Check::Doc(iam_only_action_in_key_policy::check),
    ),
    (
        &unique_id_principal::RULE,
        Check::Doc(unique_id_principal::check),
    ),
    (
        &partial_wildcard_principal::RULE,
        Check::Doc(partial_wildcard_principal::check),
    ),
    (
        &cross_account_unusable_action::RULE,
        Check::Key(cross_account_unusable_action::check),
    ),
    (
        &grant_without_context::RULE,
        Check::Grant(grant_without_context::check),
    ),
    (
        &lockout_check_bypassed::RULE,
        Check::Declared(lockout_check_bypassed::check),
    ),
    (
        &variables_without_version::RULE,
        Check::Doc(variables_without_version::check),
    ),
    (
        &iam_only_condition_key::RULE,
        Check::Doc(iam_only_condition_key::check),
    ),
    (
        &permissive_allow_construct::RULE,
        Check::Doc(permissive_allow_construct::check),
    ),
    (
        &network_deny_without_carve_out::RULE,
        Check::Doc(network_deny_without_carve_out::check),
    ),
    (
        &create_grant_unscoped::RULE,
        Check::Key(create_grant_unscoped::check),
    ),
    (
        &enum_value_invalid::RULE,
        Check::Doc(enum_value_invalid::check),
    ),
    (
        &wildcard_admin_actions::RULE,
        Check::Doc(wildcard_admin_actions::check),
    ),
    (&duplicate_key::RULE, Check::Doc(duplicate_key::check)),
    (
        &alias_in_identity_resource::RULE,
        Check::Doc(alias_in_identity_resource::check),
    ),
    (
        &not_principal_without_account::RULE,
        Check::Doc(not_principal_without_account::check),
    ),
    (
        &key_policy_resource_not_star::RULE,
        Check::Doc(key_policy_resource_not_star::check),
    ),
    (
        &non_canonical_case::RULE,
        Check::Doc(non_canonical_case::check),
    ),
    (&confused_deputy::RULE, Check::Key(confused_deputy::check)),
    (&input_rules::INVALID_JSON, Check::None),
    (&input_rules::INVALID_ENCODING, Check::None),
    (&input_rules::INPUT_LIMIT, Check::None),
    (&input_rules::ENCODING_NOTE, Check::None),
    (&grammar::UNKNOWN_ELEMENT, Check::None),
    (&grammar::MISSING_ELEMENT, Check::None),
    (&grammar::WRONG_TYPE, Check::None),
    (&grammar::INVALID_VALUE, Check::None),
    (&grammar::CONFLICTING_ELEMENTS, Check::None),
    (&grammar::UNKNOWN_OPERATOR, Check::None),
    (&grammar::EMPTY_ELEMENT, Check::None),
    (&grammar::PRINCIPAL_NOT_ALLOWED, Check::None),
    (
        &key_policy_limits::RULE,
        Check::Doc(key_policy_limits::check),
    ),
    (&grammar::POLICY_VARIABLE, Check::None),
    (
        &malformed_principal::RULE,
        Check::Doc(malformed_principal::check),
    ),
    (&input_rules::NOT_A_POLICY, Check::None),
    (&input_rules::UNREADABLE, Check::None),
    (&input_rules::INCOMPLETE, Check::None),
    (&input_rules::MALFORMED_INPUT, Check::None),
    (&input_rules::UNKNOWN_VALUE, Check::None),
    (
        &safety_check_would_reject::RULE,
        Check::Key(safety_check_would_reject::check),
    ),
    (&broad_key_admin::RULE, Check::Key(broad_key_admin::check)),
    (
        &no_separation_of_duties::RULE,
        Check::Key(no_separation_of_duties::check),
    ),
    (
        &identity_decrypt_all_keys::RULE,
        Check::Doc(identity_decrypt_all_keys::check),
    ),
    (
        &cross_account_unconditioned::RULE,
        Check::Key(cross_account_unconditioned::check),
    ),
    (
        &rotation_disabled::RULE,
        Check::Declared(rotation_disabled::check),
    ),
    (
        &short_deletion_window::RULE,
        Check::Declared(short_deletion_window::check),
    ),
    (
        &key_without_policy::RULE,
        Check::Declared(key_without_policy::check),
    ),
    (&invalid_config::INVALID_CONFIG, Check::None),
    (&expired_suppression::EXPIRED_SUPPRESSION, Check::None),
    (&grant_too_broad::RULE, Check::Grant(grant_too_broad::check)),
    (
        &key_control_holders::RULE,
        Check::Key(key_control_holders::check),
    ),
    (
        &org_denies_put_key_policy::RULE,
        Check::Key(org_denies_put_key_policy::check),
    ),
    (
        &unknown_global_key::RULE,
        Check::Doc(unknown_global_key::check),
    ),
    (
        &identity_create_grant_all_keys::RULE,
        Check::Doc(identity_create_grant_all_keys::check),
    ),
    (
        &identity_key_admin_all_keys::RULE,
        Check::Doc(identity_key_admin_all_keys::check),
    ),
    (
        &key_unusable_for_crypto::RULE,
        Check::Key(key_unusable_for_crypto::check),
    ),
    (&dead_actions::RULE, Check::Doc(dead_actions::check)),
    (
        &deny_defeats_service_allows::RULE,
        Check::Key(deny_defeats_service_allows::check),
    ),
    (
        &key_policy_resource_other_service::RULE,
        Check::Doc(key_policy_resource_other_service::check),
    ),
    (
        &unknown_region_or_partition::RULE,
        Check::Doc(unknown_region_or_partition::check),
    ),
    // Run by `check` from the configuration's guards (`diff::guard`), not per document.
    (&guard_violated::GUARD_VIOLATED, Check::None),
    // Reported by `diff` only.
    (&access_added::ACCESS_ADDED, Check::None),
];

include!(concat!(env!("OUT_DIR"), "/rule_docs.rs"));

/// A rule's documentation (Markdown: what it does, why it is bad, an example, what to use
/// instead, references), from its source file.
pub fn rule_doc(rule: &Rule) -> &'static str {
    RULE_DOCS
        .binary_search_by(|(c, _)| (*c).cmp(rule.code))
        .ok()
        .and_then(|i| RULE_DOCS.get(i))
        .map_or("", |(_, d)| d)
}

/// Every rule, sorted by code.
pub fn rules() -> impl Iterator<Item = &'static Rule> {
    REGISTRY.iter().map(|(r, _)| *r)
}

/// Finds a rule by code (`KMS014`) or name (`partial-wildcard-principal`), ignoring case.
pub fn rule(code_or_name: &str) -> Option<&'static Rule> {
    rules().find(|r| {
        r.code.eq_ignore_ascii_case(code_or_name) || r.name.eq_ignore_ascii_case(code_or_name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_sorted_and_unique() {
        let codes: Vec<_> = rules().map(|r| r.code).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(codes, sorted);
        for r in rules() {
            assert!(r.code.starts_with("KMS") && r.code.len() == 6, "{}", r.code);
            assert!(
                r.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                r.name
            );
        }
    }
}
