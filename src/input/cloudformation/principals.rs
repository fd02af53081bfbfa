//! A template's IAM principals (spec R134, R135 v2): roles, users and groups with the ARN
//! they will have in the stack's account, their inline and managed policies, boundaries and
//! group memberships, handed to the inventory as a plan's principals are.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{PolicyRole, Resolver, TemplateContext};
use crate::model::{Fact, Loaded, PlanPrincipals, PrincipalKind as Kind};

#[derive(Debug)]
struct Principal {
    kind: Kind,
    name: Option<String>,
    arn: Option<String>,
    attached: Vec<String>,
    boundary: Option<String>,
    groups: Vec<String>,
    unknown: Vec<String>,
}

/// The template's principals by logical id.
#[derive(Debug, Default)]
pub(super) struct World {
    principals: BTreeMap<String, Principal>,
}

fn known(v: Value) -> Option<String> {
    match v {
        Value::String(s) if !s.starts_with("unknown://") => Some(s),
        _ => None,
    }
}

impl World {
    /// Reads every role, user and group's name and ARN first, so that `Fn::GetAtt X.Arn`
    /// and `Ref X` resolve wherever they appear.
    pub(super) fn new(
        resources: &Map<String, Value>,
        resolver: &mut Resolver<'_>,
        ctx: &TemplateContext,
    ) -> World {
        let mut world = World::default();
        let partition = ctx.partition.clone().unwrap_or_else(|| "aws".to_owned());
        for (logical, r) in resources {
            let (kind, name_prop, word) = match r.get("Type").and_then(Value::as_str) {
                Some("AWS::IAM::Role") => (Kind::Role, "RoleName", "role"),
                Some("AWS::IAM::User") => (Kind::User, "UserName", "user"),
                Some("AWS::IAM::Group") => (Kind::Group, "GroupName", "group"),
                _ => continue,
            };
            let props = r.get("Properties");
            let name = props
                .and_then(|p| p.get(name_prop))
                .and_then(|v| known(resolver.resolve(v)));
            let path = props
                .and_then(|p| p.get("Path"))
                .and_then(|v| known(resolver.resolve(v)))
                .unwrap_or_else(|| "/".to_owned());
            // Without a name CloudFormation generates one: the ARN is not known.
            let arn = match (&name, resolver.stack_account()) {
                (Some(n), Some(account)) => {
                    Some(format!("arn:{partition}:iam::{account}:{word}{path}{n}"))
                }
                _ => None,
            };
            let mut unknown = Vec::new();
            if name.is_none() {
                unknown.push(format!(
                    "the name of `{logical}` is generated when the stack is created: what names it by ARN is not known"
                ));
            }
            resolver
                .own_principals
                .insert(logical.clone(), (name.clone(), arn.clone()));
            world.principals.insert(
                logical.clone(),
                Principal {
                    kind,
                    name,
                    arn,
                    attached: Vec::new(),
                    boundary: None,
                    groups: Vec::new(),
                    unknown,
                },
            );
        }
        // Managed policies and boundaries by ARN (or a template policy by logical id), and
        // a user's `Groups`.
        for (logical, r) in resources {
            let Some(props) = r.get("Properties") else {
                continue;
            };
            let arns: Vec<Value> = props
                .get("ManagedPolicyArns")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(|v| resolver.resolve(v)).collect())
                .unwrap_or_default();
            let boundary = props
                .get("PermissionsBoundary")
                .map(|v| resolver.resolve(v));
            let groups: Vec<Value> = props
                .get("Groups")
                .and_then(Value::as_array)
                .map(|a| a.iter().map(|v| resolver.resolve(v)).collect())
                .unwrap_or_default();
            let Some(p) = world.principals.get_mut(logical) else {
                continue;
            };
            for a in arns {
                match known(a) {
                    Some(a) => p.attached.push(a),
                    None => p.unknown.push(format!(
                        "a `ManagedPolicyArns` entry of `{logical}` is not known from the template"
                    )),
                }
            }
            match boundary.map(known) {
                Some(Some(b)) => p.boundary = Some(b),
                Some(None) => p.unknown.push(format!(
                    "the `PermissionsBoundary` of `{logical}` is not known from the template"
                )),
                None => {}
            }
            if p.kind == Kind::User {
                for g in groups {
                    match known(g) {
                        Some(g) => p.groups.push(g),
                        None => p.unknown.push(format!(
                            "a group of `{logical}` is not known from the template"
                        )),
                    }
                }
            }
        }
        world
    }

    /// The ARN a principal will have, else its logical id.
    pub(super) fn arn_of(&self, logical: &str) -> String {
        self.principals
            .get(logical)
            .and_then(|p| p.arn.clone())
            .unwrap_or_else(|| logical.to_owned())
    }

    fn group_key(&self, logical: &str) -> String {
        self.principals
            .get(logical)
            .and_then(|p| p.name.clone())
            .unwrap_or_else(|| logical.to_owned())
    }

    /// Where a `Policies` entry of a principal goes.
    pub(super) fn inline(&self, logical: &str, ty: &str) -> PolicyRole {
        match ty {
            "AWS::IAM::Role" => PolicyRole::RoleInline(self.arn_of(logical)),
            "AWS::IAM::User" => PolicyRole::UserInline(self.arn_of(logical)),
            _ => PolicyRole::GroupInline(self.group_key(logical)),
        }
    }

    /// The principal a `Ref` (its name) or name names, by logical id.
    fn find(&self, kind: Kind, name: &str) -> Option<String> {
        self.principals
            .iter()
            .find(|(l, p)| p.kind == kind && (p.name.as_deref() == Some(name) || *l == name))
            .map(|(l, _)| l.clone())
    }

    /// `AWS::IAM::ManagedPolicy` / `AWS::IAM::Policy` with `Roles`, `Users`, `Groups`: the
    /// document (held by logical id) is attached to each.
    pub(super) fn attach_policy(
        &mut self,
        logical: &str,
        props: &Value,
        resolver: &mut Resolver<'_>,
    ) {
        for (prop, kind) in [
            ("Roles", Kind::Role),
            ("Users", Kind::User),
            ("Groups", Kind::Group),
        ] {
            for v in props
                .get(prop)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
            {
                let Some(name) = known(resolver.resolve(&v)) else {
                    continue;
                };
                if let Some(l) = self.find(kind, &name) {
                    if let Some(p) = self.principals.get_mut(&l) {
                        p.attached.push(logical.to_owned());
                    }
                }
            }
        }
    }

    /// `AWS::IAM::UserToGroupAddition`.
    pub(super) fn add_to_group(&mut self, props: &Value, resolver: &mut Resolver<'_>) {
        let Some(group) = props
            .get("GroupName")
            .and_then(|g| known(resolver.resolve(g)))
        else {
            return;
        };
        for v in props
            .get("Users")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            let Some(name) = known(resolver.resolve(&v)) else {
                continue;
            };
            if let Some(l) = self.find(Kind::User, &name) {
                if let Some(p) = self.principals.get_mut(&l) {
                    p.groups.push(group.clone());
                }
            }
        }
    }

    /// Hands the principals to the inventory.
    pub(super) fn emit(self, out: &mut Loaded) {
        if self.principals.is_empty() {
            return;
        }
        let mut world = PlanPrincipals::default();
        for (logical, p) in self.principals {
            let arn = p.arn.unwrap_or_else(|| logical.clone());
            world.addresses.push((logical.clone(), arn.clone()));
            if !p.unknown.is_empty() {
                world.unknown.push((arn.clone(), p.unknown));
            }
            let name = p.name.unwrap_or(logical);
            world.add(p.kind, arn, name, p.attached, p.boundary, p.groups);
        }
        out.facts.push(Fact::PlanPrincipals(world));
    }
}
