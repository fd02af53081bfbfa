//! The adversary's candidate values: for each condition key a search varies, the values an
//! adversary can give it (spec R24; `docs/semantics.md`, "The adversary model"), and the small
//! pattern, address and time helpers they are made with.

use super::{
    ADV_ORG, ADV_VPC, ADV_VPCE, Axis, CALLER_KEYS, FILL, Model, PUBLIC_ADDRESSES, owner_fact,
    owner_held, via_key,
};
use crate::policy::BaseOperator;

/// Candidate values in the order they are first added, each once.
#[derive(Debug, Default)]
struct Values(Vec<Option<String>>);

impl Values {
    fn add(&mut self, v: Option<String>) {
        if !self.0.contains(&v) {
            self.0.push(v);
        }
    }
}

impl Model<'_, '_> {
    /// The candidate values of one key for one of the key owner's principals calling
    /// `kms:PutKeyPolicy` directly (R109, R116): never through a service (no `kms:ViaService`,
    /// `aws:ViaAWSService` false), over TLS, at any time from now on, with no `aws:Source*`
    /// keys (a direct call by a principal, not a service), from the owner's own addresses,
    /// VPC endpoints and organisation, or any value of its own choosing elsewhere.
    pub(super) fn owner_axis(&self, key: &str) -> Option<Axis> {
        let only = |v: Option<&str>| {
            Some(Axis {
                key: if via_key(key) {
                    "kms:viaservice".to_owned()
                } else {
                    key.to_owned()
                },
                shown: key.to_owned(),
                values: vec![v.map(str::to_owned)],
            })
        };
        if via_key(key) {
            return only(None);
        }
        match key {
            "aws:securetransport" => return only(Some("true")),
            "aws:sourcearn" | "aws:sourceaccount" | "aws:sourceorgid" | "aws:sourceorgpaths" => {
                return only(None);
            }
            _ => {}
        }
        let mut axis = self.axis(key, false)?;
        let mentioned = self
            .conditions
            .iter()
            .filter(|(k, ..)| k == key)
            .flat_map(|(_, _, _, vs)| vs.iter());
        if key == "aws:sourceip" {
            // The owner's own public ranges; a private range is reached only through a VPC
            // endpoint, where `aws:SourceIp` is absent.
            axis.values = vec![None];
            axis.values
                .extend(PUBLIC_ADDRESSES.first().map(|a| Some((*a).to_owned())));
            for v in mentioned {
                if let Some((ip, _)) = cidr(v) {
                    if !private(ip) {
                        axis.values.push(Some(ip.to_string()));
                    }
                }
            }
        } else if owner_held(key, false) {
            for v in mentioned {
                let v = Some(fill(v));
                if !axis.values.contains(&v) {
                    axis.values.push(v);
                }
            }
        }
        Some(axis)
    }

    /// The candidate values of one key (`None`: the search does not vary it).
    pub(super) fn axis(&self, key: &str, service_caller: bool) -> Option<Axis> {
        if CALLER_KEYS.contains(&key) || owner_fact(key) {
            return None;
        }
        // R108: a name that is no condition key (`aws:PrincipleOrgID`, another service's key)
        // is never in a KMS request.
        let known = crate::catalog::condition_key(key).is_some()
            || (key.starts_with("aws:") && super::super::unknown_global_key::is_global(key));
        if !known {
            return Some(Axis {
                key: key.to_owned(),
                shown: key.to_owned(),
                values: vec![None],
            });
        }
        let shown = self
            .conditions
            .iter()
            .find(|(k, ..)| k == key)
            .map_or_else(|| key.to_owned(), |(_, s, ..)| s.clone());
        let mut values = Values::default();
        if key == "aws:securetransport" {
            values.add(Some("true".into()));
            values.add(Some("false".into()));
        } else if key == "aws:currenttime" || key == "aws:epochtime" {
            self.time_values(key, &mut values);
        } else if key == "aws:sourceip" {
            values.add(None);
            for v in self.addresses() {
                values.add(Some(v));
            }
        } else if key == "aws:vpcsourceip" {
            // The adversary's own VPC may use any private range.
            values.add(None);
            values.add(Some("10.0.0.1".into()));
            for (_, v) in self.mentioned(key) {
                if let Some(a) = first_address(v) {
                    values.add(Some(a));
                }
            }
        } else if via_key(key) {
            return Some(self.via_axis(values));
        } else if owner_held(key, service_caller) {
            self.owner_held_values(key, &mut values);
        } else {
            self.chosen_values(key, &mut values);
        }
        Some(Axis {
            key: key.to_owned(),
            shown,
            values: values.0,
        })
    }

    /// The values the policy's conditions on `key` name, with their operators.
    fn mentioned<'s>(
        &'s self,
        key: &'s str,
    ) -> impl Iterator<Item = (Option<BaseOperator>, &'s str)> + 's {
        self.conditions
            .iter()
            .filter(move |(k, ..)| k == key)
            .flat_map(|(_, _, op, vs)| vs.iter().map(move |v| (*op, v.as_str())))
    }

    /// `aws:CurrentTime` or `aws:EpochTime`: now, each time the policy names that is not past,
    /// and a time far ahead.
    fn time_values(&self, key: &str, values: &mut Values) {
        let epoch = key == "aws:epochtime";
        values.add(Some(if epoch {
            now_epoch().to_string()
        } else {
            self.now.clone()
        }));
        for (_, v) in self.mentioned(key) {
            if not_past(v, &self.now) {
                values.add(Some(v.to_owned()));
            }
        }
        values.add(Some(if epoch {
            "4102444799".into()
        } else {
            "2099-12-31T23:59:59Z".into()
        }));
    }

    /// The keys of how a request reached KMS, varied as one (`kms:ViaService`): not through
    /// a service, through each service the policy names in the key's Region, or through S3.
    fn via_axis(&self, mut values: Values) -> Axis {
        values.add(None);
        let region = &self.cx.facts.region;
        let named = self
            .conditions
            .iter()
            .filter(|(k, ..)| k == "kms:viaservice")
            .flat_map(|(_, _, _, vs)| vs.iter());
        for v in named {
            values.add(Some(v.replace('*', region).replace('?', "x")));
        }
        values.add(Some(format!("s3.{region}.amazonaws.com")));
        // R103, R106: `aws:CalledVia…` is set only by the services that support it; any
        // account can call through them.
        if self
            .conditions
            .iter()
            .any(|(k, ..)| k.starts_with("aws:calledvia"))
        {
            for s in crate::eval::CALLED_VIA_SERVICES {
                values.add(Some(format!("{s}.{region}.amazonaws.com")));
            }
        }
        Axis {
            key: "kms:viaservice".into(),
            shown: "kms:ViaService".into(),
            values: values.0,
        }
    }

    /// A key whose exact values are the owner's: absent, the adversary's own value, and each
    /// value the policy names that is the adversary's too (another organisation than the
    /// configured one, or a wildcard that pins no owner, filled in with the adversary's
    /// accounts).
    fn owner_held_values(&self, key: &str, values: &mut Values) {
        values.add(None);
        let own = match key {
            "aws:principalorgid" | "aws:sourceorgid" => Some(ADV_ORG.to_owned()),
            "aws:principalorgpaths" | "aws:sourceorgpaths" => {
                Some(format!("{ADV_ORG}/r-kmsa/ou-kmsa-adversary/"))
            }
            "aws:sourcevpce" => Some(ADV_VPCE.to_owned()),
            "aws:sourcevpc" => Some(ADV_VPC.to_owned()),
            "aws:sourceaccount" => self.accounts.first().cloned(),
            "aws:userid" => Some(format!("AROAKMSAUDITADVERSARY:{FILL}")),
            _ => None,
        };
        values.add(own);
        let other_org = |v: &str| {
            matches!(key, "aws:principalorgid" | "aws:sourceorgid")
                && self
                    .cx
                    .config
                    .organisation
                    .as_deref()
                    .is_some_and(|o| o != v)
        };
        for (_, v) in self.mentioned(key) {
            if other_org(v) {
                values.add(Some(v.to_owned()));
            } else if v.contains(['*', '?']) && !pins_owner(key, v) {
                if v.starts_with("arn:") {
                    for a in &self.accounts {
                        if let Some(x) = fill_arn(v, a) {
                            values.add(Some(x));
                        }
                    }
                } else if key == "aws:sourceaccount" {
                    for a in &self.accounts {
                        if pattern_matches(v, a) {
                            values.add(Some(a.clone()));
                        }
                    }
                } else {
                    values.add(Some(fill(v)));
                }
            }
        }
    }

    /// A key of the adversary's own choice: absent, each value the policy names (its
    /// wildcards filled in), and one more of its own.
    fn chosen_values(&self, key: &str, values: &mut Values) {
        values.add(None);
        for (op, v) in self.mentioned(key) {
            match op {
                Some(BaseOperator::Bool) | Some(BaseOperator::Null) => {
                    values.add(Some("true".into()));
                    values.add(Some("false".into()));
                }
                Some(
                    BaseOperator::NumericEquals
                    | BaseOperator::NumericNotEquals
                    | BaseOperator::NumericLessThan
                    | BaseOperator::NumericLessThanEquals
                    | BaseOperator::NumericGreaterThan
                    | BaseOperator::NumericGreaterThanEquals,
                ) => {
                    values.add(Some(v.to_owned()));
                    values.add(Some("0".into()));
                    if let Ok(n) = v.parse::<i64>() {
                        values.add(Some(n.saturating_add(1).to_string()));
                    }
                }
                _ => values.add(Some(fill(v))),
            }
        }
        values.add(Some(FILL.into()));
    }

    /// Public addresses the adversary may call from.
    fn addresses(&self) -> Vec<String> {
        let ranges: Vec<&str> = self
            .conditions
            .iter()
            .filter(|(k, ..)| k == "aws:sourceip")
            .flat_map(|(_, _, _, vs)| vs.iter().map(String::as_str))
            .collect();
        let mut out = Vec::new();
        for a in PUBLIC_ADDRESSES {
            let Ok(ip) = a.parse::<std::net::IpAddr>() else {
                continue;
            };
            let owned = ranges.iter().any(|r| {
                cidr(r).is_some_and(|(net, len)| {
                    let narrow = if net.is_ipv4() { len >= 8 } else { len >= 16 };
                    narrow && in_range(ip, net, len)
                })
            });
            if !owned {
                out.push((*a).to_owned());
            }
        }
        out
    }

    /// The candidate values of one key for a direct grant request (see [`Self::direct_grant`]).
    pub(super) fn grant_axis(&self, key: &str) -> Option<Axis> {
        let values: Vec<Option<String>> = match key {
            k if via_key(k) => vec![None],
            // A direct call: present and false (spec Q10).
            "kms:grantisforawsresource" => vec![Some("false".into())],
            "kms:granteeprincipal" | "kms:retiringprincipal" => {
                let partition = &self.cx.facts.partition;
                let mut v: Vec<Option<String>> = self
                    .accounts
                    .iter()
                    .map(|a| Some(format!("arn:{partition}:iam::{a}:role/{FILL}")))
                    .collect();
                for (_, _, _, vs) in self.conditions.iter().filter(|(k, ..)| k == key) {
                    for p in vs {
                        for a in &self.accounts {
                            if let Some(x) = fill_arn(p, a) {
                                if !v.contains(&Some(x.clone())) {
                                    v.push(Some(x));
                                }
                            }
                        }
                    }
                }
                v
            }
            "kms:grantoperations" => {
                let mut v: Vec<Option<String>> = vec![Some("Decrypt".into())];
                for (_, _, _, vs) in self.conditions.iter().filter(|(k, ..)| k == key) {
                    for o in vs {
                        if !o.contains(['*', '?']) && !v.contains(&Some(o.clone())) {
                            v.push(Some(o.clone()));
                        }
                    }
                }
                v
            }
            _ => return self.axis(key, false),
        };
        let shown = self
            .conditions
            .iter()
            .find(|(k, ..)| k == key)
            .map_or_else(|| key.to_owned(), |(_, s, ..)| s.clone());
        Some(Axis {
            key: key.to_owned(),
            shown,
            values,
        })
    }
}

/// A private (RFC 1918, unique-local, link-local or loopback) address.
fn private(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(a) => a.is_private() || a.is_loopback() || a.is_link_local(),
        std::net::IpAddr::V6(a) => {
            a.is_loopback() || (a.segments().first().copied().unwrap_or(0) & 0xfe00) == 0xfc00
        }
    }
}

/// Whether a wildcard value of an owner-held key still pins the owner: an organisation, VPC,
/// VPC endpoint or unique id given with enough of its random part that no adversary can get
/// one that matches (`o-a1b2c3d4e5/*`, `vpce-0a1b2c*`); `o-*` or `vpce-*` pin nothing.
fn pins_owner(key: &str, v: &str) -> bool {
    let (id, prefixes): (&str, &[&str]) = match key {
        "aws:principalorgpaths" | "aws:sourceorgpaths" => {
            (v.split('/').next().unwrap_or(v), &["o-"])
        }
        "aws:principalorgid" | "aws:sourceorgid" => (v, &["o-"]),
        "aws:sourcevpce" => (v, &["vpce-"]),
        "aws:sourcevpc" => (v, &["vpc-"]),
        "aws:userid" => (v.split(':').next().unwrap_or(v), &["AROA", "AIDA", "ASIA"]),
        _ => return false,
    };
    let fixed = id.split(['*', '?']).next().unwrap_or("");
    let random = prefixes
        .iter()
        .find_map(|p| fixed.strip_prefix(p))
        .unwrap_or(fixed);
    random.len() >= 4
}

/// The account and principal-name parts of an ARN pattern the policy expects.
pub(super) fn principal_parts(v: &str, accounts: &mut Vec<String>, names: &mut Vec<String>) {
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    let (Some(service), Some(account), Some(resource)) = (parts.get(2), parts.get(4), parts.get(5))
    else {
        return;
    };
    if account.contains(['*', '?']) {
        accounts.push((*account).to_owned());
    }
    if *service == "iam" && (resource.starts_with("role/") || resource.starts_with("user/")) {
        names.push(fill(resource));
    } else if *service == "sts" {
        if let Some(role) = resource
            .strip_prefix("assumed-role/")
            .and_then(|r| r.split('/').next())
        {
            names.push(format!("role/{}", fill(role)));
        }
    }
}

/// A pattern with its wildcards filled in by the adversary.
pub(super) fn fill(v: &str) -> String {
    v.replace('*', FILL).replace('?', "x")
}

/// An ARN pattern filled in with the adversary's account in the account field; `None` when the
/// account field names an account (it is then not the adversary's).
fn fill_arn(v: &str, account: &str) -> Option<String> {
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    let acc = parts.get(4)?;
    if !acc.contains(['*', '?']) && !acc.is_empty() {
        return None;
    }
    if !pattern_matches(acc, account) && !acc.is_empty() {
        return None;
    }
    let mut out: Vec<String> = Vec::with_capacity(6);
    for (i, p) in parts.iter().enumerate() {
        out.push(if i == 4 { account.to_owned() } else { fill(p) });
    }
    Some(out.join(":"))
}

/// A 12-digit account matching `pattern` that is none of `named`.
pub(super) fn fill_account(pattern: &str, named: &[&str]) -> Option<String> {
    for digit in ['9', '8', '7'] {
        let fixed: usize = pattern.chars().filter(|c| *c != '*').count();
        let stars = pattern.matches('*').count();
        if fixed > 12 {
            return None;
        }
        let per = if stars == 0 {
            0
        } else {
            (12 - fixed).div_ceil(stars)
        };
        let mut s = String::new();
        let mut left = 12 - fixed;
        for c in pattern.chars() {
            match c {
                '*' => {
                    let n = per.min(left);
                    left -= n;
                    s.extend(std::iter::repeat_n(digit, n));
                }
                '?' => s.push(digit),
                c => s.push(c),
            }
        }
        if crate::arn::is_account_id(&s)
            && !named.contains(&s.as_str())
            && pattern_matches(pattern, &s)
        {
            return Some(s);
        }
    }
    None
}

/// `*`/`?` matching, for the few places the model needs it.
fn pattern_matches(p: &str, s: &str) -> bool {
    crate::pattern::Pattern::parse(p, true, false).0.matches(s)
}

/// An address range `a.b.c.d/n` (or a bare address).
fn cidr(r: &str) -> Option<(std::net::IpAddr, u8)> {
    let (a, n) = r.split_once('/').unwrap_or((r, ""));
    let ip: std::net::IpAddr = a.trim().parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = if n.is_empty() {
        max
    } else {
        n.trim().parse().ok()?
    };
    (len <= max).then_some((ip, len))
}

fn in_range(ip: std::net::IpAddr, net: std::net::IpAddr, len: u8) -> bool {
    match (ip, net) {
        (std::net::IpAddr::V4(a), std::net::IpAddr::V4(b)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (std::net::IpAddr::V6(a), std::net::IpAddr::V6(b)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// The first address of a range, for the adversary's own VPC.
fn first_address(r: &str) -> Option<String> {
    cidr(r).map(|(ip, _)| ip.to_string())
}

/// Whether a date (ISO 8601 or epoch seconds) is now or later: the adversary can wait, not go
/// back.
fn not_past(v: &str, now: &str) -> bool {
    if let Ok(n) = v.parse::<i64>() {
        return n >= now_epoch();
    }
    v >= now.get(..v.len().min(now.len())).unwrap_or(now)
}

fn now_epoch() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The current time in ISO 8601, to the second.
pub(super) fn now_iso() -> String {
    crate::eval::iso8601(now_epoch())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R24: an account pattern is filled in with an account that is none of the named ones.
    #[test]
    fn r24_account_patterns_are_filled_with_an_unnamed_account() {
        let named = vec!["444499999999"];
        assert_eq!(
            fill_account("4444*", &named).as_deref(),
            Some("444488888888")
        );
        assert_eq!(fill_account("*", &[]).as_deref(), Some("999999999999"));
        assert_eq!(fill_account("1234567890123", &[]), None);
    }

    /// R24: a wildcard value of an owner-held key is the adversary's only when it pins no
    /// organisation, endpoint or unique id.
    #[test]
    fn r24_wildcards_that_pin_the_owner_are_not_the_adversarys() {
        assert!(!pins_owner("aws:principalorgid", "o-*"));
        assert!(pins_owner("aws:principalorgid", "o-a1b2c3d4e5*"));
        assert!(pins_owner("aws:principalorgpaths", "o-a1b2c3d4e5/*"));
        assert!(!pins_owner("aws:principalorgpaths", "o-*/r-ab12/*"));
        assert!(!pins_owner("aws:sourcevpce", "vpce-*"));
        assert!(pins_owner("aws:sourcevpce", "vpce-0a1b2c3d*"));
        assert!(!pins_owner("aws:userid", "AROA*"));
    }

    /// R24: an ARN pattern is the adversary's only when its account field is a wildcard.
    #[test]
    fn r105_arn_patterns_take_the_adversarys_account_only_where_open() {
        assert_eq!(
            fill_arn("arn:aws:cloudtrail:*:*:trail/*", "000011112222").as_deref(),
            Some("arn:aws:cloudtrail:kmsaudit-adversary:000011112222:trail/kmsaudit-adversary")
        );
        assert_eq!(
            fill_arn("arn:aws:cloudtrail:*:111122223333:trail/*", "000011112222"),
            None
        );
    }

    /// The public addresses the adversary calls from: a range is the owner's from /8 (IPv4).
    #[test]
    fn r24_public_addresses_and_ranges() {
        let (net, len) = cidr("0.0.0.0/0").unwrap_or((std::net::IpAddr::from([1, 1, 1, 1]), 99));
        assert_eq!(len, 0);
        assert!(in_range("52.94.0.99".parse().unwrap_or(net), net, len));
        let (n10, l10) = cidr("10.0.0.0/8").unwrap_or((net, 99));
        assert!(!in_range("52.94.0.99".parse().unwrap_or(net), n10, l10));
        assert!(private(n10));
        assert!(cidr("10.0.0.0/33").is_none());
        assert!(not_past("2099-01-01T00:00:00Z", &now_iso()));
        assert!(!not_past("2020-01-01T00:00:00Z", &now_iso()));
    }
}
