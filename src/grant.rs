//! KMS grants (spec §6, R69–R80): the model and its readers.
//!
//! Owns [`Grant`] and reading `aws kms list-grants` / `list-retirable-grants` output and
//! `create-grant --cli-input-json` input (R126, R127) from a JSON tree. Grants are not policies
//! (R43): they are matched by `eval`, never by the statement matcher.

use std::collections::BTreeMap;

use crate::arn::{PrincipalClass, classify_aws_principal};
use crate::json::{Json, JsonKind};
use crate::source::{SourceId, Span};

/// A grant's constraints (R73).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct GrantConstraints {
    /// `EncryptionContextEquals`.
    pub(crate) equals: Option<BTreeMap<String, String>>,
    /// `EncryptionContextSubset`.
    pub(crate) subset: Option<BTreeMap<String, String>>,
    /// `SourceArn`.
    pub(crate) source_arn: Option<String>,
}

/// One grant.
#[derive(Debug, Clone)]
pub struct Grant {
    /// `KeyId` as listed (a key ARN in `list-grants`, any key identifier in `create-grant`).
    pub(crate) key_id: Option<String>,
    /// `GrantId`.
    pub(crate) grant_id: Option<String>,
    /// `Name`.
    pub(crate) name: Option<String>,
    /// `GranteePrincipal` or `GranteeServicePrincipal`.
    pub(crate) grantee: String,
    /// The grantee is a service principal.
    pub(crate) grantee_is_service: bool,
    /// What the grantee names (for an AWS principal), classified once.
    pub(crate) grantee_class: PrincipalClass,
    /// `RetiringPrincipal` or `RetiringServicePrincipal`.
    pub(crate) retiring: Option<String>,
    /// `IssuingAccount` (`arn:aws:iam::<acct>:root`).
    pub(crate) issuing_account: Option<String>,
    /// `Operations`, exactly as listed.
    pub(crate) operations: Vec<String>,
    /// `Constraints`.
    pub(crate) constraints: GrantConstraints,
    /// Where it was read from.
    pub(crate) source: SourceId,
    /// The grant's JSON object.
    pub(crate) span: Span,
    /// The grantee's value (the whole grant when not known).
    pub(crate) grantee_span: Span,
    /// The `Operations` list (the whole grant when not known).
    pub(crate) operations_span: Span,
    /// Parts known only after apply (a Terraform plan, R133).
    pub(crate) late: LateParts,
}

/// The parts of a planned grant known only after apply (R133): a grantee that may be anyone,
/// operations that may be any, constraints that may restrict nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LateParts {
    /// `grantee_principal`.
    pub(crate) grantee: bool,
    /// `operations`.
    pub(crate) operations: bool,
    /// `constraints`.
    pub(crate) constraints: bool,
}

impl LateParts {
    /// Whether any part is known only after apply.
    pub(crate) fn any(self) -> bool {
        self.grantee || self.operations || self.constraints
    }
}

impl Grant {
    /// Binds a grant read for one key (`--grants` beside `--key`) to that key's ARN when its
    /// `KeyId` is missing or the bare key id (spec R79: a bare id names the key of that id in the
    /// account and Region the list was read for). A `KeyId` that is an ARN or an alias is kept,
    /// so the engine can tell a grant of another key.
    pub(crate) fn bind_to_key(&mut self, key_arn: &str, key_id: &str) {
        match self.key_id.as_deref() {
            None => self.key_id = Some(key_arn.to_owned()),
            Some(id) if id == key_id => self.key_id = Some(key_arn.to_owned()),
            Some(_) => {}
        }
    }

    /// A short label for traces: the grant id, else the name, else the position.
    pub(crate) fn label(&self) -> String {
        match (&self.grant_id, &self.name) {
            // A planned grant is named by its address until apply gives it an id.
            (Some(id), _) if id.contains('.') => id.clone(),
            (Some(id), _) if !id.is_empty() => {
                let short: String = id.chars().take(12).collect();
                if id.chars().count() > 12 {
                    format!("{short}…")
                } else {
                    short
                }
            }
            (_, Some(n)) if !n.is_empty() => n.clone(),
            _ => format!("at byte {}", self.span.start),
        }
    }
}

/// A problem reading a grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantError {
    /// What is wrong.
    pub(crate) message: String,
    /// Where.
    pub(crate) span: Span,
}

fn string(v: &Json<'_>, key: &str) -> Option<String> {
    v.get(key).and_then(Json::as_str).map(str::to_owned)
}

fn ec_map(v: &Json<'_>, errors: &mut Vec<GrantError>) -> Option<BTreeMap<String, String>> {
    let members = match v.as_object() {
        Some(m) => m,
        None => {
            errors.push(GrantError {
                message: "an encryption-context constraint must be an object of strings".into(),
                span: v.span,
            });
            return None;
        }
    };
    let mut out = BTreeMap::new();
    for m in members {
        match m.value.as_str() {
            Some(s) => {
                out.insert(m.key.to_string(), s.to_owned());
            }
            None => errors.push(GrantError {
                message: format!("encryption-context value of `{}` must be a string", m.key),
                span: m.value.span,
            }),
        }
    }
    Some(out)
}

/// Reads one grant object (a `GrantListEntry` or `create-grant` input).
pub fn read_grant(v: &Json<'_>, source: SourceId, errors: &mut Vec<GrantError>) -> Option<Grant> {
    if v.as_object().is_none() {
        errors.push(GrantError {
            message: format!("a grant must be an object, not {}", v.type_name()),
            span: v.span,
        });
        return None;
    }
    let (grantee, grantee_is_service) = match (
        string(v, "GranteePrincipal"),
        string(v, "GranteeServicePrincipal"),
    ) {
        (_, Some(s)) => (s, true),
        (Some(p), None) => {
            // Grants created by AWS services show the service principal here (R71).
            let svc = !p.starts_with("arn:") && p.contains(".amazonaws.com");
            (p, svc)
        }
        (None, None) => {
            errors.push(GrantError {
                message: "grant has no `GranteePrincipal`".into(),
                span: Span::new(v.span.start as usize, v.span.start as usize + 1),
            });
            return None;
        }
    };
    let mut operations = Vec::new();
    match v.get("Operations").map(|o| &o.kind) {
        Some(JsonKind::Array(items)) => {
            for it in items {
                match it.as_str() {
                    Some(s) => operations.push(s.to_owned()),
                    None => errors.push(GrantError {
                        message: "grant operations must be strings".into(),
                        span: it.span,
                    }),
                }
            }
        }
        Some(_) | None => errors.push(GrantError {
            message: "grant has no `Operations` list".into(),
            span: Span::new(v.span.start as usize, v.span.start as usize + 1),
        }),
    }
    let mut constraints = GrantConstraints::default();
    if let Some(c) = v.get("Constraints") {
        if c.as_object().is_none() && c.kind != JsonKind::Null {
            errors.push(GrantError {
                message: "`Constraints` must be an object".into(),
                span: c.span,
            });
        }
        if let Some(e) = c.get("EncryptionContextEquals") {
            constraints.equals = ec_map(e, errors);
        }
        if let Some(e) = c.get("EncryptionContextSubset") {
            constraints.subset = ec_map(e, errors);
        }
        constraints.source_arn = string(c, "SourceArn");
    }
    let grantee_class = if grantee_is_service {
        PrincipalClass::Service(grantee.clone())
    } else {
        classify_aws_principal(&grantee)
    };
    Some(Grant {
        grantee_class,
        key_id: string(v, "KeyId"),
        grant_id: string(v, "GrantId"),
        name: string(v, "Name"),
        grantee,
        grantee_is_service,
        retiring: string(v, "RetiringPrincipal").or_else(|| string(v, "RetiringServicePrincipal")),
        issuing_account: string(v, "IssuingAccount"),
        operations,
        constraints,
        source,
        span: v.span,
        grantee_span: v
            .get("GranteeServicePrincipal")
            .or_else(|| v.get("GranteePrincipal"))
            .map_or(v.span, |g| g.span),
        operations_span: v.get("Operations").map_or(v.span, |o| o.span),
        late: LateParts::default(),
    })
}

/// Reads `list-grants` output (`{"Grants": [...]}`), a bare array of grants, or one
/// `create-grant` input object.
pub fn read_grants(v: &Json<'_>, source: SourceId) -> (Vec<Grant>, Vec<GrantError>) {
    let mut errors = Vec::new();
    let mut out = Vec::new();
    let list = match (&v.kind, v.get("Grants")) {
        (_, Some(g)) => g.as_array(),
        (JsonKind::Array(items), None) => Some(items.as_slice()),
        (JsonKind::Object(_), None) if v.get("Operations").is_some() => {
            Some(std::slice::from_ref(v))
        }
        _ => None,
    };
    match list {
        Some(items) => {
            for it in items {
                if let Some(g) = read_grant(it, source, &mut errors) {
                    out.push(g);
                }
            }
        }
        None => errors.push(GrantError {
            message: "expected `aws kms list-grants` output (an object with `Grants`) or `create-grant` input".into(),
            span: Span::new(v.span.start as usize, v.span.start as usize + 1),
        }),
    }
    (out, errors)
}
