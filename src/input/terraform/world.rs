//! A plan is a whole world (spec R135 v2): the principals it creates or names, what it
//! attaches to them, and the account, Region and partition its things will have.

use std::collections::{BTreeMap, BTreeSet};

use super::{Instance, configured, is_true, module_call_path, reference, s, split_address};
use crate::input::strings;
use crate::json::{Json, JsonKind};
pub(super) use crate::model::PrincipalKind as Kind;

/// The account, partition and Regions of what a plan creates (spec R135 "Key account and
/// Region in plans", in the issue's order: a flag, data sources in prior state, the provider
/// block, ARNs elsewhere in the plan).
#[derive(Debug, Clone, Default)]
pub(super) struct Place {
    /// The partition (`--partition`, `data.aws_partition`, else `aws`).
    pub(crate) partition: String,
    /// The account, when something says.
    pub(crate) account: Option<String>,
    /// Provider configuration key (`aws`, `aws.eu`, `module.m:aws`) → its Region.
    pub(crate) regions: BTreeMap<String, String>,
    /// `--region`, which wins for the default provider.
    pub(crate) flag_region: Option<String>,
}

impl Place {
    /// The Region of things made through the provider configuration `key`.
    pub(super) fn region_of(&self, key: Option<&str>) -> Option<String> {
        let key = key.unwrap_or("aws");
        let default = !key.contains('.') || key.ends_with(":aws");
        if default {
            if let Some(r) = &self.flag_region {
                return Some(r.clone());
            }
        }
        self.regions
            .get(key)
            .cloned()
            .or_else(|| self.flag_region.clone())
    }

    /// The account ARNs are made in: the plan's, or the stand-in every planned thing shares
    /// (one provider configuration is one account, whatever its number).
    pub(super) fn account_or_stand_in(&self) -> String {
        self.account
            .clone()
            .unwrap_or_else(|| crate::arn::UNKNOWN_ACCOUNT.to_owned())
    }
}

fn constant<'j, 'a>(exprs: Option<&'j Json<'a>>, attr: &str) -> Option<&'j Json<'a>> {
    exprs?.get(attr)?.get("constant_value")
}

/// Reads the place of a plan.
pub(super) fn place(
    j: &Json<'_>,
    text: Option<&str>,
    config: &BTreeMap<(String, String), &Json<'_>>,
    template: &super::super::TemplateContext,
) -> Place {
    let mut place = Place {
        partition: template.partition.clone().unwrap_or_default(),
        account: template.account.clone(),
        flag_region: template.region.clone(),
        ..Place::default()
    };
    // Provider blocks, with their Region when it is a constant.
    if let Some(pc) = j
        .get("configuration")
        .and_then(|c| c.get("provider_config"))
        .and_then(Json::as_object)
    {
        for m in pc {
            let exprs = m.value.get("expressions");
            if let Some(r) = constant(exprs, "region").and_then(Json::as_str) {
                place.regions.insert(m.key.to_string(), r.to_owned());
            }
        }
    }
    // Data sources read while planning: their values are in prior state, whatever the
    // provider block says (the Region may come from the environment).
    let mut caller_account = None;
    let mut data_partition = None;
    let prior = j
        .get("prior_state")
        .and_then(|p| p.get("values"))
        .and_then(|v| v.get("root_module"));
    let mut stack: Vec<&Json<'_>> = prior.into_iter().collect();
    let mut depth = 0usize;
    while let Some(m) = stack.pop() {
        depth += 1;
        if depth > 10_000 {
            break;
        }
        let module = s(m, "address").unwrap_or_default();
        for r in m.get("resources").and_then(Json::as_array).unwrap_or(&[]) {
            let (Some(ty), Some(values)) = (s(r, "type"), r.get("values")) else {
                continue;
            };
            match ty.as_str() {
                "aws_caller_identity" => {
                    caller_account = caller_account.or_else(|| s(values, "account_id"));
                }
                "aws_partition" => {
                    data_partition = data_partition.or_else(|| s(values, "partition"));
                }
                "aws_region" => {
                    let Some(region) = s(values, "name").or_else(|| s(values, "region")) else {
                        continue;
                    };
                    let address = s(r, "address").unwrap_or_default();
                    let key = config
                        .get(&(module_call_path(&module), split_address(&address, &module)))
                        .and_then(|c| s(c, "provider_config_key"))
                        .unwrap_or_else(|| "aws".to_owned());
                    place.regions.insert(key, region);
                }
                _ => {}
            }
        }
        for c in m
            .get("child_modules")
            .and_then(Json::as_array)
            .unwrap_or(&[])
        {
            stack.push(c);
        }
    }
    if place.partition.is_empty() {
        place.partition = data_partition.unwrap_or_else(|| "aws".to_owned());
    }
    if place.account.is_none() {
        place.account = caller_account.or_else(|| text.and_then(only_account_named));
    }
    place
}

/// The one account the plan's IAM and KMS ARNs name, when there is exactly one (AWS managed
/// policies, `arn:aws:iam::aws:policy/…`, name none).
fn only_account_named(text: &str) -> Option<String> {
    let mut found: BTreeSet<&str> = BTreeSet::new();
    for (i, _) in text.match_indices("arn:") {
        let rest = text.get(i..)?;
        let mut parts = rest.splitn(6, ':');
        let (_, _, service, _, account) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        );
        if matches!(service, Some("iam" | "kms" | "sts"))
            && account.is_some_and(crate::arn::is_account_id)
        {
            if let Some(a) = account {
                found.insert(a);
            }
            if found.len() > 1 {
                return None;
            }
        }
    }
    found.into_iter().next().map(str::to_owned)
}

/// The kind of principal a Terraform resource type creates.
fn kind_of_type(ty: &str) -> Option<Kind> {
    match ty {
        "aws_iam_role" => Some(Kind::Role),
        "aws_iam_user" => Some(Kind::User),
        "aws_iam_group" => Some(Kind::Group),
        _ => None,
    }
}

/// A principal of the plan, created by it or named by it.
#[derive(Debug, Clone)]
pub(super) struct Principal {
    pub(super) kind: Kind,
    /// Its Terraform address, when the plan creates it.
    pub(crate) address: Option<String>,
    /// Its name, when known.
    pub(crate) name: Option<String>,
    /// Its ARN after apply (or its address when its name is not known).
    pub(crate) arn: String,
    /// Managed policies attached: ARNs, or the address of a plan's `aws_iam_policy`.
    pub(crate) attached: Vec<String>,
    /// Its boundary (ARN or address).
    pub(crate) boundary: Option<String>,
    /// Group names (users).
    pub(crate) groups: Vec<String>,
    /// Why its IAM side is not fully known.
    pub(crate) unknown: Vec<String>,
}

impl Principal {
    /// What names a group in memberships and inline policies: its name, else its address.
    pub(super) fn group_key(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.address.clone())
            .unwrap_or_default()
    }
}

/// The principals of a plan, by address and by (kind, name).
#[derive(Debug, Default)]
pub(super) struct Principals {
    pub(crate) list: Vec<Principal>,
    by_address: BTreeMap<String, usize>,
    by_name: BTreeMap<(Kind, String), usize>,
}

impl Principals {
    /// The principal an attribute of `inst` names: by reference to a planned principal, else
    /// by the name it holds (a principal the plan does not create is added, with unknown
    /// others).
    pub(super) fn owner(
        &mut self,
        inst: &Instance<'_, '_>,
        cfg: Option<&Json<'_>>,
        attr: &str,
        kind: Kind,
        place: &Place,
    ) -> Option<usize> {
        if let Some(r) = reference(cfg, attr, &inst.module) {
            if let Some(&i) = self.by_address.get(&r).or_else(|| {
                // `aws_iam_role.this` for the one instance `aws_iam_role.this[0]`.
                let mut it = self
                    .by_address
                    .range(format!("{r}[")..)
                    .take_while(|(a, _)| a.starts_with(&format!("{r}[")));
                match (it.next(), it.next()) {
                    (Some((_, i)), None) => Some(i),
                    _ => None,
                }
            }) {
                return Some(i);
            }
        }
        let name = s(inst.after, attr)?;
        Some(self.named(kind, &name, place))
    }

    /// The principal of that kind and name, added (existing, with unknown others) if the
    /// plan does not create it.
    pub(super) fn named(&mut self, kind: Kind, name: &str, place: &Place) -> usize {
        // `aws_iam_role_policy.role` may hold `name` or `id` (the name) — or an ARN.
        let name = name.rsplit('/').next().unwrap_or(name);
        if let Some(&i) = self.by_name.get(&(kind, name.to_owned())) {
            return i;
        }
        let at = self.list.len();
        let arn = format!(
            "arn:{}:iam::{}:{}/{name}",
            place.partition,
            place.account_or_stand_in(),
            kind.word()
        );
        self.list.push(Principal {
            kind,
            address: None,
            name: Some(name.to_owned()),
            unknown: vec![format!(
                "the plan attaches policies to {} `{name}` but does not create it: its other policies are not in the plan (give them with authorization details or `--identity-policy`)",
                kind.word()
            )],
            arn,
            attached: Vec::new(),
            boundary: None,
            groups: Vec::new(),
        });
        self.by_name.insert((kind, name.to_owned()), at);
        at
    }

    /// The principals a list attribute (`users`, `roles`, `groups`) names: by the names it
    /// holds, else (known only after apply) by the plan's principals it refers to.
    pub(super) fn members(
        &mut self,
        inst: &Instance<'_, '_>,
        cfg: Option<&Json<'_>>,
        attr: &str,
        kind: Kind,
        place: &Place,
    ) -> Vec<usize> {
        let names = strings(inst.after.get(attr));
        let unknown = inst.unknown.is_some_and(|u| {
            u.get(attr).is_some_and(|v| match &v.kind {
                JsonKind::Bool(b) => *b,
                JsonKind::Array(a) => a.iter().any(|x| matches!(x.kind, JsonKind::Bool(true))),
                _ => false,
            })
        });
        if !unknown {
            return names.iter().map(|n| self.named(kind, n, place)).collect();
        }
        // Every principal of that kind the expression refers to.
        let refs = strings(
            cfg.and_then(|c| c.get("expressions"))
                .and_then(|e| e.get(attr))
                .and_then(|e| e.get("references")),
        );
        let prefix = format!("aws_iam_{}.", kind.word());
        let mut out: Vec<usize> = refs
            .iter()
            .filter(|r| r.starts_with(&prefix) && r.matches('.').count() == 1)
            .filter_map(|r| {
                let a = if inst.module.is_empty() {
                    r.clone()
                } else {
                    format!("{}.{r}", inst.module)
                };
                self.by_address.get(&a).copied()
            })
            .collect();
        out.extend(names.iter().map(|n| self.named(kind, n, place)));
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Hands the principals to the inventory as the authorization-details reader does, with
    /// their addresses and what is not known of them.
    pub(super) fn emit(mut self, late: &BTreeMap<String, ()>, out: &mut crate::model::Loaded) {
        use crate::model::{Fact, PlanPrincipals};
        let mut world = PlanPrincipals::default();
        // A managed policy known only after apply, or a group whose policies are not all
        // known, leaves its holders' IAM side unknown.
        for p in &mut self.list {
            for a in p.attached.iter().chain(&p.boundary) {
                if late.contains_key(a) {
                    p.unknown
                        .push(format!("the policy of `{a}` is known only after apply"));
                }
            }
        }
        let group_unknown: BTreeMap<String, Vec<String>> = self
            .list
            .iter()
            .filter(|p| p.kind == Kind::Group && !p.unknown.is_empty())
            .map(|p| (p.group_key(), p.unknown.clone()))
            .collect();
        let mut addresses = Vec::new();
        let mut unknown = Vec::new();
        for mut p in self.list {
            if p.kind == Kind::User {
                for g in &p.groups {
                    if let Some(u) = group_unknown.get(g) {
                        p.unknown.extend(u.iter().cloned());
                    }
                }
            }
            if let Some(a) = &p.address {
                addresses.push((a.clone(), p.arn.clone()));
            }
            if !p.unknown.is_empty() {
                p.unknown.sort();
                p.unknown.dedup();
                unknown.push((p.arn.clone(), p.unknown));
            }
            let name = p
                .name
                .unwrap_or_else(|| p.address.clone().unwrap_or_default());
            world.add(p.kind, p.arn, name, p.attached, p.boundary, p.groups);
        }
        world.addresses = addresses;
        world.unknown = unknown;
        out.facts.push(Fact::PlanPrincipals(world));
    }

    /// The principal by address.
    pub(super) fn by_address(&self, address: &str) -> Option<&Principal> {
        self.by_address.get(address).and_then(|&i| self.list.get(i))
    }
}

/// A managed policy named by an attachment: the plan's `aws_iam_policy` by address, else the
/// ARN it holds.
pub(super) fn policy_ref(
    inst: &Instance<'_, '_>,
    cfg: Option<&Json<'_>>,
    attr: &str,
) -> Option<String> {
    match reference(cfg, attr, &inst.module) {
        Some(r) if r.contains("aws_iam_policy.") => Some(r),
        _ => s(inst.after, attr).filter(|v| !v.is_empty()),
    }
}

/// The principals a plan creates, before anything is attached.
pub(super) fn created(
    insts: &[Instance<'_, '_>],
    config: &BTreeMap<(String, String), &Json<'_>>,
    place: &Place,
) -> Principals {
    let mut out = Principals::default();
    for inst in insts {
        let Some(kind) = kind_of_type(&inst.ty) else {
            continue;
        };
        let unknown = |attr: &str| inst.unknown.is_some_and(|u| is_true(u.get(attr)));
        let name = s(inst.after, "name").filter(|_| !unknown("name"));
        let path = s(inst.after, "path").unwrap_or_else(|| "/".to_owned());
        let arn = match (&name, s(inst.after, "arn").filter(|_| !unknown("arn"))) {
            (_, Some(arn)) => arn,
            (Some(n), None) => format!(
                "arn:{}:iam::{}:{}{path}{n}",
                place.partition,
                place.account_or_stand_in(),
                kind.word()
            ),
            // A generated name: the principal is named by its address, and ARN-based
            // matches on it are unknown.
            (None, None) => inst.address.clone(),
        };
        let mut p = Principal {
            kind,
            address: Some(inst.address.clone()),
            name: name.clone(),
            arn,
            attached: Vec::new(),
            boundary: None,
            groups: Vec::new(),
            unknown: Vec::new(),
        };
        if name.is_none() {
            p.unknown.push(format!(
                "the name of `{}` is generated at apply: what names it by ARN is not known",
                inst.address
            ));
        }
        if !inst.created {
            p.unknown.push(format!(
                "`{}` exists already: policies the plan does not show may be attached to it (give them with authorization details or `--identity-policy`)",
                inst.address
            ));
        }
        let cfg = config
            .get(&(
                module_call_path(&inst.module),
                split_address(&inst.address, &inst.module),
            ))
            .copied();
        // R135 v2: an unconfigured Optional+Computed list of a principal being created is
        // empty; a configured one that is unknown makes the IAM side unknown.
        if let Some(v) = inst
            .after
            .get("managed_policy_arns")
            .and_then(Json::as_array)
        {
            p.attached
                .extend(v.iter().filter_map(|x| x.as_str().map(str::to_owned)));
        }
        if configured(cfg, "managed_policy_arns") && unknown("managed_policy_arns") {
            p.unknown.push(format!(
                "the `managed_policy_arns` of `{}` are known only after apply",
                inst.address
            ));
        }
        let pb = inst
            .after
            .get("permissions_boundary")
            .and_then(Json::as_str)
            .filter(|b| !b.is_empty())
            .map(str::to_owned);
        match (pb, reference(cfg, "permissions_boundary", &inst.module)) {
            (_, Some(r)) if r.contains("aws_iam_policy.") => p.boundary = Some(r),
            (Some(b), _) => p.boundary = Some(b),
            (None, _) if unknown("permissions_boundary") => p.unknown.push(format!(
                "the permissions boundary of `{}` is known only after apply",
                inst.address
            )),
            _ => {}
        }
        if let Some(JsonKind::Array(blocks)) = inst
            .unknown
            .and_then(|u| u.get("inline_policy"))
            .map(|v| &v.kind)
        {
            if blocks.iter().any(|b| is_true(b.get("policy"))) {
                p.unknown.push(format!(
                    "an `inline_policy` of `{}` is known only after apply",
                    inst.address
                ));
            }
        } else if configured(cfg, "inline_policy") && unknown("inline_policy") {
            p.unknown.push(format!(
                "the `inline_policy` of `{}` is known only after apply",
                inst.address
            ));
        }
        let at = out.list.len();
        out.by_address.insert(inst.address.clone(), at);
        if let Some(n) = name {
            out.by_name.entry((kind, n)).or_insert(at);
        }
        out.list.push(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::only_account_named;

    #[test]
    fn the_one_account_the_plan_names() {
        assert_eq!(
            only_account_named(
                r#"{"p":"arn:aws:iam::111122223333:root","q":"arn:aws:iam::aws:policy/X"}"#
            )
            .as_deref(),
            Some("111122223333")
        );
        assert_eq!(
            only_account_named(
                "arn:aws:iam::111122223333:root arn:aws:kms:us-east-1:444455556666:key/x"
            ),
            None
        );
        assert_eq!(only_account_named("no arns"), None);
    }
}
