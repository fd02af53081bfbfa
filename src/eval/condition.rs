//! Condition operators (spec R27–R39): one (operator, key) pair against the context.

use std::borrow::Cow;
use std::net::IpAddr;

use super::context::{Ctx, Unknown, Val};
use super::{Open, Tri};
use crate::pattern::{Pattern, Token, VarValue, Variable};
use crate::policy::{BaseOperator, Condition, ConditionValue, SetOperator};

/// The outcome of one condition pair.
#[derive(Debug)]
pub(crate) struct CondOutcome {
    pub(crate) tri: Tri,
    /// Why it is unknown (and whether only because of residual keys).
    pub(crate) unknown: Option<(Open, bool)>,
    /// A short account for the trace (empty unless tracing).
    pub(crate) detail: String,
}

/// Outcome of comparing one request value with one policy value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Match,
    NoMatch,
    /// A numeric or date value that does not parse (Q14).
    Unparsable,
    /// A variable's value is not known.
    Unknown,
}

fn describe_values(c: &Condition) -> String {
    let vals: Vec<String> = c.values.iter().map(|v| format!("`{}`", v.text)).collect();
    match vals.len() {
        0 => "no value".into(),
        1 => vals.concat(),
        _ => format!("one of {}", vals.join(", ")),
    }
}

/// Evaluates one pair. `trace` asks for the detail text.
/// `in_deny`: the condition belongs to a `Deny` statement (R7).
pub(crate) fn eval_condition(
    c: &Condition,
    ctx: &Ctx<'_>,
    trace: bool,
    in_deny: bool,
) -> CondOutcome {
    let Some(base) = c.operator.base else {
        return CondOutcome {
            tri: Tri::Unknown,
            unknown: Some((Open::Operator(c.operator.raw.clone()), false)),
            detail: if trace {
                "unknown operator".into()
            } else {
                String::new()
            },
        };
    };
    let val = ctx.get(&c.key_lower, c.key_info);
    let multivalued = c.key_info.is_some_and(|i| i.multivalued);
    let mut var_unknown: Option<Open> = None;
    // R1 (v2): the role path was assumed; a value that could name the role under another
    // path is unknown, not "no match".
    let role_path = ctx.role_path_open(&c.key_lower);
    let tri = match (&val, base) {
        (Val::Unknown(Unknown::AlwaysSet(_)), BaseOperator::Null) => null_test(c, &val),
        (Val::Unknown(u), _) => {
            let residual = *u == Unknown::Residual;
            return CondOutcome {
                tri: Tri::Unknown,
                unknown: Some((
                    Open::Key {
                        key: c.key.clone(),
                        why: u.clone(),
                    },
                    residual,
                )),
                detail: if trace {
                    format!("`{}` is unknown", c.key)
                } else {
                    String::new()
                },
            };
        }
        (_, BaseOperator::Null) => null_test(c, &val),
        (Val::Absent, _) => Tri::from_bool(c.when_absent().unwrap_or(false)),
        (Val::Values(vs), _) if vs.is_empty() => Tri::from_bool(c.when_absent().unwrap_or(false)),
        (Val::Values(vs), _) => {
            let mut each =
                |r: &str| base_match(base, r, &c.values, ctx, role_path, &mut var_unknown);
            match c.operator.set {
                Some(SetOperator::ForAnyValue) => vs.iter().fold(Tri::No, |acc, r| acc.or(each(r))),
                Some(SetOperator::ForAllValues) => {
                    vs.iter().fold(Tri::Yes, |acc, r| acc.and(each(r)))
                }
                None if multivalued => {
                    // R34 (Q1): a plain operator on a present multivalued key is false, or
                    // with `--plain-op-on-multivalued any` true when any value matches.
                    let any = vs.iter().fold(Tri::No, |acc, r| acc.or(each(r)));
                    match ctx.opts.open.plain_op_on_multivalued {
                        Some(true) => any,
                        Some(false) => Tri::No,
                        // Not chosen: AWS documents neither reading. An Allow keeps the
                        // narrower one; a Deny that would apply under the other is open,
                        // never dropped.
                        None if in_deny && any != Tri::No => {
                            var_unknown = Some(Open::PlainOperatorOnMultivalued(c.key.clone()));
                            Tri::Unknown
                        }
                        None => Tri::No,
                    }
                }
                None => {
                    // R7 (Q9, v2): colliding encryption-context entries must all satisfy the
                    // test of an Allow; any one satisfying a Deny's test makes it apply, so a
                    // case twin added to the request never escapes a Deny.
                    if in_deny || ctx.opts.open.ec_collision_any {
                        vs.iter().fold(Tri::No, |acc, r| acc.or(each(r)))
                    } else {
                        vs.iter().fold(Tri::Yes, |acc, r| acc.and(each(r)))
                    }
                }
            }
        }
    };
    let detail = if trace {
        let got = match &val {
            Val::Absent => "absent".to_owned(),
            Val::Values(vs) => {
                let shown: Vec<String> = vs.iter().map(|v| format!("`{v}`")).collect();
                shown.join(", ")
            }
            Val::Unknown(_) => "unknown".into(),
        };
        format!(
            "{} `{}` {} {}: request has {got}",
            c.operator.raw,
            c.key,
            describe_values(c),
            tri.as_str()
        )
    } else {
        String::new()
    };
    let unknown = if tri == Tri::Unknown {
        Some((
            var_unknown.unwrap_or_else(|| Open::CannotJudge(c.key.clone())),
            false,
        ))
    } else {
        None
    };
    CondOutcome {
        tri,
        unknown,
        detail,
    }
}

fn null_test(c: &Condition, val: &Val<'_>) -> Tri {
    let present = match val {
        Val::Absent => false,
        // Q10: an empty list counts as absent.
        Val::Values(v) => !v.is_empty(),
        // R9: a key AWS always sets is present even when its value is unknown.
        Val::Unknown(Unknown::AlwaysSet(_)) => true,
        Val::Unknown(_) => return Tri::Unknown,
    };
    let mut out = Tri::No;
    for v in &c.values {
        let t = match v.text.to_ascii_lowercase().as_str() {
            "true" => Tri::from_bool(!present),
            "false" => Tri::from_bool(present),
            _ => Tri::Unknown,
        };
        out = out.or(t);
    }
    out
}

/// `<Base>(r, P)`: positive operators OR the values, negated ones AND the negations (R27).
fn base_match(
    base: BaseOperator,
    r: &str,
    values: &[ConditionValue],
    ctx: &Ctx<'_>,
    role_path: bool,
    var_unknown: &mut Option<Open>,
) -> Tri {
    let negated = base.is_negated();
    let mut acc = if negated { Tri::Yes } else { Tri::No };
    for p in values {
        let mut cmp = compare(base, r, p, ctx, var_unknown);
        if cmp == Cmp::NoMatch && role_path && could_name_role_elsewhere(base, p, ctx) {
            if var_unknown.is_none() {
                *var_unknown = Some(Open::RoleElsewhere(p.text.clone()));
            }
            cmp = Cmp::Unknown;
        } else if cmp == Cmp::Match && role_path && !matches_under_other_path(base, r, p, ctx) {
            // R1 (v2): the match holds only because the path was assumed to be `/`; the role
            // may sit under another path, where it would not hold.
            if var_unknown.is_none() {
                *var_unknown = Some(Open::RoleOnlyRootPath(p.text.clone()));
            }
            cmp = Cmp::Unknown;
        }
        let t = match (cmp, negated) {
            (Cmp::Match, false) => Tri::Yes,
            (Cmp::NoMatch, false) | (Cmp::Unparsable, false) => Tri::No,
            (Cmp::Match, true) => Tri::No,
            (Cmp::NoMatch, true) => Tri::Yes,
            (Cmp::Unparsable, true) => Tri::from_bool(ctx.opts.open.unparsable_negated_true),
            (Cmp::Unknown, _) => Tri::Unknown,
        };
        acc = if negated { acc.and(t) } else { acc.or(t) };
    }
    acc
}

/// Resolves a policy variable against the context (R37–R39).
pub(crate) fn resolve_var(v: &Variable, ctx: &Ctx<'_>, var_unknown: &mut Option<Open>) -> VarValue {
    let lower = v.key.to_lowercase();
    let info = super::context::key_info(&lower);
    let val = ctx.get(&lower, info);
    match val {
        Val::Values(vs) if vs.len() == 1 && !info.is_some_and(|i| i.multivalued) => {
            VarValue::Value(
                vs.into_iter()
                    .next()
                    .map(Cow::into_owned)
                    .unwrap_or_default(),
            )
        }
        Val::Values(vs) if vs.is_empty() => match &v.default {
            Some(d) => VarValue::Value(d.clone()),
            None => VarValue::Absent,
        },
        Val::Values(_) => {
            *var_unknown = Some(Open::MultivaluedVariable(v.key.clone()));
            VarValue::Unknown
        }
        Val::Absent => match &v.default {
            Some(d) => VarValue::Value(d.clone()),
            None => VarValue::Absent,
        },
        Val::Unknown(u) => {
            *var_unknown = Some(Open::Variable {
                key: v.key.clone(),
                why: u,
            });
            VarValue::Unknown
        }
    }
}

/// The pattern with variables substituted; `Err` when a variable is absent or unknown.
fn substitute<'p>(
    p: &'p Pattern,
    ctx: &Ctx<'_>,
    var_unknown: &mut Option<Open>,
) -> Result<Cow<'p, Pattern>, Cmp> {
    if !p.has_variables() {
        return Ok(Cow::Borrowed(p));
    }
    let mut out = Pattern::default();
    for t in &p.tokens {
        match t {
            Token::Var(v) => match resolve_var(v, ctx, var_unknown) {
                VarValue::Value(s) => {
                    if ctx.opts.open.substituted_wildcards {
                        // Q16 switched: the substituted text's `*` and `?` are wildcards.
                        let (sub, _) = Pattern::parse(&s, true, false);
                        out.tokens.extend(sub.tokens);
                    } else {
                        out.tokens.push(Token::Lit(s.into()));
                    }
                }
                // R39: an absent variable makes the value match nothing.
                VarValue::Absent => return Err(Cmp::NoMatch),
                VarValue::Unknown => return Err(Cmp::Unknown),
            },
            other => out.tokens.push(other.clone()),
        }
    }
    Ok(Cow::Owned(out))
}

fn literal_text(p: &Pattern) -> String {
    p.tokens
        .iter()
        .map(|t| match t {
            Token::Lit(s) => s.as_str(),
            Token::Star => "*",
            Token::One => "?",
            Token::Var(_) => "",
        })
        .collect()
}

fn compare(
    base: BaseOperator,
    r: &str,
    p: &ConditionValue,
    ctx: &Ctx<'_>,
    var_unknown: &mut Option<Open>,
) -> Cmp {
    use BaseOperator as B;
    let m = |b: bool| if b { Cmp::Match } else { Cmp::NoMatch };
    if r == super::context::EC2_INFRASTRUCTURE_ADDRESS {
        // R103: an EC2 infrastructure address lies outside every range a policy names, except
        // one that covers all addresses.
        return match base {
            B::IpAddress | B::NotIpAddress => match parse_cidr(&p.text) {
                Some((_, bits)) => m(bits == 0),
                None => Cmp::NoMatch,
            },
            // Which address it is, as text or number, is not known.
            B::StringEquals
            | B::StringNotEquals
            | B::StringEqualsIgnoreCase
            | B::StringNotEqualsIgnoreCase
            | B::StringLike
            | B::StringNotLike
            | B::NumericEquals
            | B::NumericNotEquals
            | B::NumericLessThan
            | B::NumericLessThanEquals
            | B::NumericGreaterThan
            | B::NumericGreaterThanEquals
            | B::DateEquals
            | B::DateNotEquals
            | B::DateLessThan
            | B::DateLessThanEquals
            | B::DateGreaterThan
            | B::DateGreaterThanEquals
            | B::Bool
            | B::BinaryEquals
            | B::ArnEquals
            | B::ArnLike
            | B::ArnNotEquals
            | B::ArnNotLike
            | B::Null => Cmp::Unknown,
        };
    }
    match base {
        B::StringEquals | B::StringNotEquals | B::StringLike | B::StringNotLike => {
            match substitute(&p.pattern, ctx, var_unknown) {
                Ok(pat) => m(pat.matches(r)),
                Err(c) => c,
            }
        }
        B::StringEqualsIgnoreCase | B::StringNotEqualsIgnoreCase => {
            match substitute(&p.pattern, ctx, var_unknown) {
                Ok(pat) => m(literal_text(&pat).to_lowercase() == r.to_lowercase()),
                Err(c) => c,
            }
        }
        B::NumericEquals
        | B::NumericNotEquals
        | B::NumericLessThan
        | B::NumericLessThanEquals
        | B::NumericGreaterThan
        | B::NumericGreaterThanEquals => {
            let (Some(a), Some(b)) = (parse_number(r), parse_number(&p.text)) else {
                return Cmp::Unparsable;
            };
            ordered(base, a.partial_cmp(&b))
        }
        B::DateEquals
        | B::DateNotEquals
        | B::DateLessThan
        | B::DateLessThanEquals
        | B::DateGreaterThan
        | B::DateGreaterThanEquals => {
            let (Some(a), Some(b)) = (parse_date(r), parse_date(&p.text)) else {
                return Cmp::Unparsable;
            };
            ordered(base, a.partial_cmp(&b))
        }
        B::Bool => {
            let pv = p.text.to_ascii_lowercase();
            if pv != "true" && pv != "false" {
                return Cmp::NoMatch;
            }
            m(r.eq_ignore_ascii_case(&pv))
        }
        B::BinaryEquals => match (base64(r), base64(&p.text)) {
            (Some(a), Some(b)) => m(a == b),
            _ => Cmp::NoMatch,
        },
        B::IpAddress | B::NotIpAddress => match (r.parse::<IpAddr>().ok(), parse_cidr(&p.text)) {
            (Some(ip), Some((net, bits))) => m(in_cidr(ip, net, bits)),
            _ => Cmp::NoMatch,
        },
        B::ArnEquals | B::ArnLike | B::ArnNotEquals | B::ArnNotLike => {
            match substitute(&p.pattern, ctx, var_unknown) {
                Ok(pat) => m(arn_like(&pat, r)),
                Err(c) => c,
            }
        }
        B::Null => Cmp::NoMatch,
    }
}

/// R1 (v2): whether the policy value `p` (no match for the role ARN with the assumed `/`
/// path) matches the caller's role under some other path `role/<path>/<name>`.
/// R1 (v2): whether value `p`, which matches the role ARN `r` derived with the assumed path
/// `/`, also matches the same role under another path — so the match is certain whatever the
/// real path is (a pattern such as `role/*` or `role/*App`). `r` is `…:role/<name>`.
fn matches_under_other_path(
    base: BaseOperator,
    r: &str,
    p: &ConditionValue,
    ctx: &Ctx<'_>,
) -> bool {
    let Some((head, name)) = r.rsplit_once('/') else {
        return true;
    };
    let other = format!("{head}/kmsaudit-other-path/{name}");
    let mut unused = None;
    compare(base, &other, p, ctx, &mut unused) == Cmp::Match
}

fn could_name_role_elsewhere(base: BaseOperator, p: &ConditionValue, ctx: &Ctx<'_>) -> bool {
    use BaseOperator as B;
    let c = ctx.caller;
    let mut unused = None;
    let Ok(pat) = substitute(&p.pattern, ctx, &mut unused) else {
        return false;
    };
    let prefix = format!("arn:{}:iam::{}:", c.partition, c.account);
    let resource_tail = format!("/{}", c.name);
    match base {
        B::ArnEquals | B::ArnLike | B::ArnNotEquals | B::ArnNotLike => {
            let parts = split_arn_pattern(&pat);
            let [a, part, service, region, account, resource] = parts.as_slice() else {
                return false;
            };
            a.matches("arn")
                && part.matches(&c.partition)
                && service.matches("iam")
                && region.matches("")
                && account.matches(&c.account)
                && globs_intersect(resource, "role/", &resource_tail)
        }
        B::StringEquals | B::StringNotEquals | B::StringLike | B::StringNotLike => {
            globs_intersect(&pat, &format!("{prefix}role/"), &resource_tail)
        }
        // Not a comparison an ARN could satisfy under another path.
        B::StringEqualsIgnoreCase
        | B::StringNotEqualsIgnoreCase
        | B::NumericEquals
        | B::NumericNotEquals
        | B::NumericLessThan
        | B::NumericLessThanEquals
        | B::NumericGreaterThan
        | B::NumericGreaterThanEquals
        | B::DateEquals
        | B::DateNotEquals
        | B::DateLessThan
        | B::DateLessThanEquals
        | B::DateGreaterThan
        | B::DateGreaterThanEquals
        | B::Bool
        | B::BinaryEquals
        | B::IpAddress
        | B::NotIpAddress
        | B::Null => false,
    }
}

/// Whether some text matches both the glob `p` and `<head><one or more characters><tail>`.
fn globs_intersect(p: &Pattern, head: &str, tail: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum G {
        Ch(char),
        One,
        Star,
    }
    let mut a: Vec<G> = Vec::new();
    for t in &p.tokens {
        match t {
            Token::Lit(s) => a.extend(s.chars().map(G::Ch)),
            Token::Star => a.push(G::Star),
            Token::One => a.push(G::One),
            Token::Var(_) => return false,
        }
    }
    let mut b: Vec<G> = head.chars().map(G::Ch).collect();
    b.push(G::One);
    b.push(G::Star);
    b.extend(tail.chars().map(G::Ch));
    let (n, m) = (a.len(), b.len());
    // reach[i][j]: the first i tokens of `a` and the first j of `b` can produce one text.
    let mut reach = vec![false; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    if let Some(r) = reach.get_mut(0) {
        *r = true;
    }
    for i in 0..=n {
        for j in 0..=m {
            if !reach.get(at(i, j)).copied().unwrap_or(false) {
                continue;
            }
            let ga = a.get(i).copied();
            let gb = b.get(j).copied();
            let mut set = |x: usize, y: usize| {
                if let Some(r) = reach.get_mut(at(x, y)) {
                    *r = true;
                }
            };
            // A star may produce nothing.
            if ga == Some(G::Star) {
                set(i + 1, j);
            }
            if gb == Some(G::Star) {
                set(i, j + 1);
            }
            match (ga, gb) {
                // A star absorbs one character the other side produces.
                (Some(G::Star), Some(G::Ch(_) | G::One)) => set(i, j + 1),
                (Some(G::Ch(_) | G::One), Some(G::Star)) => set(i + 1, j),
                (Some(G::Ch(x)), Some(G::Ch(y))) if x == y => set(i + 1, j + 1),
                (Some(G::One), Some(G::Ch(_) | G::One)) | (Some(G::Ch(_)), Some(G::One)) => {
                    set(i + 1, j + 1)
                }
                _ => {}
            }
        }
    }
    reach.get(at(n, m)).copied().unwrap_or(false)
}

fn ordered(base: BaseOperator, o: Option<std::cmp::Ordering>) -> Cmp {
    use BaseOperator as B;
    use std::cmp::Ordering::{Equal, Greater, Less};
    let Some(o) = o else { return Cmp::Unparsable };
    let b = match base {
        B::NumericEquals | B::NumericNotEquals | B::DateEquals | B::DateNotEquals => o == Equal,
        B::NumericLessThan | B::DateLessThan => o == Less,
        B::NumericLessThanEquals | B::DateLessThanEquals => o != Greater,
        B::NumericGreaterThan | B::DateGreaterThan => o == Greater,
        B::NumericGreaterThanEquals | B::DateGreaterThanEquals => o != Less,
        _ => false,
    };
    if b { Cmp::Match } else { Cmp::NoMatch }
}

fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty()
        || !t
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    t.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// ISO 8601 (`2026-01-02`, `2026-01-02T03:04:05Z`, with fraction or offset) or epoch seconds.
pub(crate) fn parse_date(s: &str) -> Option<f64> {
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse::<f64>().ok();
    }
    let (date, time) = match t.split_once(['T', 't', ' ']) {
        Some((d, tm)) => (d, Some(tm)),
        None => (t, None),
    };
    let mut dp = date.split('-');
    let y: i64 = dp.next()?.parse().ok()?;
    let mo: i64 = dp.next().map_or(Some(1), |x| x.parse().ok())?;
    let d: i64 = dp.next().map_or(Some(1), |x| x.parse().ok())?;
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let mut secs = days_from_civil(y, mo, d) as f64 * 86_400.0;
    if let Some(tm) = time {
        let (clock, offset) = split_offset(tm)?;
        let mut cp = clock.split(':');
        let h: f64 = cp.next()?.parse().ok()?;
        let mi: f64 = cp.next().map_or(Some(0.0), |x| x.parse().ok())?;
        let se: f64 = cp.next().map_or(Some(0.0), |x| x.parse().ok())?;
        secs += h * 3600.0 + mi * 60.0 + se - offset;
    }
    Some(secs)
}

fn split_offset(tm: &str) -> Option<(&str, f64)> {
    if let Some(c) = tm.strip_suffix(['Z', 'z']) {
        return Some((c, 0.0));
    }
    if let Some(i) = tm.rfind(['+', '-']) {
        let (c, off) = tm.split_at(i);
        let sign = if off.starts_with('-') { -1.0 } else { 1.0 };
        let off = off.get(1..)?;
        let (h, m) = off
            .split_once(':')
            .unwrap_or((off.get(..2)?, off.get(2..).unwrap_or("0")));
        let h: f64 = h.parse().ok()?;
        let m: f64 = if m.is_empty() { 0.0 } else { m.parse().ok()? };
        return Some((c, sign * (h * 3600.0 + m * 60.0)));
    }
    Some((tm, 0.0))
}

/// Days since 1970-01-01 (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn base64(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut buf = 0u32;
    let mut bits = 0u32;
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((buf >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

fn parse_cidr(s: &str) -> Option<(IpAddr, u32)> {
    match s.split_once('/') {
        Some((a, b)) => {
            let ip: IpAddr = a.parse().ok()?;
            let bits: u32 = b.parse().ok()?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            (bits <= max).then_some((ip, bits))
        }
        None => {
            let ip: IpAddr = s.parse().ok()?;
            Some((ip, if ip.is_ipv4() { 32 } else { 128 }))
        }
    }
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u32) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// Splits a pattern's tokens at the first five literal colons (an ARN's six parts).
pub(crate) fn split_arn_pattern(p: &Pattern) -> Vec<Pattern> {
    let mut parts = vec![Pattern::default()];
    for t in &p.tokens {
        match t {
            Token::Lit(s) => {
                let mut rest = s.as_str();
                while let Some(i) = rest.find(':').filter(|_| parts.len() < 6) {
                    let (head, tail) = rest.split_at(i);
                    if let Some(last) = parts.last_mut() {
                        if !head.is_empty() {
                            last.tokens.push(Token::Lit(head.into()));
                        }
                    }
                    parts.push(Pattern::default());
                    rest = tail.get(1..).unwrap_or("");
                }
                if let Some(last) = parts.last_mut() {
                    if !rest.is_empty() {
                        last.tokens.push(Token::Lit(rest.into()));
                    }
                }
            }
            other => {
                if let Some(last) = parts.last_mut() {
                    last.tokens.push(other.clone());
                }
            }
        }
    }
    parts
}

/// ARN condition operators (R32): six parts, each glob-matched; a non-ARN never matches.
fn arn_like(p: &Pattern, r: &str) -> bool {
    let parts = split_arn_pattern(p);
    if parts.len() != 6 {
        // A pattern that is not ARN-shaped matches only if it matches the whole text.
        return parts.len() == 1 && p.matches(r);
    }
    let Some(rp) = crate::arn::split_arn(r) else {
        return false;
    };
    let texts = [
        "arn",
        rp.partition,
        rp.service,
        rp.region,
        rp.account,
        rp.resource,
    ];
    parts.iter().zip(texts).all(|(pp, t)| pp.matches(t))
}

/// R21: Resource / NotResource matching of pre-split parts against a resource ARN, variables
/// substituted first (R42).
pub(crate) fn resource_match(
    parts: &[Pattern],
    resource: &str,
    ctx: &Ctx<'_>,
    var_unknown: &mut Option<Open>,
) -> Tri {
    resource_match_with(
        parts,
        resource,
        ctx.opts.open.short_resource_patterns_match_nothing,
        |p, t| match substitute(p, ctx, var_unknown) {
            Ok(pat) => Tri::from_bool(pat.matches(t)),
            Err(Cmp::Unknown) => Tri::Unknown,
            Err(_) => Tri::No,
        },
    )
}

/// [`resource_match`] with `variable` judging each part that holds a policy variable.
pub(crate) fn resource_match_with(
    parts: &[Pattern],
    resource: &str,
    short_patterns_match_nothing: bool,
    mut variable: impl FnMut(&Pattern, &str) -> Tri,
) -> Tri {
    // The ARN's parts, split on `:` byte by byte (as `splitn(6, ':')`, without the char
    // searcher: every statement of every probe matches its `Resource` here).
    let mut texts: [&str; 6] = [""; 6];
    let mut count = 0;
    let mut rest = resource;
    while let Some(slot) = texts.get_mut(count) {
        count += 1;
        let cut = (count < 6)
            .then(|| rest.bytes().position(|b| b == b':'))
            .flatten();
        match cut.and_then(|i| Some((rest.get(..i)?, rest.get(i + 1..)?))) {
            Some((head, tail)) => {
                *slot = head;
                rest = tail;
            }
            None => {
                *slot = rest;
                break;
            }
        }
    }
    let n = parts.len();
    if n == 0 {
        return Tri::No;
    }
    if n < 6 {
        // Q11: a short pattern matches only if its last part is exactly `*` (switched: only the
        // bare `*` matches).
        if short_patterns_match_nothing && n > 1 {
            return Tri::No;
        }
        let Some(last) = parts.last() else {
            return Tri::No;
        };
        if !last.is_star() || count < n - 1 {
            return Tri::No;
        }
    } else if count != 6 {
        return Tri::No;
    }
    let mut acc = Tri::Yes;
    for (i, p) in parts.iter().enumerate() {
        if n < 6 && i == n - 1 {
            break;
        }
        let Some(t) = texts.get(i) else {
            return Tri::No;
        };
        let r = if i == 2 {
            // The service part is literal.
            Tri::from_bool(p.as_literal() == Some(*t))
        } else if !p.has_variables() {
            Tri::from_bool(p.matches(t))
        } else {
            variable(p, t)
        };
        acc = acc.and(r);
        if acc == Tri::No {
            return Tri::No;
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_r32() {
        assert_eq!(parse_date("1970-01-02"), Some(86_400.0));
        assert_eq!(parse_date("1970-01-01T01:00:00Z"), Some(3600.0));
        assert_eq!(parse_date("1970-01-01T01:00:00+01:00"), Some(0.0));
        assert_eq!(parse_date("86400"), Some(86_400.0));
        assert_eq!(parse_date("yesterday"), None);
    }

    #[test]
    fn cidr_and_base64_r32() {
        let (n, b) = parse_cidr("203.0.113.0/24").unwrap();
        assert!(in_cidr("203.0.113.7".parse().unwrap(), n, b));
        assert!(!in_cidr("203.0.114.7".parse().unwrap(), n, b));
        let (n, b) = parse_cidr("2001:db8::/32").unwrap();
        assert!(in_cidr("2001:db8::1".parse().unwrap(), n, b));
        assert_eq!(base64("aGk="), Some(b"hi".to_vec()));
    }

    #[test]
    fn arn_patterns_split_into_six_parts_r21() {
        let p = Pattern::parse("arn:aws:kms:*:111122223333:key/mrk-*", true, false).0;
        assert!(arn_like(
            &p,
            "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"
        ));
        assert!(!arn_like(
            &p,
            "arn:aws:kms:eu-west-1:444455556666:key/mrk-1"
        ));
        // `*` does not cross a colon between parts.
        let p = Pattern::parse("arn:aws:kms:*:key/x", true, false).0;
        assert!(!arn_like(&p, "arn:aws:kms:us-east-1:111122223333:key/x"));
    }

    /// R21: a resource is split into at most six parts, the last keeping its colons; a short
    /// or empty resource keeps what it has.
    #[test]
    fn r21_resources_split_into_at_most_six_parts() {
        let parts = |pattern: &str| -> Vec<Pattern> {
            pattern
                .splitn(6, ':')
                .map(|t| Pattern::parse(t, true, false).0)
                .collect()
        };
        let yes = |pattern: &str, resource: &str| {
            resource_match_with(&parts(pattern), resource, false, |_, _| Tri::Unknown)
        };
        let arn = "arn:aws:logs:us-east-1:111122223333:log-group:/aws/x:*";
        assert_eq!(
            yes(
                "arn:aws:logs:us-east-1:111122223333:log-group:/aws/x:*",
                arn
            ),
            Tri::Yes
        );
        assert_eq!(yes("arn:aws:logs:*:*:*", arn), Tri::Yes);
        assert_eq!(
            yes("arn:aws:logs:us-east-1:111122223333:log-group", arn),
            Tri::No
        );
        assert_eq!(yes("arn:aws:kms:*:*:*:*", "arn:aws:kms:"), Tri::No);
        assert_eq!(
            yes("arn:aws:kms:*:*:key/x", "arn:aws:kms:::key/x"),
            Tri::Yes
        );
        assert_eq!(yes("arn:*", "arn:"), Tri::Yes);
        assert_eq!(yes("arn:*:*:*:*:*", ""), Tri::No);
    }
}
