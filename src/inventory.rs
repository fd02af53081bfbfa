//! The inventory: everything the inputs define, tied together (spec R14, R122–R130, R135).
//!
//! Owns the world model built from every loaded input: keys with their policies, grants,
//! aliases and tags; IAM users, groups and roles with their inline, attached and boundary
//! policies; organisation trees with their SCPs and RCPs. It answers the questions `can` asks of
//! it — which key a name means, which policies apply to a caller, which SCP levels lie above an
//! account — and records what it could not resolve, so the engine answers `undetermined` rather
//! than guessing. Reading files is `input`'s job; deciding is `eval`'s.

use std::collections::BTreeMap;

mod inputs;
mod narrow;
mod split;
pub(crate) use inputs::InputsFor;
pub(crate) use narrow::{StatementIndex, allow_all, narrowed_policy};
pub use split::split_for_keys;

use crate::eval::{Caller, CallerKind, KeyFacts, KeyInputs, NamedPolicy};
use crate::grant::Grant;
use crate::model::{Fact, Group, Loaded, LoadedPolicy, OrgNode, PolicyRole, Role, User};

/// Whether IAM principals exist, from authorization details.
pub trait Directory {
    /// `Some(true)` when the principal exists, `Some(false)` when the IAM data of its account
    /// was loaded and does not hold it, `None` when nothing is known about its account.
    fn exists(&self, class: &crate::arn::PrincipalClass) -> Option<bool>;
    /// The caller's identity policies when the inputs hold all of them.
    fn identity_of(&self, caller: &Caller) -> Option<Vec<NamedPolicy>>;
}

/// Default cap on policies across all inputs of one run (`--max-policies`): an organisation's
/// dump of every account holds a few hundred thousand.
pub(crate) const DEFAULT_MAX_POLICIES: usize = 2_000_000;

/// A key policy with the key it belongs to, when the input says.
#[derive(Debug, Clone)]
struct KeyPolicy {
    key: Option<String>,
    policy: NamedPolicy,
}

/// What the caller's side of a request looks like in the inventory.
#[derive(Debug, Clone, Default)]
pub struct CallerPolicies {
    /// Identity policies; `None` when some are missing from the inputs.
    pub identity: Option<Vec<NamedPolicy>>,
    /// The permissions boundary.
    pub(crate) boundary: Option<NamedPolicy>,
    /// The role ARN with its path, for a session of a known role.
    pub(crate) role_arn: Option<String>,
    /// The principal's tags.
    pub(crate) tags: Vec<(String, String)>,
    /// The principal was found in the inputs.
    pub(crate) found: bool,
    /// What could not be resolved, in sentences.
    pub(crate) notes: Vec<String>,
}

/// Everything the inputs define.
#[derive(Debug, Default)]
pub struct Inventory {
    keys: Vec<KeyFacts>,
    key_policies: Vec<KeyPolicy>,
    key_policy_names: Vec<String>,
    aliases: Vec<(String, Option<String>, Option<String>)>,
    tags: Vec<Vec<(String, String)>>,
    grants: Vec<Grant>,
    users: Vec<User>,
    groups: Vec<Group>,
    roles: Vec<Role>,
    /// Lookups for `caller_policies`, which runs once per request of a batch: the first
    /// entry of a name wins, as the first match of a scan would.
    user_by_arn: BTreeMap<String, usize>,
    group_by_name: BTreeMap<String, usize>,
    role_by_arn: BTreeMap<String, usize>,
    /// Account → role name → index (nested, so a lookup borrows the caller's strings).
    role_by_account_name: BTreeMap<String, BTreeMap<String, usize>>,
    user_inline: BTreeMap<String, Vec<NamedPolicy>>,
    group_inline: BTreeMap<String, Vec<NamedPolicy>>,
    role_inline: BTreeMap<String, Vec<NamedPolicy>>,
    managed: BTreeMap<String, NamedPolicy>,
    /// Role ARN → its trust policies (for the access graph's `sts:AssumeRole` moves).
    trust: BTreeMap<String, Vec<NamedPolicy>>,
    org: Vec<OrgNode>,
    scps: BTreeMap<String, Vec<NamedPolicy>>,
    rcps: BTreeMap<String, Vec<NamedPolicy>>,
    /// Whether any authorization details were loaded (then unknown principals are unknown).
    has_iam: bool,
    /// Keys of Terraform plans and state, by address.
    planned: Vec<crate::model::PlannedKey>,
    /// Key policies known only after apply on keys no plan creates (R133).
    late_key_policies: usize,
    /// Principals of plans and templates: address (or logical id) → ARN.
    principal_address: BTreeMap<String, String>,
    /// Principal ARN → why its IAM side is not fully known (a policy known only after
    /// apply, a principal the plan names but does not create).
    principal_unknown: BTreeMap<String, Vec<String>>,
    tf_account: Option<String>,
    tf_region: Option<String>,
    tf_caller: Option<String>,
    /// The key ARN each entry of `key_policies` names, once resolved.
    key_policy_keys: std::sync::OnceLock<Vec<Option<String>>>,
    /// The first of `keys` and of `planned` with each ARN, built once: `key_inputs` asks for
    /// every key of a plan, and a scan per key was quadratic (with an ARN built per planned
    /// key and lookup).
    key_lookup: std::sync::OnceLock<KeyLookup>,
}

/// Where a key's facts and its plan entry are, by ARN.
#[derive(Debug, Default)]
struct KeyLookup {
    facts: crate::hash::FastMap<String, usize>,
    planned: crate::hash::FastMap<String, usize>,
}

/// The key policy AWS gives a key created without one (spec R117).
fn default_key_policy(account: &str) -> Result<NamedPolicy, String> {
    let text = format!(
        r#"{{"Version":"2012-10-17","Id":"key-default-1","Statement":[{{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"kms:*","Resource":"*"}}]}}"#
    );
    let j = crate::json::parse(&text).map_err(|e| e.message())?;
    let (doc, _) = crate::policy::parse_policy(
        &j,
        crate::source::SourceId::NONE,
        crate::policy::PolicyKind::Key,
    );
    Ok(NamedPolicy {
        name: "default key policy".into(),
        doc: doc.into(),
    })
}

fn named(label: &str, file: &str, doc: crate::policy::PolicyDocument) -> NamedPolicy {
    let name = if label.is_empty() {
        file.to_owned()
    } else {
        [file, " › ", label].concat()
    };
    NamedPolicy {
        name,
        doc: doc.into(),
    }
}

impl Inventory {
    /// An empty inventory.
    pub fn new() -> Self {
        Inventory::default()
    }

    /// Adds what one input defined. `file` names it in traces.
    pub fn add(&mut self, file: &str, loaded: Loaded) {
        self.key_policy_keys = std::sync::OnceLock::new();
        self.key_lookup = std::sync::OnceLock::new();
        for p in loaded.policies {
            let np = named(&p.label, file, p.doc);
            match p.role {
                PolicyRole::KeyPolicy { key, .. } => {
                    self.key_policies.push(KeyPolicy { key, policy: np })
                }
                PolicyRole::UserInline(arn) => self.user_inline.entry(arn).or_default().push(np),
                PolicyRole::GroupInline(name) => {
                    self.group_inline.entry(name).or_default().push(np)
                }
                PolicyRole::RoleInline(arn) => self.role_inline.entry(arn).or_default().push(np),
                PolicyRole::Managed { arn, default: true } => {
                    self.managed.insert(arn, np);
                }
                PolicyRole::Scp(target) => self.scps.entry(target).or_default().push(np),
                PolicyRole::Rcp(target) => self.rcps.entry(target).or_default().push(np),
                // A bare key policy belongs to the one key in play.
                PolicyRole::Standalone if np.doc.kind == crate::policy::PolicyKind::Key => {
                    self.key_policies.push(KeyPolicy {
                        key: None,
                        policy: np,
                    })
                }
                PolicyRole::Trust(role) => self.trust.entry(role).or_default().push(np),
                PolicyRole::Managed { default: false, .. } | PolicyRole::Standalone => {}
            }
        }
        // One allocation per list: growing them one push at a time, right after an input's
        // documents were freed, makes the allocator consolidate its free lists again and again.
        let count = |want: fn(&Fact) -> bool| loaded.facts.iter().filter(|f| want(f)).count();
        self.users
            .reserve_exact(count(|f| matches!(f, Fact::User(_))));
        self.roles
            .reserve_exact(count(|f| matches!(f, Fact::Role(_))));
        self.groups
            .reserve_exact(count(|f| matches!(f, Fact::Group(_))));
        for f in loaded.facts {
            match f {
                Fact::Key(k) => {
                    if !self.keys.iter().any(|x| x.arn == k.arn) {
                        self.keys.push(k);
                    }
                }
                Fact::Alias { name, arn, target } => self.aliases.push((name, arn, target)),
                Fact::Tags(t) => self.tags.push(t),
                Fact::KeyPolicyNames(n) => self.key_policy_names.extend(n),
                Fact::Grant(g) => self.grants.push(g),
                Fact::User(u) => {
                    self.has_iam = true;
                    self.push_user(u);
                }
                Fact::Group(g) => {
                    self.has_iam = true;
                    self.push_group(g);
                }
                Fact::Role(r) => {
                    self.has_iam = true;
                    self.push_role(r);
                }
                // A plan's principals are principals, but not the whole account: one it does
                // not hold is not known not to exist (`has_iam` stays as it is).
                Fact::PlanPrincipals(w) => {
                    for r in w.roles {
                        self.push_role(r);
                    }
                    for u in w.users {
                        self.push_user(u);
                    }
                    for g in w.groups {
                        self.push_group(g);
                    }
                    for (address, arn) in w.addresses {
                        self.principal_address.entry(address).or_insert(arn);
                    }
                    for (arn, why) in w.unknown {
                        self.principal_unknown.entry(arn).or_default().extend(why);
                    }
                }
                Fact::Org(nodes) => self.org.extend(nodes),
                Fact::TerraformKeys {
                    keys,
                    account,
                    region,
                    caller,
                    late_policies,
                } => {
                    self.planned.extend(keys);
                    self.late_key_policies += late_policies;
                    if self.tf_caller.is_none() {
                        self.tf_caller = caller;
                    }
                    if self.tf_account.is_none() {
                        self.tf_account = account;
                    }
                    if self.tf_region.is_none() {
                        self.tf_region = region;
                    }
                }
            }
        }
    }

    fn push_user(&mut self, u: User) {
        self.user_by_arn
            .entry(u.arn.clone())
            .or_insert(self.users.len());
        self.users.push(u);
    }

    fn push_group(&mut self, g: Group) {
        self.group_by_name
            .entry(g.name.clone())
            .or_insert(self.groups.len());
        self.groups.push(g);
    }

    fn push_role(&mut self, r: Role) {
        let at = self.roles.len();
        self.role_by_arn.entry(r.arn.clone()).or_insert(at);
        if let Some(account) = r.arn.split(':').nth(4) {
            self.role_by_account_name
                .entry(account.to_owned())
                .or_default()
                .entry(r.name.clone())
                .or_insert(at);
        }
        self.roles.push(r);
    }

    /// The ARN of a principal a plan or template names by address or logical id.
    pub(crate) fn resolve_principal(&self, name: &str) -> Option<&str> {
        self.principal_address.get(name).map(String::as_str)
    }

    /// A name that looks like a Terraform address (`aws_iam_role.app`,
    /// `module.m.aws_kms_key.this[0]`) but is not in the inputs: the error, with the close
    /// matches.
    pub(crate) fn unknown_address(&self, name: &str) -> Option<String> {
        let looks = (name.starts_with("aws_") || name.starts_with("module."))
            && name.contains('.')
            && !name.contains(':');
        if !looks {
            return None;
        }
        let mut close: Vec<(usize, &str)> = self
            .addresses()
            .into_iter()
            .map(|a| (crate::catalog::edit_distance(name, a), a))
            .filter(|(d, a)| *d <= 3.max(name.len() / 4) || a.contains(name) || name.contains(a))
            .collect();
        close.sort();
        let list: Vec<String> = close
            .iter()
            .take(5)
            .map(|(_, a)| format!("`{a}`"))
            .collect();
        Some(if list.is_empty() {
            format!("`{name}` is not an address in the input files")
        } else {
            format!(
                "`{name}` is not an address in the input files; did you mean {}?",
                list.join(", ")
            )
        })
    }

    /// The addresses and logical ids of the inputs' principals and keys, for "did you mean".
    pub(crate) fn addresses(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .principal_address
            .keys()
            .map(String::as_str)
            .chain(self.planned.iter().map(|k| k.address.as_str()))
            .chain(self.grants.iter().filter_map(|g| g.grant_id.as_deref()))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Sets the account and Region for keys whose ARN a plan leaves unknown (`--account`,
    /// `--region` win over what the plan reveals).
    pub(crate) fn set_account_region(&mut self, account: Option<String>, region: Option<String>) {
        self.key_policy_keys = std::sync::OnceLock::new();
        self.key_lookup = std::sync::OnceLock::new();
        if account.is_some() {
            self.tf_account = account;
        }
        if region.is_some() {
            self.tf_region = region;
        }
    }

    /// The ARN of a planned key: known, or made from the account, Region and address. What
    /// the plan does not say is a stand-in (spec R133): the plan's things share one account,
    /// and a Region nothing gives is open, which `can` settles or names (`--region`).
    fn planned_arn(&self, k: &crate::model::PlannedKey) -> Option<String> {
        if let Some(a) = &k.arn {
            return Some(a.clone());
        }
        let account = self
            .tf_account
            .as_deref()
            .unwrap_or(crate::arn::UNKNOWN_ACCOUNT);
        let region = k
            .region
            .as_deref()
            .or(self.tf_region.as_deref())
            .unwrap_or(crate::arn::UNKNOWN_REGION);
        // A placeholder id that only this key has (R133): the address, made ARN-safe; a
        // replica shares its primary's (a multi-Region key's id is the same in every Region).
        let base = k.primary.as_deref().unwrap_or(&k.address);
        let id: String = base
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let mrk = if k.multi_region { "mrk-" } else { "" };
        let id = match &k.key_id {
            Some(known) => known.clone(),
            None => format!("{mrk}planned-{id}"),
        };
        Some(format!(
            "arn:{}:kms:{region}:{account}:key/{id}",
            k.partition
        ))
    }

    fn planned_for_arn(&self, arn: &str) -> Option<&crate::model::PlannedKey> {
        let at = *self.lookup().planned.get(arn)?;
        self.planned.get(at)
    }

    fn lookup(&self) -> &KeyLookup {
        self.key_lookup.get_or_init(|| {
            let mut l = KeyLookup::default();
            for (i, k) in self.keys.iter().enumerate() {
                l.facts.entry(k.arn.clone()).or_insert(i);
            }
            for (i, k) in self.planned.iter().enumerate() {
                if let Some(arn) = self.planned_arn(k) {
                    l.planned.entry(arn).or_insert(i);
                }
            }
            l
        })
    }

    /// Keys of Terraform plans and state.
    pub(crate) fn planned_keys(&self) -> &[crate::model::PlannedKey] {
        &self.planned
    }

    /// Key policies of a plan known only after apply on keys the plan does not create
    /// (R133): like a planned key whose policy is unknown, not checked.
    pub(crate) fn late_key_policies(&self) -> usize {
        self.late_key_policies
    }

    /// Resolves a key named by ARN, key id or alias (`alias/name` or alias ARN).
    pub(crate) fn resolve_key(&self, name: &str) -> Option<String> {
        if name.starts_with("arn:") && name.contains(":key/") {
            return Some(name.to_owned());
        }
        if let Some(k) = self.planned.iter().find(|k| k.address == name) {
            return self.planned_arn(k);
        }
        let by_id = |id: &str| {
            self.keys
                .iter()
                .find(|k| k.key_id == id)
                .map(|k| k.arn.clone())
                .or_else(|| {
                    self.grants
                        .iter()
                        .filter_map(|g| g.key_id.as_ref())
                        .find(|k| k.ends_with(&format!("key/{id}")))
                        .cloned()
                })
        };
        let alias = name.find("alias/").map(|i| name.get(i..).unwrap_or(name));
        if let Some(alias) = alias {
            let target = self
                .aliases
                .iter()
                .find(|(n, arn, _)| n == alias || arn.as_deref() == Some(name))
                .and_then(|(_, _, t)| t.clone())?;
            // In plans and templates an alias targets a key by address or logical id.
            if let Some(k) = self.planned.iter().find(|k| k.address == target) {
                return self.planned_arn(k);
            }
            return by_id(&target);
        }
        by_id(name)
    }

    /// The key's facts, policies and grants as the engine wants them.
    pub fn key_inputs(&self, arn: &str) -> Result<KeyInputs, String> {
        let mut facts = match self.lookup().facts.get(arn).and_then(|&i| self.keys.get(i)) {
            Some(k) => k.clone(),
            None => KeyFacts::from_arn(arn)?,
        };
        let planned = self.planned_for_arn(arn);
        let address = planned.map(|p| p.address.as_str());
        let single_key = self.keys.len() <= 1 && self.planned.is_empty();
        let key_suffix = format!("key/{}", facts.key_id);
        // R79: an ARN names one key by all its parts (a multi-Region replica in another Region,
        // or another account's key with the same id, is another key); only a bare id or a
        // `key/<id>` reference is read in this key's account and Region.
        let names_key = |k: &str| {
            if k.starts_with("arn:") {
                return k == arn;
            }
            k == facts.key_id || k.ends_with(&key_suffix) || Some(k) == address
        };
        // The key each key policy names, resolved once for all lookups (a batch of requests
        // asks for every key of a plan).
        let resolved = self.key_policy_keys.get_or_init(|| {
            self.key_policies
                .iter()
                .map(|p| p.key.as_deref().and_then(|k| self.resolve_key(k)))
                .collect()
        });
        // A key policy that names no key (get-key-policy output) belongs to the one key in play.
        let mut policies: Vec<NamedPolicy> = self
            .key_policies
            .iter()
            .zip(resolved)
            .filter(|(p, r)| match &p.key {
                Some(k) => names_key(k) || r.as_deref() == Some(arn),
                None => single_key,
            })
            .map(|(p, _)| p.policy.clone())
            .collect();
        // An `aws_kms_key_policy` replaces the key's own policy (R132).
        if policies
            .iter()
            .any(|p| p.name.contains("aws_kms_key_policy."))
        {
            policies.retain(|p| p.name.contains("aws_kms_key_policy."));
        }
        let mut policy_unknown = None;
        if let Some(p) = planned {
            use crate::model::PlannedPolicy;
            match p.policy {
                PlannedPolicy::Unknown => {
                    policies.clear();
                    policy_unknown = Some(format!(
                        "the policy of `{}` is known only after apply",
                        p.address
                    ));
                }
                PlannedPolicy::Default if policies.is_empty() => {
                    policies.push(default_key_policy(&facts.account)?);
                }
                PlannedPolicy::Default | PlannedPolicy::Given => {}
            }
        }
        let aliases: Vec<String> = self
            .aliases
            .iter()
            .filter(|(_, _, t)| t.as_deref().is_some_and(names_key))
            .map(|(n, _, _)| n.clone())
            .collect();
        if !aliases.is_empty() || (!self.aliases.is_empty() && facts.aliases.is_none()) {
            if aliases.iter().any(|a| a.starts_with("alias/aws/")) && facts.key_manager.is_none() {
                facts.key_manager = Some(crate::eval::KeyManager::Aws);
            }
            facts.aliases = Some(aliases);
        }
        if single_key && facts.tags.is_none() {
            if let Some(t) = self.tags.first() {
                facts.tags = Some(t.clone());
            }
        }
        // Grants name their key by ARN, id or (in plans) address: bind them to the ARN.
        let grants: Vec<Grant> = self
            .grants
            .iter()
            .filter(|g| g.key_id.as_deref().is_none_or(names_key))
            .map(|g| {
                let mut g = g.clone();
                g.key_id = Some(arn.to_owned());
                g
            })
            .collect();
        Ok(KeyInputs {
            policy_unknown,
            policies: if policies.is_empty() {
                None
            } else {
                Some(policies)
            },
            grants: if self.grants.is_empty() {
                None
            } else {
                Some(grants)
            },
            facts,
        })
    }

    /// The key policy names `list-key-policies` reported (an `AWS_RAM` policy not supplied
    /// leaves external principals' answers open — Q15).
    pub(crate) fn key_policy_names(&self) -> &[String] {
        &self.key_policy_names
    }

    fn managed_policy(&self, arn: &str, notes: &mut Vec<String>) -> Option<NamedPolicy> {
        match self.managed.get(arn) {
            Some(p) => Some(p.clone()),
            // An AWS managed policy the inputs lack: the embedded snapshot's document.
            None if crate::managed::parse_arn(arn).is_some() => {
                let r = crate::managed::resolve(arn);
                notes.extend(r.iter().flat_map(|r| r.notes.iter().cloned()));
                notes.extend(
                    r.is_none()
                        .then(|| crate::managed::missing_note(arn))
                        .flatten(),
                );
                r.map(|r| r.policy)
            }
            None => {
                notes.push(format!(
                    "the body of managed policy `{arn}` is not in the inputs (AWS managed policies appear in authorization details only when requested)"
                ));
                None
            }
        }
    }

    /// The caller's identity policies, boundary, role path and tags (R14, R130).
    pub fn caller_policies(&self, caller: &Caller) -> CallerPolicies {
        let mut out = CallerPolicies::default();
        let mut missing = false;
        let mut ids = Vec::new();
        match caller.kind {
            CallerKind::User => {
                let user = self
                    .user_by_arn
                    .get(&caller.arn)
                    .and_then(|&i| self.users.get(i));
                let Some(u) = user else {
                    if self.has_iam {
                        out.notes.push(format!(
                            "`{}` is not in the authorization details given",
                            caller.arn
                        ));
                    }
                    return out;
                };
                out.found = true;
                missing |=
                    self.own_policies(&u.arn, &self.user_inline, &u.attached, &mut out, &mut ids);
                for gname in &u.groups {
                    ids.extend(self.group_inline.get(gname).cloned().unwrap_or_default());
                    let group = self
                        .group_by_name
                        .get(gname)
                        .and_then(|&i| self.groups.get(i));
                    match group {
                        Some(g) => {
                            for a in &g.attached {
                                match self.managed_policy(a, &mut out.notes) {
                                    Some(p) => ids.push(p),
                                    None => missing = true,
                                }
                            }
                        }
                        None => {
                            out.notes.push(format!(
                                "group `{gname}` of `{}` is not in the inputs",
                                caller.arn
                            ));
                            missing = true;
                        }
                    }
                }
                if let Some(b) = &u.boundary {
                    out.boundary = self.managed_policy(b, &mut out.notes);
                    missing |= out.boundary.is_none();
                }
                out.tags = u.tags.clone();
            }
            CallerKind::AssumedRole => {
                // The role's ARN with its path comes from the inventory (R1).
                // The first role that has the session's role ARN, or (when the path was
                // assumed) its account and name.
                let by_arn = caller
                    .role_arn
                    .as_deref()
                    .and_then(|a| self.role_by_arn.get(a))
                    .copied();
                let by_name = if caller.role_path_assumed {
                    self.role_by_account_name
                        .get(caller.account.as_str())
                        .and_then(|names| names.get(caller.name.as_str()))
                        .copied()
                } else {
                    None
                };
                let role = by_arn
                    .into_iter()
                    .chain(by_name)
                    .min()
                    .and_then(|i| self.roles.get(i));
                let Some(r) = role else {
                    if self.has_iam {
                        // Named by the role, not the session: every session of the role shares
                        // this answer (a batch works it out once per role).
                        let role = caller.role_arn.clone().unwrap_or_else(|| {
                            format!("{} of account {}", caller.name, caller.account)
                        });
                        out.notes.push(format!(
                            "the role `{role}` is not in the authorization details given"
                        ));
                    }
                    return out;
                };
                out.found = true;
                out.role_arn = Some(r.arn.clone());
                missing |=
                    self.own_policies(&r.arn, &self.role_inline, &r.attached, &mut out, &mut ids);
                if let Some(b) = &r.boundary {
                    out.boundary = self.managed_policy(b, &mut out.notes);
                    missing |= out.boundary.is_none();
                }
                out.tags = r.tags.clone();
            }
            CallerKind::Root
            | CallerKind::FederatedUser
            | CallerKind::Service
            | CallerKind::Anonymous => return out,
        }
        out.identity = if missing { None } else { Some(ids) };
        out
    }

    /// A user's or role's own policies: its inline ones (from `inline`) and the managed ones
    /// attached to it, into `ids`, with what is unknown about it in `out`'s notes. True when
    /// one of them is missing (its identity policies are then not all known).
    fn own_policies(
        &self,
        arn: &str,
        inline: &BTreeMap<String, Vec<NamedPolicy>>,
        attached: &[String],
        out: &mut CallerPolicies,
        ids: &mut Vec<NamedPolicy>,
    ) -> bool {
        let mut missing = false;
        if let Some(why) = self.principal_unknown.get(arn) {
            out.notes.extend(why.iter().cloned());
            missing = true;
        }
        ids.extend(inline.get(arn).cloned().unwrap_or_default());
        for a in attached {
            match self.managed_policy(a, &mut out.notes) {
                Some(p) => ids.push(p),
                None => missing = true,
            }
        }
        missing
    }

    /// Whether an AWS Organizations tree was loaded (without one no account has an
    /// organisation).
    pub(crate) fn has_org_tree(&self) -> bool {
        !self.org.is_empty()
    }

    /// True when any principal data was loaded.
    pub(crate) fn has_iam(&self) -> bool {
        self.has_iam
    }

    fn levels(
        &self,
        account: &str,
        policies: &BTreeMap<String, Vec<NamedPolicy>>,
    ) -> Option<Vec<Vec<NamedPolicy>>> {
        let mut chain = Vec::new();
        let mut at = self.org.iter().find(|n| n.id == account)?;
        // SCPs and RCPs do not affect the management account (R48).
        if at.management_account.as_deref() == Some(account) {
            return None;
        }
        for _ in 0..32 {
            chain.push(at.id.clone());
            match &at.parent {
                Some(p) => at = self.org.iter().find(|n| &n.id == p)?,
                None => break,
            }
        }
        chain.reverse();
        Some(
            chain
                .iter()
                .map(|id| policies.get(id).cloned().unwrap_or_default())
                .collect(),
        )
    }

    /// The organisation of an account and its path (`o-…/r-…/ou-…/`) from the Organizations
    /// tree, when the tree holds the account and names the organisation (R9, R102).
    pub(crate) fn org_of(&self, account: &str) -> Option<(String, String)> {
        let mut at = self.org.iter().find(|n| n.id == account)?;
        let org_id = at.org_id.clone()?;
        let mut chain = Vec::new();
        for _ in 0..32 {
            match &at.parent {
                Some(p) => {
                    at = self.org.iter().find(|n| &n.id == p)?;
                    chain.push(at.id.as_str());
                }
                None => break,
            }
        }
        let mut path = org_id.clone();
        path.push('/');
        for id in chain.iter().rev() {
            path.push_str(id);
            path.push('/');
        }
        Some((org_id, path))
    }

    /// The SCP levels above an account, root first; `None` when the account is not in a tree
    /// (or is the management account).
    pub(crate) fn scp_levels(&self, account: &str) -> Option<crate::eval::Levels> {
        if self.scps.is_empty() {
            return None;
        }
        self.levels(account, &self.scps).map(Into::into)
    }

    /// The RCP levels above an account, root first.
    pub(crate) fn rcp_levels(&self, account: &str) -> Option<crate::eval::Levels> {
        if self.rcps.is_empty() {
            return None;
        }
        self.levels(account, &self.rcps).map(Into::into)
    }
}

/// A key policy with what `check` needs to judge it as a whole.
#[derive(Debug)]
pub(crate) struct KeyPolicyForLint<'a> {
    /// The policy.
    pub(crate) policy: &'a NamedPolicy,
    /// The key identity the input gives (ARN, key id, Terraform address, logical id), if any.
    pub(crate) key: Option<&'a str>,
    /// The key's facts when its ARN is known or can be made (plan account and Region).
    pub(crate) facts: Option<KeyFacts>,
}

impl Inventory {
    /// Every key policy the inputs hold, with its key's facts when they can be known.
    pub(crate) fn key_policies_for_lint(&self) -> Vec<KeyPolicyForLint<'_>> {
        // A policy without a key (get-key-policy output) belongs to the one key described, when
        // it is the only such policy: among many files, pairing them would be a guess.
        let keyless = self.key_policies.iter().filter(|k| k.key.is_none()).count();
        // A plan names its keys by address: one lookup each, not a scan per policy.
        let by_address: BTreeMap<&str, &crate::model::PlannedKey> = self
            .planned
            .iter()
            .map(|k| (k.address.as_str(), k))
            .collect();
        self.key_policies
            .iter()
            .map(|kp| {
                let arn = match kp.key.as_deref() {
                    // The rules place a planned key only where the inputs give its account
                    // and Region; otherwise they infer the account from the policy itself.
                    Some(k) => match by_address.get(k) {
                        Some(planned) => self.planned_arn(planned).filter(|a| {
                            let mut parts = a.split(':');
                            let (region, account) = (parts.nth(3), parts.next());
                            region != Some(crate::arn::UNKNOWN_REGION)
                                && (planned.arn.is_some() || self.tf_account.is_some())
                                && account.is_some()
                        }),
                        None => self.resolve_key(k),
                    },
                    None => (keyless == 1 && self.keys.len() == 1 && self.planned.is_empty())
                        .then(|| self.keys.first().map(|k| k.arn.clone()))
                        .flatten(),
                };
                let facts = arn.and_then(|a| self.lint_facts(&a));
                KeyPolicyForLint {
                    policy: &kp.policy,
                    key: kp.key.as_deref(),
                    facts,
                }
            })
            .collect()
    }

    /// What the rules need of a key: its described facts, else what its ARN says, with the
    /// aliases that name it (an `alias/aws/…` one makes it AWS managed).
    fn lint_facts(&self, arn: &str) -> Option<KeyFacts> {
        let mut facts = match self.lookup().facts.get(arn).and_then(|&i| self.keys.get(i)) {
            Some(k) => k.clone(),
            None => KeyFacts::from_arn(arn).ok()?,
        };
        if facts.key_manager.is_none()
            && self.aliases.iter().any(|(n, _, t)| {
                n.starts_with("alias/aws/")
                    && t.as_deref().is_some_and(|t| t == facts.key_id || t == arn)
            })
        {
            facts.key_manager = Some(crate::eval::KeyManager::Aws);
        }
        Some(facts)
    }

    /// The principal that ran the plan (`data.aws_caller_identity`), when the plan says.
    pub(crate) fn plan_caller(&self) -> Option<&str> {
        self.tf_caller.as_deref()
    }

    /// The grants the inputs list (`list-grants`, `create-grant` input, `aws_kms_grant`).
    pub(crate) fn grants(&self) -> &[Grant] {
        &self.grants
    }

    /// The keys `describe-key` output described.
    pub(crate) fn described_keys(&self) -> &[KeyFacts] {
        &self.keys
    }

    /// The account and Region a plan reveals (or `--account`/`--region` set).
    pub(crate) fn account_region(&self) -> (Option<&str>, Option<&str>) {
        (self.tf_account.as_deref(), self.tf_region.as_deref())
    }

    fn iam_covers(&self, account: &str) -> bool {
        let in_account = |arn: &str| arn.split(':').nth(4) == Some(account);
        self.role_by_account_name.contains_key(account)
            || self.users.iter().any(|u| in_account(&u.arn))
    }
}

impl Directory for Inventory {
    fn exists(&self, class: &crate::arn::PrincipalClass) -> Option<bool> {
        use crate::arn::PrincipalClass as P;
        let account = class.account()?;
        if !self.has_iam || !self.iam_covers(account) {
            return None;
        }
        let name_of = |arn: &str| arn.rsplit('/').next().map(str::to_owned);
        match class {
            P::Account { .. } => Some(true),
            P::User { arn, .. } => {
                let name = name_of(arn)?;
                Some(
                    self.user_by_arn.contains_key(arn.as_str())
                        || self
                            .users
                            .iter()
                            .any(|u| u.name == name && u.arn.split(':').nth(4) == Some(account)),
                )
            }
            P::Role { arn, .. } => {
                let name = name_of(arn)?;
                Some(
                    self.role_by_arn.contains_key(arn.as_str())
                        || self
                            .role_by_account_name
                            .get(account)
                            .is_some_and(|m| m.contains_key(&name)),
                )
            }
            P::AssumedRole { arn, .. } => {
                // assumed-role/<role>/<session>: the role must exist.
                let role = arn.split('/').nth(1)?.to_owned();
                Some(
                    self.role_by_account_name
                        .get(account)
                        .is_some_and(|m| m.contains_key(&role)),
                )
            }
            _ => None,
        }
    }

    fn identity_of(&self, caller: &Caller) -> Option<Vec<NamedPolicy>> {
        if !self.has_iam {
            return None;
        }
        let cp = self.caller_policies(caller);
        if cp.found { cp.identity } else { None }
    }
}

/// What the access graph reads: the principals, their trust policies and every key.
impl Inventory {
    /// IAM users, in input order.
    pub(crate) fn users(&self) -> &[User] {
        &self.users
    }

    /// IAM groups, in input order.
    pub(crate) fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// IAM roles, in input order.
    pub(crate) fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// The trust policies of a role, when the inputs hold them.
    pub(crate) fn trust_policies(&self, role_arn: &str) -> Option<&[NamedPolicy]> {
        self.trust.get(role_arn).map(Vec::as_slice)
    }

    /// Aliases: (name, alias ARN, target key id, ARN or address).
    pub(crate) fn aliases(&self) -> impl Iterator<Item = (&str, Option<&str>, Option<&str>)> {
        self.aliases
            .iter()
            .map(|(n, a, t)| (n.as_str(), a.as_deref(), t.as_deref()))
    }

    /// Every key the inputs name by ARN (described, planned with a known or made ARN, the
    /// target of a key policy or grant), sorted.
    pub(crate) fn key_arns(&self) -> Vec<String> {
        let mut out = std::collections::BTreeSet::new();
        for k in &self.keys {
            out.insert(k.arn.clone());
        }
        for k in &self.planned {
            if let Some(a) = self.planned_arn(k) {
                out.insert(a);
            }
        }
        for p in &self.key_policies {
            if let Some(a) = p.key.as_deref().and_then(|k| self.resolve_key(k)) {
                out.insert(a);
            }
        }
        for g in &self.grants {
            if let Some(a) = g.key_id.as_deref().and_then(|k| self.resolve_key(k)) {
                out.insert(a);
            }
        }
        out.retain(|a| KeyFacts::from_arn(a).is_ok());
        out.into_iter().collect()
    }
}
