//! Printing a policy model back as JSON (keys sorted, two-space indentation).
//! Parsing what this prints gives the same model (a property test checks it), so it is the
//! canonical form of a policy: what the model holds, and nothing else.

use serde_json::{Map, Value};

use super::{Effect, PolicyDocument, PrincipalType, Statement, Version};

fn list(items: Vec<String>) -> Value {
    if items.len() == 1 {
        items.into_iter().next().map_or(Value::Null, Value::String)
    } else {
        Value::Array(items.into_iter().map(Value::String).collect())
    }
}

fn statement(st: &Statement) -> Value {
    let mut m = Map::new();
    if let Some(sid) = &st.sid {
        m.insert("Sid".into(), Value::String(sid.value.clone()));
    }
    if let Some(e) = &st.effect {
        let word = match e.value {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        };
        m.insert("Effect".into(), Value::String(word.into()));
    }
    if let Some(pc) = &st.principal {
        let name = if pc.negated {
            "NotPrincipal"
        } else {
            "Principal"
        };
        let value = if pc.entries.iter().any(|e| e.ty == PrincipalType::Star) {
            Value::String("*".into())
        } else {
            let mut by_type = Map::new();
            for (ty, word) in [
                (PrincipalType::Aws, "AWS"),
                (PrincipalType::Service, "Service"),
                (PrincipalType::Federated, "Federated"),
                (PrincipalType::CanonicalUser, "CanonicalUser"),
            ] {
                let values: Vec<String> = pc
                    .entries
                    .iter()
                    .filter(|e| e.ty == ty)
                    .map(|e| e.value.clone())
                    .collect();
                if !values.is_empty() {
                    by_type.insert(word.into(), list(values));
                }
            }
            Value::Object(by_type)
        };
        m.insert(name.into(), value);
    }
    if let Some(a) = &st.action {
        let name = if a.negated { "NotAction" } else { "Action" };
        m.insert(
            name.into(),
            list(a.items.iter().map(|i| i.raw.clone()).collect()),
        );
    }
    if let Some(r) = &st.resource {
        let name = if r.negated { "NotResource" } else { "Resource" };
        m.insert(
            name.into(),
            list(r.items.iter().map(|i| i.raw.clone()).collect()),
        );
    }
    if !st.conditions.is_empty() {
        let mut block = Map::new();
        for c in &st.conditions {
            let op = block
                .entry(c.operator.raw.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(keys) = op {
                keys.insert(
                    c.key.clone(),
                    list(c.values.iter().map(|v| v.text.clone()).collect()),
                );
            }
        }
        m.insert("Condition".into(), Value::Object(block));
    }
    Value::Object(m)
}

/// The policy as pretty-printed JSON.
pub fn to_json(doc: &PolicyDocument) -> String {
    let mut m = Map::new();
    match doc.version {
        Version::V2012 => {
            m.insert("Version".into(), Value::String("2012-10-17".into()));
        }
        Version::V2008 => {
            m.insert("Version".into(), Value::String("2008-10-17".into()));
        }
        // An invalid `Version` is not kept: the document had a grammar error.
        Version::Missing | Version::Invalid => {}
    }
    if let Some(id) = &doc.id {
        m.insert("Id".into(), Value::String(id.value.clone()));
    }
    m.insert(
        "Statement".into(),
        Value::Array(doc.statements.iter().map(|s| statement(s)).collect()),
    );
    let mut out = serde_json::to_string_pretty(&Value::Object(m)).unwrap_or_default();
    out.push('\n');
    out
}
