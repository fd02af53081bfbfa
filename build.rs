//! Compiles `data/kms-service-reference.json` into static Rust tables so the binary never parses
//! the catalogue at start-up (a `check` of one small policy must cost a few milliseconds).
//!
//! The generated file defines `ACTIONS` (sorted by name, index = bit in an action mask) and
//! `CONDITION_KEYS` (sorted by lower-case name); `src/catalog.rs` wraps them.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

fn main() {
    let src = "data/kms-service-reference.json";
    println!("cargo:rerun-if-changed={src}");
    println!("cargo:rerun-if-changed=build.rs");
    let text = match std::fs::read_to_string(src) {
        Ok(t) => t,
        Err(e) => fail(&format!("cannot read {src}: {e}")),
    };
    let data: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => fail(&format!("{src} is not valid JSON: {e}")),
    };
    let out = generate(&data);
    let out_dir = std::env::var("OUT_DIR").unwrap_or_else(|_| fail("OUT_DIR not set"));
    let dest = Path::new(&out_dir).join("catalog_data.rs");
    if let Err(e) = std::fs::write(&dest, out) {
        fail(&format!("cannot write {}: {e}", dest.display()));
    }
}

#[expect(
    clippy::print_stderr,
    reason = "a build script reports failure on stderr"
)]
fn fail(msg: &str) -> ! {
    eprintln!("build.rs: {msg}");
    std::process::exit(1)
}

fn arr<'a>(v: &'a Value, key: &str) -> Vec<&'a Value> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn b(v: &Value, key: &str) -> bool {
    v.get(key).and_then(Value::as_bool).unwrap_or(false)
}

fn strs(v: &Value, key: &str) -> Vec<String> {
    arr(v, key)
        .into_iter()
        .filter_map(|x| x.as_str().map(str::to_owned))
        .collect()
}

fn lit(list: &[String]) -> String {
    let mut out = String::from("&[");
    for (i, x) in list.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{x:?}");
    }
    out.push(']');
    out
}

/// The lower-case fixed part of a pattern key: `aws:RequestTag/${TagKey}` -> `aws:requesttag/`.
fn prefix_of(name: &str) -> String {
    let cut = name
        .find("${")
        .or_else(|| name.find('*'))
        .unwrap_or(name.len());
    name.get(..cut).unwrap_or(name).to_ascii_lowercase()
}

struct Key {
    name: String,
    lower: String,
    pattern: bool,
    ty: String,
    multivalued: bool,
    resource_key: bool,
    values: Vec<String>,
    explicit_actions: Vec<String>,
    global: bool,
    deprecated: bool,
    expands: Vec<String>,
}

fn generate(data: &Value) -> String {
    let actions = arr(data, "actions");
    if actions.len() > 128 {
        fail("more than 128 actions: widen ActionMask");
    }
    let names: Vec<String> = actions.iter().map(|a| s(a, "name").to_owned()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    if sorted != names {
        fail("actions must be sorted by name in the data file");
    }
    let key_resource_keys: Vec<String> = arr(data, "resourceTypes")
        .into_iter()
        .find(|r| s(r, "name") == "key")
        .map(|r| strs(r, "conditionKeys"))
        .unwrap_or_default();

    // Condition keys: service keys first, then global keys not already listed.
    let mut keys: Vec<Key> = Vec::new();
    for c in arr(data, "conditionKeys") {
        let name = s(c, "key").to_owned();
        keys.push(Key {
            lower: name.to_ascii_lowercase(),
            pattern: b(c, "pattern"),
            ty: s(c, "type").to_owned(),
            multivalued: b(c, "multivalued"),
            resource_key: b(c, "resourceKey") || key_resource_keys.contains(&name),
            values: strs(c, "values"),
            explicit_actions: strs(c, "actions"),
            global: name.starts_with("aws:"),
            deprecated: b(c, "deprecated"),
            expands: strs(c, "expandsTo")
                .into_iter()
                .map(|x| x.to_ascii_lowercase())
                .collect(),
            name,
        });
    }
    for c in arr(data, "globalConditionKeys") {
        let name = s(c, "key").to_owned();
        if keys.iter().any(|k| k.name == name) {
            continue;
        }
        keys.push(Key {
            lower: name.to_ascii_lowercase(),
            pattern: name.contains("${"),
            ty: s(c, "type").to_owned(),
            multivalued: b(c, "multivalued"),
            resource_key: false,
            values: Vec::new(),
            explicit_actions: Vec::new(),
            global: true,
            deprecated: false,
            expands: Vec::new(),
            name,
        });
    }
    // `kms:PolicyName` is documented only in the API reference (spec Q22); accept it.
    for c in arr(data, "conditionKeysMentionedOnlyInApiDocs") {
        let name = s(c, "key").to_owned();
        keys.push(Key {
            lower: name.to_ascii_lowercase(),
            pattern: false,
            ty: s(c, "type").to_owned(),
            multivalued: false,
            resource_key: false,
            values: vec!["default".into(), "AWS_RAM".into()],
            explicit_actions: strs(c, "actions"),
            global: false,
            deprecated: false,
            expands: Vec::new(),
            name,
        });
    }
    keys.sort_by(|a, b| a.lower.cmp(&b.lower));

    let on_key: Vec<bool> = actions
        .iter()
        .map(|a| {
            arr(a, "resourceTypes")
                .iter()
                .any(|r| s(r, "name") == "key")
        })
        .collect();

    let mut out = String::new();
    out.push_str(
        "// @generated by build.rs from data/kms-service-reference.json; do not edit.\n\n",
    );
    let _ = writeln!(
        out,
        "pub(crate) static ACTIONS: [ActionInfo; {}] = [",
        actions.len()
    );
    for (i, a) in actions.iter().enumerate() {
        let resource_types: Vec<String> = arr(a, "resourceTypes")
            .iter()
            .map(|r| s(r, "name").to_owned())
            .collect();
        let perm = strs(a, "permissionIn");
        let cross = match a.get("crossAccount").and_then(Value::as_str) {
            Some("yes") => "CrossAccount::Yes",
            Some("no") => "CrossAccount::No",
            Some("special") => "CrossAccount::Special",
            Some("not-applicable") => "CrossAccount::NotApplicable",
            // Actions absent from the API model (e.g. SynchronizeMultiRegionKey) have no
            // "Cross-account use" paragraph; treat them as not usable cross-account.
            _ => "CrossAccount::No",
        };
        let _ = writeln!(
            out,
            "    ActionInfo {{ name: {:?}, lower: {:?}, on_key: {}, on_alias: {}, grantable: {}, cross_account: {}, iam_only: {}, grant_only: {}, recipient_attestation: {}, in_service_reference: {}, access_levels: {} }},",
            s(a, "name"),
            s(a, "name").to_ascii_lowercase(),
            on_key.get(i).copied().unwrap_or(false),
            resource_types.iter().any(|r| r == "alias"),
            b(a, "grantable"),
            cross,
            perm == ["iam-policy"],
            perm == ["grant"],
            b(a, "recipientAttestationKeys"),
            b(a, "inServiceAuthorizationReference"),
            lit(&strs(a, "accessLevels")),
        );
    }
    out.push_str("];\n\n");

    let _ = writeln!(
        out,
        "pub(crate) static CONDITION_KEYS: [ConditionKeyInfo; {}] = [",
        keys.len()
    );
    for k in &keys {
        // Which actions the key can be present for (spec R44): the actions that list it, every
        // key-resource action for resource keys, every action for global keys.
        let mut mask: u128 = 0;
        for (i, a) in actions.iter().enumerate() {
            let name = s(a, "name");
            let listed = k.explicit_actions.iter().any(|x| x == name)
                || strs(a, "conditionKeys").contains(&k.name)
                || (k.lower.starts_with("kms:recipientattestation:")
                    && b(a, "recipientAttestationKeys"));
            let resource = k.resource_key && on_key.get(i).copied().unwrap_or(false);
            // Deprecated spec/usage aliases behave like kms:KeySpec / kms:KeyUsage (R94).
            let deprecated_alias =
                k.deprecated && (on_key.get(i).copied().unwrap_or(false) || name == "CreateKey");
            if listed || resource || k.global || deprecated_alias {
                mask |= 1u128 << i;
            }
        }
        let ty = match k.ty.as_str() {
            "String" => "KeyType::String",
            "ArrayOfString" => "KeyType::String",
            "Bool" => "KeyType::Bool",
            "Numeric" => "KeyType::Numeric",
            "Date" => "KeyType::Date",
            "ARN" => "KeyType::Arn",
            "IPAddress" => "KeyType::Ip",
            other => fail(&format!("unknown key type {other} for {}", k.name)),
        };
        let lower_prefix = if k.pattern {
            prefix_of(&k.name)
        } else {
            k.lower.clone()
        };
        let _ = writeln!(
            out,
            "    ConditionKeyInfo {{ name: {:?}, lower: {:?}, pattern: {}, ty: {}, multivalued: {}, resource_key: {}, values: {}, actions: 0x{:x}, global: {}, deprecated: {}, expands: {} }},",
            k.name,
            lower_prefix,
            k.pattern,
            ty,
            k.multivalued,
            k.resource_key,
            lit(&k.values),
            mask,
            k.global,
            k.deprecated,
            lit(&k.expands),
        );
    }
    out.push_str("];\n\n");
    let _ = writeln!(
        out,
        "pub(crate) static VIA_SERVICE_PREFIXES: &[&str] = {};",
        lit(&{
            let mut v = strs(data, "viaServicePrefixes");
            v.sort();
            v
        })
    );
    out
}
