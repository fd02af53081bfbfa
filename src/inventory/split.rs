//! `check`'s split of one input: its own things, and what every key is judged against.

use super::{Fact, Inventory, Loaded, LoadedPolicy, PolicyRole};

/// Splits what one input defined for `check`'s key-level rules: an inventory of the input alone
/// (its key policies, keys, aliases, tags, grants, plan keys — what places each key policy) and
/// what every key is judged against (principals, organisation trees, described keys).
pub fn split_for_keys(mut loaded: Loaded) -> (Inventory, Loaded) {
    // The input's own facts are few; the shared ones (an account's principals) are many and
    // stay in place: moving them into a new list right after the input's documents were freed
    // costs the allocator more than the rest of the step.
    let described: Vec<Fact> = loaded
        .facts
        .iter()
        .filter(|f| matches!(f, Fact::Key(_)))
        .cloned()
        .collect();
    let mut own_facts: Vec<Fact> = loaded
        .facts
        .extract_if(.., |f| {
            matches!(
                f,
                Fact::Alias { .. }
                    | Fact::Tags(_)
                    | Fact::KeyPolicyNames(_)
                    | Fact::Grant(_)
                    | Fact::TerraformKeys { .. }
            )
        })
        .collect();
    own_facts.extend(described);
    // Only whether principals exist is asked of the shared part: their policy lists and tags
    // are not kept.
    for f in &mut loaded.facts {
        match f {
            Fact::User(u) => {
                u.attached = Vec::new();
                u.groups = Vec::new();
                u.tags = Vec::new();
            }
            Fact::Role(r) => {
                r.attached = Vec::new();
                r.tags = Vec::new();
            }
            _ => {}
        }
    }
    // SCPs and RCPs of an organisation tree gate every key of its accounts: shared.
    let org_policies: Vec<LoadedPolicy> = loaded
        .policies
        .extract_if(.., |p| {
            matches!(p.role, PolicyRole::Scp(_) | PolicyRole::Rcp(_))
        })
        .collect();
    let own = Loaded {
        policies: std::mem::replace(&mut loaded.policies, org_policies),
        facts: own_facts,
        ..Loaded::default()
    };
    let mut inv = Inventory::new();
    inv.add("", own);
    (inv, loaded)
}
