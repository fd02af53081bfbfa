//! Intrinsic functions of a template (spec R134): `Ref`, `Fn::Sub`, `Fn::Join` and
//! `Fn::GetAtt` resolved from the template context, parameters and the template's own keys
//! and principals; anything else becomes the placeholder `unknown://…`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::TemplateContext;

/// A key id of UUID shape, stable for the logical id: the id of a template's own key.
pub(super) fn own_key_id(logical: &str) -> String {
    let h = logical.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xffff,
        (h >> 48) & 0xffff,
        h & 0xffff_ffff_ffff
    )
}

/// Resolves intrinsics; unresolvable values become `unknown://…` and are listed.
pub(super) struct Resolver<'a> {
    pub(super) ctx: &'a TemplateContext,
    pub(super) params: BTreeMap<String, String>,
    pub(super) unresolved: Vec<String>,
    /// The logical ids of the template's own KMS keys, sorted.
    pub(super) own_keys: Vec<String>,
    /// The key whose `KeyPolicy` is being resolved.
    pub(super) this_key: Option<String>,
    /// A `Resource` element is being resolved.
    pub(super) in_resource: bool,
    /// The template's own IAM principals: logical id → (name, ARN), when known.
    pub(super) own_principals: BTreeMap<String, (Option<String>, Option<String>)>,
}

impl Resolver<'_> {
    fn unknown(&mut self, what: String) -> Value {
        let v = Value::String(format!("unknown://{what}"));
        if !self.unresolved.contains(&what) {
            self.unresolved.push(what);
        }
        v
    }

    fn reference(&mut self, name: &str) -> Value {
        let known = match name {
            "AWS::AccountId" => self.stack_account(),
            "AWS::Region" => self.ctx.region.clone(),
            "AWS::Partition" => Some(self.ctx.partition.clone().unwrap_or_else(|| "aws".into())),
            "AWS::URLSuffix" => Some("amazonaws.com".into()),
            // `Ref` of a role, user or group is its name; of a managed policy, its ARN, which
            // the template's principals hold by logical id.
            other => self.params.get(other).cloned().or_else(|| {
                self.own_principals
                    .get(other)
                    .map(|(name, _)| name.clone().unwrap_or_else(|| other.to_owned()))
            }),
        };
        match known {
            Some(v) => Value::String(v),
            None => self.unknown(format!("Ref {name}")),
        }
    }

    /// `AWS::AccountId`: `--account`, else a stand-in. The stack's account is one account
    /// whatever its number, and the template's keys live in it: its root, its
    /// `aws:SourceAccount` and its key ARNs all name the key's own account (R134). The
    /// stand-in is the account the key rules give a key whose account nothing names.
    pub(super) fn stack_account(&self) -> Option<String> {
        self.ctx.account.clone().or_else(|| {
            self.ctx
                .stand_in_account
                .then(|| crate::arn::UNKNOWN_ACCOUNT.to_owned())
        })
    }

    /// `Fn::GetAtt Principal.Arn` of a role, user or group the template defines.
    fn own_principal_arn(&self, what: &str) -> Option<String> {
        let logical = what.strip_suffix(".Arn")?;
        self.own_principals.get(logical)?.1.clone()
    }

    /// `Fn::GetAtt Key.Arn` (or `${Key.Arn}`) of a KMS key the template itself defines: in the
    /// `Resource` of that key's own policy it is the key itself, which a key policy writes
    /// `"*"`; anywhere else (a condition value is compared as written, where `"*"` could be a
    /// wildcard) it is that key, placed in the stack's account and Region (any Region when none
    /// is given) under a key id made from its logical id. Anything else is not known.
    fn own_key_arn(&self, what: &str) -> Option<String> {
        let logical = what.strip_suffix(".Arn")?;
        self.own_keys
            .binary_search_by(|k| k.as_str().cmp(logical))
            .ok()?;
        if self.in_resource && self.this_key.as_deref() == Some(logical) {
            return Some("*".to_owned());
        }
        let partition = self.ctx.partition.as_deref().unwrap_or("aws");
        let region = self.ctx.region.as_deref().unwrap_or("*");
        Some(format!(
            "arn:{partition}:kms:{region}:{}:key/{}",
            self.stack_account()?,
            own_key_id(logical)
        ))
    }

    fn sub(&mut self, template: &str, vars: &Map<String, Value>) -> Value {
        let mut out = String::new();
        let mut rest = template;
        while let Some(i) = rest.find("${") {
            out.push_str(rest.get(..i).unwrap_or(""));
            let after = rest.get(i + 2..).unwrap_or("");
            let Some(close) = after.find('}') else {
                out.push_str(rest.get(i..).unwrap_or(""));
                rest = "";
                break;
            };
            let name = after.get(..close).unwrap_or("");
            rest = after.get(close + 1..).unwrap_or("");
            if let Some(lit) = name.strip_prefix('!') {
                // `${!Literal}` is the literal `${Literal}`.
                out.push_str("${");
                out.push_str(lit);
                out.push('}');
                continue;
            }
            let v = match vars.get(name) {
                Some(v) => self.resolve(v),
                None if name.contains('.') => match self
                    .own_key_arn(name)
                    .or_else(|| self.own_principal_arn(name))
                {
                    Some(arn) => Value::String(arn),
                    None => self.unknown(format!("GetAtt {name}")),
                },
                None => self.reference(name),
            };
            match v {
                Value::String(s) if s.starts_with("unknown://") => return Value::String(s),
                Value::String(s) => out.push_str(&s),
                other => out.push_str(&other.to_string()),
            }
        }
        out.push_str(rest);
        Value::String(out)
    }

    /// One member of an object, resolved; a `Resource` member is marked as such.
    fn member(&mut self, k: &str, v: &Value) -> (String, Value) {
        let outer = self.in_resource;
        self.in_resource = k == "Resource";
        let v = self.resolve(v);
        self.in_resource = outer;
        (k.to_owned(), v)
    }

    pub(super) fn resolve(&mut self, v: &Value) -> Value {
        match v {
            Value::Array(items) => Value::Array(items.iter().map(|x| self.resolve(x)).collect()),
            Value::Object(m) if m.len() == 1 => {
                let Some((k, arg)) = m.iter().next() else {
                    return Value::Null;
                };
                match k.as_str() {
                    "Ref" => match arg.as_str() {
                        Some(name) => self.reference(name),
                        None => self.unknown("Ref".into()),
                    },
                    "Fn::Sub" => match arg {
                        Value::String(s) => self.sub(s, &Map::new()),
                        Value::Array(a) => match (
                            a.first().and_then(Value::as_str),
                            a.get(1).and_then(Value::as_object),
                        ) {
                            (Some(s), Some(vars)) => self.sub(s, vars),
                            (Some(s), None) => self.sub(s, &Map::new()),
                            _ => self.unknown("Fn::Sub".into()),
                        },
                        _ => self.unknown("Fn::Sub".into()),
                    },
                    "Fn::Join" => {
                        let (Some(sep), Some(parts)) = (
                            arg.get(0).and_then(Value::as_str),
                            arg.get(1).and_then(Value::as_array),
                        ) else {
                            return self.unknown("Fn::Join".into());
                        };
                        let mut out = Vec::new();
                        for p in parts {
                            match self.resolve(p) {
                                Value::String(s) if s.starts_with("unknown://") => {
                                    return Value::String(s);
                                }
                                Value::String(s) => out.push(s),
                                other => out.push(other.to_string()),
                            }
                        }
                        Value::String(out.join(sep))
                    }
                    "Fn::GetAtt" => {
                        let what = match arg {
                            Value::Array(a) => a
                                .iter()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join("."),
                            Value::String(s) => s.clone(),
                            _ => String::new(),
                        };
                        match self
                            .own_key_arn(&what)
                            .or_else(|| self.own_principal_arn(&what))
                        {
                            Some(arn) => Value::String(arn),
                            None => self.unknown(format!("GetAtt {what}")),
                        }
                    }
                    name if name.starts_with("Fn::") || name == "Condition" => {
                        self.unknown(name.to_owned())
                    }
                    _ => Value::Object(m.iter().map(|(k, v)| self.member(k, v)).collect()),
                }
            }
            Value::Object(m) => Value::Object(m.iter().map(|(k, v)| self.member(k, v)).collect()),
            other => other.clone(),
        }
    }
}
