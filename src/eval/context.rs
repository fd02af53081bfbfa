//! The request context of one authorization check (spec R2, R6, R7, R81–R108).
//!
//! Derives condition-key values from the caller, the key and the request, applying the
//! presence rules of R81 and R44 (a `kms:` key the action does not support is never present).
//! Values the user gave explicitly override derived ones. Facts about the key that were not
//! given are unknown; request keys that were not given are absent, or unknown in residual
//! evaluation.

use std::borrow::Cow;

use super::{Caller, CallerKind, KeyFacts, Options, Request};

use crate::catalog::{self, ActionInfo, ConditionKeyInfo};
use crate::policy::PolicyKind;
pub(crate) use KeyUnknown as Unknown;

/// Why a value is unknown, as data: `report` words it (and suggests the flag that gives it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyUnknown {
    /// A fact about the key that was not given.
    KeyFact(&'static str),
    /// A fact about the caller that was not given.
    CallerFact(&'static str),
    /// The caller's unique id (`aws:userid` of a user or a role session), not given.
    CallerUniqueId,
    /// Residual evaluation: the request key was left open.
    Residual,
    /// A condition key the engine does not know (R108).
    NotInCatalogue,
    /// A request key AWS always sets for this caller and this call, whose value was not
    /// given (R9, R107): present, value unknown.
    AlwaysSet(&'static str),
    /// A request key AWS sets on some calls of this caller and not on others, not given
    /// (R9): whether it is present is unknown too.
    MaybeSet(&'static str),
    /// A `ReEncrypt` check whose other key was not given (R3).
    DestinationKeyOpen,
    /// No current time was fixed (R107).
    TimeNotFixed,
    /// The time given is not a time (R107).
    NotATime(String),
    /// A `kms:Grant*` key or the context of `CreateGrant`, without the requested grant (R87).
    GrantRequestNotGiven,
}

/// A context value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Val<'a> {
    /// Not in the request.
    Absent,
    /// Not known.
    Unknown(Unknown),
    /// One or more values (several for multivalued keys, or colliding encryption-context keys).
    Values(Vec<Cow<'a, str>>),
}

fn one(s: impl Into<String>) -> Val<'static> {
    Val::Values(vec![Cow::Owned(s.into())])
}

fn borrowed(s: &str) -> Val<'_> {
    Val::Values(vec![Cow::Borrowed(s)])
}

fn flag(b: bool) -> Val<'static> {
    Val::Values(vec![Cow::Borrowed(if b { "true" } else { "false" })])
}

/// The value of `aws:SourceIp` when EBS/EC2 calls KMS on the caller's behalf: an EC2
/// infrastructure address, outside every range a policy names except one covering all
/// addresses (R103).
pub(crate) const EC2_INFRASTRUCTURE_ADDRESS: &str = "(an EC2 infrastructure address)";

/// The services that set `aws:CalledVia` when they call on a principal's behalf (R103, R106).
pub(crate) const CALLED_VIA_SERVICES: [&str; 4] = ["athena", "cloudformation", "dynamodb", "kms"];

/// The network keys of a request made through a VPC endpoint (R103).
fn is_vpc_key(key_lower: &str) -> bool {
    matches!(
        key_lower,
        "aws:sourcevpce" | "aws:sourcevpc" | "aws:vpcsourceip"
    )
}

/// `kms:ViaService` of a request, however it was given: `--via-service` or as a context key
/// (R103).
pub(crate) fn via_service(req: &Request) -> Option<&str> {
    req.via_service.as_deref().or_else(|| {
        req.context
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("kms:ViaService"))
            .map(|(_, v)| v.as_str())
    })
}

/// Whether the request names one of its VPC keys (R103).
pub(crate) fn has_vpc_keys(req: &Request) -> bool {
    req.context.iter().any(|(k, _)| {
        ["aws:SourceVpce", "aws:SourceVpc", "aws:VpcSourceIp"]
            .iter()
            .any(|v| k.eq_ignore_ascii_case(v))
    })
}

/// The context of one check.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub(crate) req: &'a Request,
    pub(crate) caller: &'a Caller,
    pub(crate) key: Option<&'a KeyFacts>,
    pub(crate) action: &'static ActionInfo,
    pub(crate) action_index: usize,
    pub(crate) opts: &'a Options,
    /// The encryption context for this check (source or destination for ReEncrypt, the grant
    /// constraint for CreateGrant — R87, R88).
    pub(crate) ec: Option<Vec<(&'a str, &'a str)>>,
    /// For ReEncrypt checks: whether source and destination keys are the same.
    pub(crate) reencrypt_same_key: Option<bool>,
    /// The kind of policy being evaluated (for Q8).
    pub(crate) policy_kind: PolicyKind,
}

impl<'a> Ctx<'a> {
    fn explicit(&self, key_lower: &str) -> Option<Val<'a>> {
        let mut vals: Vec<Cow<'a, str>> = Vec::new();
        for (k, v) in &self.req.context {
            if k.len() == key_lower.len() && k.to_lowercase() == key_lower {
                vals.push(Cow::Borrowed(v.as_str()));
            }
        }
        if vals.is_empty() {
            None
        } else {
            Some(Val::Values(vals))
        }
    }

    /// R1 (v2): `key_lower` is `aws:PrincipalArn` derived for a session whose role path was
    /// assumed, not given.
    pub(crate) fn role_path_open(&self, key_lower: &str) -> bool {
        key_lower == "aws:principalarn"
            && self.caller.kind == CallerKind::AssumedRole
            && self.caller.role_path_assumed
            && self.explicit(key_lower).is_none()
    }

    /// A request key that was not given: absent, or unknown in residual evaluation.
    fn not_given(&self) -> Val<'a> {
        if self.opts.residual {
            Val::Unknown(Unknown::Residual)
        } else {
            Val::Absent
        }
    }

    /// A request parameter that was not given (R92): present with the parameter's default,
    /// which AWS fills in when a request omits it; open in residual evaluation.
    fn defaulted(&self, default: &'static str) -> Val<'a> {
        if self.opts.residual {
            Val::Unknown(Unknown::Residual)
        } else {
            borrowed(default)
        }
    }

    /// Whether the check is of `CreateKey`, whose key properties are request parameters.
    fn creates_key(&self) -> bool {
        self.key.is_none() && self.action.name == "CreateKey"
    }

    /// Residual evaluation with `kms:ViaService` given neither by `--via-service` nor by
    /// `--context`: whether the call comes through a service is open.
    fn via_service_open(&self) -> bool {
        self.opts.residual
            && self.req.via_service.is_none()
            && !self
                .req
                .context
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("kms:ViaService"))
    }

    fn supported(&self, info: &ConditionKeyInfo) -> bool {
        info.actions & (1u128 << self.action_index) != 0
    }

    /// The value of a condition key (`key_lower` in lower case).
    pub(crate) fn get(&self, key_lower: &str, info: Option<&'static ConditionKeyInfo>) -> Val<'a> {
        // R44: a service key the action does not support is never present.
        if let Some(info) = info {
            if !info.global && !self.supported(info) {
                return Val::Absent;
            }
        }
        if key_lower.starts_with("kms:encryptioncontext:")
            || key_lower == "kms:encryptioncontextkeys"
        {
            return self.encryption_context(key_lower);
        }
        let via = via_service(self.req);
        // R103: through an integrated service the original request's VPC keys are absent,
        // however `kms:ViaService` was given.
        if via.is_some() && is_vpc_key(key_lower) {
            return Val::Absent;
        }
        if let Some(v) = self.explicit(key_lower) {
            return v;
        }
        self.principal_key(key_lower)
            .or_else(|| self.request_context_key(key_lower, via))
            .or_else(|| self.kms_parameter_key(key_lower))
            .or_else(|| self.key_fact_key(key_lower))
            .unwrap_or_else(|| self.other(key_lower, info))
    }

    /// The keys that describe the caller (who it is, its account, organisation and tags);
    /// `None` for any other key.
    fn principal_key(&self, key_lower: &str) -> Option<Val<'a>> {
        let c = self.caller;
        let service = c.kind == CallerKind::Service;
        let anonymous = c.kind == CallerKind::Anonymous;
        Some(match key_lower {
            "aws:principalarn" => match c.principal_arn() {
                Some(a) => borrowed(a),
                None => Val::Absent,
            },
            "aws:principalaccount" | "kms:calleraccount" if service => Val::Unknown(
                Unknown::CallerFact("account (a service principal's account is not known)"),
            ),
            "aws:principalaccount" | "kms:calleraccount" => {
                if anonymous {
                    Val::Absent
                } else {
                    borrowed(&c.account)
                }
            }
            "aws:principaltype" => match c.kind {
                CallerKind::Root => borrowed("Account"),
                CallerKind::User => borrowed("User"),
                CallerKind::AssumedRole => borrowed("AssumedRole"),
                CallerKind::FederatedUser => borrowed("FederatedUser"),
                CallerKind::Service => borrowed("AWSService"),
                CallerKind::Anonymous => borrowed("Anonymous"),
            },
            "aws:userid" => match c.kind {
                // Spec Q17: root → account id; federated → `<account>:<name>`.
                CallerKind::Root => borrowed(&c.account),
                CallerKind::FederatedUser => one(format!("{}:{}", c.account, c.name)),
                CallerKind::User | CallerKind::AssumedRole => Val::Unknown(Unknown::CallerUniqueId),
                CallerKind::Service | CallerKind::Anonymous => Val::Absent,
            },
            "aws:username" => {
                if c.kind == CallerKind::User {
                    borrowed(&c.name)
                } else {
                    Val::Absent
                }
            }
            // R9, R102: a service principal belongs to no organisation and carries no
            // principal tags, so these keys are absent from its requests — also in residual
            // evaluation, where leaving them open would hide a Deny keyed on them.
            "aws:principalorgid" | "aws:principalorgpaths" if service => Val::Absent,
            k if service && k.starts_with("aws:principaltag/") => Val::Absent,
            "aws:principalisawsservice" => flag(service),
            "aws:principalservicename" => {
                if service {
                    borrowed(&c.arn)
                } else {
                    Val::Absent
                }
            }
            _ => return None,
        })
    }

    /// The keys that describe how the request arrives (through a service, from which address,
    /// with which credentials); `None` for any other key.
    fn request_context_key(&self, key_lower: &str, via: Option<&'a str>) -> Option<Val<'a>> {
        let service = self.caller.kind == CallerKind::Service;
        Some(match key_lower {
            // R103: these keys follow `kms:ViaService`, however it was given; while it is
            // left open (residual evaluation), so are they — a Deny on `aws:ViaAWSService`
            // must not be read as "not through a service" before the request says so.
            "aws:viaawsservice" => match via {
                Some(_) => flag(true),
                None if self.via_service_open() => Val::Unknown(Unknown::Residual),
                None => flag(false),
            },
            // R103, R106: only the services that support it set `aws:CalledVia`.
            "aws:calledvia" | "aws:calledviafirst" | "aws:calledvialast" => match via {
                Some(v) => {
                    let prefix = v.split('.').next().unwrap_or(v);
                    if CALLED_VIA_SERVICES
                        .iter()
                        .any(|s| s.eq_ignore_ascii_case(prefix))
                    {
                        one(format!("{}.amazonaws.com", prefix.to_ascii_lowercase()))
                    } else {
                        Val::Absent
                    }
                }
                None if self.via_service_open() => Val::Unknown(Unknown::Residual),
                None => Val::Absent,
            },
            "kms:viaservice" => match via {
                Some(v) => borrowed(v),
                None => self.not_given(),
            },
            "aws:sourceip" => self.source_ip(via),
            "aws:multifactorauthpresent" | "aws:tokenissuetime" | "aws:multifactorauthage" => {
                self.temporary_credential_key(key_lower)
            }
            "aws:useragent" if !self.opts.residual && !service => {
                Val::Unknown(Unknown::AlwaysSet("the caller's user agent"))
            }
            _ => return None,
        })
    }

    /// The keys KMS sets from the request's parameters (alias, algorithm, grant request) and
    /// the request's own facts (transport, Region, time); `None` for any other key.
    fn kms_parameter_key(&self, key_lower: &str) -> Option<Val<'a>> {
        let service = self.caller.kind == CallerKind::Service;
        Some(match key_lower {
            "kms:requestalias" => match &self.req.request_alias {
                // The value is the alias name, also when an alias ARN was sent (R96).
                Some(a) => match a.find(":alias/") {
                    Some(i) => one(a.get(i + 1..).unwrap_or(a)),
                    None => borrowed(a),
                },
                None => self.not_given(),
            },
            "kms:encryptionalgorithm" => {
                if self.opts.residual {
                    Val::Unknown(Unknown::Residual)
                } else {
                    // R92: the default when the parameter is omitted.
                    borrowed("SYMMETRIC_DEFAULT")
                }
            }
            "kms:reencryptonsamekey" => match self.reencrypt_same_key {
                Some(b) => flag(b),
                // R3 (v2): a ReEncrypt check whose other key is not given.
                None if matches!(self.action.name, "ReEncryptFrom" | "ReEncryptTo") => {
                    Val::Unknown(Unknown::DestinationKeyOpen)
                }
                None => Val::Absent,
            },
            "kms:grantisforawsresource" => {
                if self.opts.residual {
                    Val::Unknown(Unknown::Residual)
                } else if self.opts.open.grant_for_aws_resource_absent {
                    Val::Absent
                } else {
                    // Q10: present and false on direct calls.
                    flag(false)
                }
            }
            "kms:grantoperations"
            | "kms:granteeprincipal"
            | "kms:retiringprincipal"
            | "kms:grantconstrainttype"
            | "kms:granteeserviceprincipal"
            | "kms:retiringserviceprincipal"
            | "kms:grantconstraintsourcearn" => self.grant_request_key(key_lower),
            "kms:bypasspolicylockoutsafetycheck"
                if self.opts.open.bypass_present_when_omitted && !self.opts.residual =>
            {
                flag(false)
            }
            // R92: a request parameter with a default is present with the default when the
            // request omits it ("this type of condition works even when the parameter doesn't
            // appear in the request").
            "kms:schedulekeydeletionpendingwindowindays" => self.defaulted("30"),
            "kms:rotationperiodindays" => self.defaulted("365"),
            // Worked out by KMS from the key's use, never sent: present or not, which value,
            // the inputs do not say.
            "kms:trailingdayswithoutkeyusage" if self.opts.residual => {
                Val::Unknown(Unknown::Residual)
            }
            "kms:trailingdayswithoutkeyusage" => {
                Val::Unknown(Unknown::MaybeSet("the days since the key was last used"))
            }
            // R104: `TagResource` requires `Tags` and `UntagResource` requires `TagKeys`, so
            // their requests always carry `aws:TagKeys`; a `TagResource` request carries
            // `aws:RequestTag/<k>` for the keys it sets. A request of either that gives no tags
            // leaves them open, never absent.
            "aws:tagkeys" if matches!(self.action.name, "TagResource" | "UntagResource") => {
                if self.opts.residual {
                    Val::Unknown(Unknown::Residual)
                } else {
                    Val::Unknown(Unknown::AlwaysSet("the tag keys the request sets"))
                }
            }
            k if self.action.name == "TagResource" && k.starts_with("aws:requesttag/") => {
                if self.opts.residual {
                    Val::Unknown(Unknown::Residual)
                } else {
                    Val::Unknown(Unknown::MaybeSet("the tags the request sets"))
                }
            }
            "aws:securetransport" => {
                if self.opts.residual {
                    Val::Unknown(Unknown::Residual)
                } else {
                    // R107: assumed true (recorded as an assumption in notes).
                    borrowed("true")
                }
            }
            "aws:requestedregion" => match self.key {
                _ if self.opts.residual => Val::Unknown(Unknown::Residual),
                Some(k) => borrowed(&k.region),
                // R107: every request goes to some Region; without a key it is not known.
                None if service => Val::Absent,
                None => Val::Unknown(Unknown::AlwaysSet("the Region the request is sent to")),
            },
            "aws:currenttime" | "aws:epochtime" => self.time(key_lower == "aws:epochtime"),
            _ => return None,
        })
    }

    /// The keys that describe the key asked about (its organisation, aliases, spec, usage,
    /// origin, Regions, account); `None` for any other key.
    fn key_fact_key(&self, key_lower: &str) -> Option<Val<'a>> {
        Some(match key_lower {
            "aws:resourceorgid" | "aws:resourceorgpaths" => match self.key {
                Some(_) if self.opts.residual => Val::Unknown(Unknown::Residual),
                // R9: set when the key's account is in an organisation; derived from an
                // Organizations tree when one is given.
                Some(_) => Val::Unknown(Unknown::MaybeSet(
                    "it depends on whether the key's account is in an organisation; give an Organizations tree",
                )),
                None => Val::Absent,
            },
            "kms:resourcealiases" => {
                if self.opts.open.resource_aliases_absent_in_key_policy
                    && self.policy_kind == PolicyKind::Key
                {
                    return Some(Val::Absent);
                }
                match self.key.and_then(|k| k.aliases.as_ref()) {
                    Some(a) if a.is_empty() => Val::Absent,
                    Some(a) => Val::Values(a.iter().map(|s| Cow::Borrowed(s.as_str())).collect()),
                    None => Val::Unknown(Unknown::KeyFact("aliases")),
                }
            }
            // R92: on `CreateKey` these are the request's parameters, with their defaults
            // when it omits them; on a key's operations, the key's properties (R94).
            "kms:keyspec" | "kms:customermasterkeyspec" if self.creates_key() => {
                self.defaulted("SYMMETRIC_DEFAULT")
            }
            "kms:keyusage" | "kms:customermasterkeyusage" if self.creates_key() => {
                self.defaulted("ENCRYPT_DECRYPT")
            }
            "kms:keyorigin" if self.creates_key() => self.defaulted("AWS_KMS"),
            "kms:multiregion" if self.creates_key() => self.defaulted("false"),
            "kms:keyspec" | "kms:customermasterkeyspec" => {
                self.key_fact(|k| k.key_spec.as_deref(), "key spec")
            }
            "kms:keyusage" | "kms:customermasterkeyusage" => {
                self.key_fact(|k| k.key_usage.as_deref(), "key usage")
            }
            "kms:keyorigin" => self.key_fact(|k| k.origin.as_deref(), "origin"),
            "kms:multiregion" => match self.key {
                Some(k) => flag(k.is_multi_region()),
                None => Val::Absent,
            },
            "kms:multiregionkeytype" => match self.key {
                Some(k) if k.is_multi_region() => match &k.multi_region_type {
                    Some(t) => borrowed(t),
                    None => Val::Unknown(Unknown::KeyFact("multi-Region key type")),
                },
                _ => Val::Absent,
            },
            "aws:resourceaccount" => match self.key {
                Some(k) => borrowed(&k.account),
                None => Val::Absent,
            },
            _ => return None,
        })
    }

    /// `aws:CurrentTime` or `aws:EpochTime` (R107): one pinned with `--context` fixes the
    /// other; otherwise the time of the run.
    fn time(&self, epoch: bool) -> Val<'a> {
        let other = if epoch {
            "aws:currenttime"
        } else {
            "aws:epochtime"
        };
        let given = match self.explicit(other) {
            Some(Val::Values(vs)) => vs.first().map(|v| v.to_string()),
            _ => None,
        };
        let Some(now) = given.as_deref().or(self.opts.now.as_deref()) else {
            return Val::Unknown(Unknown::TimeNotFixed);
        };
        let Some(secs) = super::condition::parse_date(now) else {
            return Val::Unknown(Unknown::NotATime(now.to_owned()));
        };
        if epoch {
            one(format!("{}", secs.floor() as i64))
        } else {
            one(iso8601(secs.floor() as i64))
        }
    }

    /// `aws:SourceIp` not given (R103, R107): absent through a VPC endpoint, an EC2
    /// infrastructure address when EBS/EC2 calls on the caller's behalf, otherwise present
    /// (the caller's address) with an unknown value.
    fn source_ip(&self, via: Option<&str>) -> Val<'a> {
        if self.caller.kind == CallerKind::Service {
            return self.not_given();
        }
        if via.is_some_and(|v| v.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("ec2."))) {
            return borrowed(EC2_INFRASTRUCTURE_ADDRESS);
        }
        if self.opts.residual {
            return Val::Unknown(Unknown::Residual);
        }
        match (via, has_vpc_keys(self.req)) {
            (None, true) => Val::Absent,
            (Some(_), true) => Val::Unknown(Unknown::MaybeSet(
                "the original request came through a VPC endpoint",
            )),
            (_, false) => Val::Unknown(Unknown::AlwaysSet("the caller's IP address")),
        }
    }

    /// `aws:MultiFactorAuthPresent`, `aws:TokenIssueTime`, `aws:MultiFactorAuthAge` not
    /// given (R9, R107): set for temporary credentials, which role sessions and federated users
    /// always use and IAM users and the root user may use.
    fn temporary_credential_key(&self, key_lower: &str) -> Val<'a> {
        if self.opts.residual {
            return Val::Unknown(Unknown::Residual);
        }
        match self.caller.kind {
            CallerKind::AssumedRole | CallerKind::FederatedUser
                if key_lower != "aws:multifactorauthage" =>
            {
                Val::Unknown(Unknown::AlwaysSet("the caller uses temporary credentials"))
            }
            CallerKind::AssumedRole | CallerKind::FederatedUser => Val::Unknown(Unknown::MaybeSet(
                "it is set only when the session was created with MFA",
            )),
            CallerKind::Root | CallerKind::User => Val::Unknown(Unknown::MaybeSet(
                "the caller may use temporary credentials (GetSessionToken, the console)",
            )),
            CallerKind::Service | CallerKind::Anonymous => Val::Absent,
        }
    }

    fn key_fact(&self, f: impl Fn(&KeyFacts) -> Option<&str>, what: &'static str) -> Val<'a> {
        match self.key {
            Some(k) => match f(k) {
                Some(v) => Val::Values(vec![Cow::Owned(v.to_owned())]),
                None => Val::Unknown(Unknown::KeyFact(what)),
            },
            // R94: no key resource (CreateKey…): the key property is absent.
            None => Val::Absent,
        }
    }

    fn other(&self, key_lower: &str, info: Option<&'static ConditionKeyInfo>) -> Val<'a> {
        if let Some(tag) = key_lower.strip_prefix("aws:principaltag/") {
            let vals: Vec<Cow<'a, str>> = self
                .caller
                .tags
                .iter()
                .filter(|(k, _)| k.to_lowercase() == tag)
                .map(|(_, v)| Cow::Borrowed(v.as_str()))
                .collect();
            return if vals.is_empty() {
                self.not_given()
            } else {
                Val::Values(vals)
            };
        }
        if let Some(tag) = key_lower.strip_prefix("aws:resourcetag/") {
            let Some(key) = self.key else {
                return Val::Absent;
            };
            return match &key.tags {
                Some(tags) => {
                    let vals: Vec<Cow<'a, str>> = tags
                        .iter()
                        .filter(|(k, _)| k.to_lowercase() == tag)
                        .map(|(_, v)| Cow::Borrowed(v.as_str()))
                        .collect();
                    if vals.is_empty() {
                        Val::Absent
                    } else {
                        Val::Values(vals)
                    }
                }
                None => Val::Unknown(Unknown::KeyFact("tags")),
            };
        }
        if info.is_some() {
            // A known key that is a request parameter: not given.
            return self.not_given();
        }
        // R108: a key the engine does not know.
        if self.opts.assume_absent {
            Val::Absent
        } else {
            Val::Unknown(Unknown::NotInCatalogue)
        }
    }

    fn grant_request_key(&self, key_lower: &str) -> Val<'a> {
        let Some(g) = &self.req.grant_request else {
            return Val::Unknown(Unknown::GrantRequestNotGiven);
        };
        match key_lower {
            "kms:grantoperations" => Val::Values(
                g.operations
                    .iter()
                    .map(|o| Cow::Borrowed(o.as_str()))
                    .collect(),
            ),
            "kms:granteeprincipal" if !g.grantee_is_service => borrowed(&g.grantee),
            "kms:granteeserviceprincipal" if g.grantee_is_service => borrowed(&g.grantee),
            "kms:retiringprincipal" | "kms:retiringserviceprincipal" => match &g.retiring {
                Some(r) => {
                    let is_service = !r.starts_with("arn:");
                    if is_service == (key_lower == "kms:retiringserviceprincipal") {
                        borrowed(r)
                    } else {
                        Val::Absent
                    }
                }
                None => Val::Absent,
            },
            "kms:grantconstrainttype" => {
                let c = &g.constraints;
                match (&c.equals, &c.subset) {
                    (Some(_), _) => borrowed("EncryptionContextEquals"),
                    (None, Some(_)) => borrowed("EncryptionContextSubset"),
                    (None, None) => Val::Absent,
                }
            }
            "kms:grantconstraintsourcearn" => match &g.constraints.source_arn {
                Some(a) => borrowed(a),
                None => Val::Absent,
            },
            _ => Val::Absent,
        }
    }

    fn encryption_context(&self, key_lower: &str) -> Val<'a> {
        let Some(ec) = &self.ec else {
            // For CreateGrant the context comes from the requested grant's constraint (R87).
            if self.action.name == "CreateGrant" && self.req.grant_request.is_none() {
                return Val::Unknown(Unknown::GrantRequestNotGiven);
            }
            return self.not_given();
        };
        if ec.is_empty() {
            return Val::Absent;
        }
        if key_lower == "kms:encryptioncontextkeys" {
            return Val::Values(ec.iter().map(|(k, _)| Cow::Borrowed(*k)).collect());
        }
        let name = key_lower
            .get("kms:encryptioncontext:".len()..)
            .unwrap_or("");
        // R7: the context key is matched case-insensitively; colliding entries all count.
        let vals: Vec<Cow<'a, str>> = ec
            .iter()
            .filter(|(k, _)| k.to_lowercase() == name)
            .map(|(_, v)| Cow::Borrowed(*v))
            .collect();
        if vals.is_empty() {
            Val::Absent
        } else {
            Val::Values(vals)
        }
    }
}

/// Seconds since 1970 as `YYYY-MM-DDThh:mm:ssZ`.
pub(crate) fn iso8601(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The catalogue entry for a lower-case key (cheap for the common keys).
pub(crate) fn key_info(key_lower: &str) -> Option<&'static ConditionKeyInfo> {
    catalog::condition_key(key_lower)
}
