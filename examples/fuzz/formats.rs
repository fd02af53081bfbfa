//! What every report must be, whatever the input: JSON and SARIF parse (serde_json), JUnit is
//! well-formed XML (a small checker below: balanced tags, quoted attributes, known entities,
//! only characters XML allows), DOT is accepted by Graphviz's `dot` where it is installed,
//! Mermaid lines keep their quotes balanced, and no format lets a value start a line of its
//! own (a forged workflow command or diagram statement) or print a raw control character.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// A problem with `out` as a report in `format`, or `None`.
pub fn problem(format: &str, out: &str) -> Option<String> {
    if let Some(line) = forged(out) {
        return Some(format!("a value started a line of its own: {line:?}"));
    }
    match format {
        "json" => json(out).err(),
        "sarif" => sarif(out).err(),
        "junit" => xml(out).err(),
        "dot" => dot(out).err(),
        "mermaid" => mermaid(out).err(),
        "human" | "concise" | "github" => raw_controls(out).err(),
        _ => None,
    }
}

/// A line that input made: the generators' hostile strings put `INJECT` or a workflow
/// command after a line break.
pub fn forged(out: &str) -> Option<&str> {
    out.split(['\n', '\r']).find(|line| {
        let l = line.trim_start();
        l.starts_with("INJECT")
            || l.starts_with("::add-mask")
            || l.starts_with("::error file=README.md")
    })
}

fn json(out: &str) -> Result<(), String> {
    // One document, or one per line (`--requests`).
    if serde_json::from_str::<serde_json::Value>(out).is_ok() {
        return Ok(());
    }
    for line in out.lines().filter(|l| !l.trim().is_empty()) {
        serde_json::from_str::<serde_json::Value>(line).map_err(|e| format!("not JSON: {e}"))?;
    }
    Ok(())
}

fn sarif(out: &str) -> Result<(), String> {
    let v: serde_json::Value = serde_json::from_str(out).map_err(|e| format!("not JSON: {e}"))?;
    if v["version"] != "2.1.0" || !v["runs"].is_array() {
        return Err("not SARIF 2.1.0 (version, runs)".into());
    }
    for run in v["runs"].as_array().into_iter().flatten() {
        for r in run["results"].as_array().into_iter().flatten() {
            for l in r["locations"].as_array().into_iter().flatten() {
                let uri = l["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap_or("");
                if uri
                    .chars()
                    .any(|c| c.is_control() || c == ' ' || c == '"' || !c.is_ascii())
                {
                    return Err(format!("SARIF URI not percent-encoded: {uri:?}"));
                }
            }
        }
    }
    Ok(())
}

fn raw_controls(out: &str) -> Result<(), String> {
    match out.chars().find(|&c| {
        (c.is_control() && c != '\n' && c != '\t')
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    }) {
        Some(c) => Err(format!("a raw control character {c:?} in the output")),
        None => Ok(()),
    }
}

fn mermaid(out: &str) -> Result<(), String> {
    raw_controls(out)?;
    let mut lines = out.lines().filter(|l| !l.trim().is_empty());
    let first = lines.next().unwrap_or("");
    if !(first.starts_with("flowchart") || first.starts_with("graph") || first.starts_with("%%")) {
        return Err(format!("Mermaid starts with {first:?}"));
    }
    for l in lines {
        if l.matches('"').count() % 2 != 0 {
            return Err(format!("unbalanced quotes in Mermaid line {l:?}"));
        }
    }
    Ok(())
}

fn has_dot() -> bool {
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| {
        Command::new("dot")
            .arg("-V")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

fn dot(out: &str) -> Result<(), String> {
    raw_controls(out)?;
    if !has_dot() {
        return if out.trim_start().starts_with("digraph") {
            Ok(())
        } else {
            Err("DOT does not start with `digraph`".into())
        };
    }
    let mut child = Command::new("dot")
        .arg("-Tcanon")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("dot: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(out.as_bytes());
    }
    let o = child.wait_with_output().map_err(|e| format!("dot: {e}"))?;
    if o.status.success() && o.stderr.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "dot rejects the output: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ))
    }
}

fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

fn name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | ':' | '-' | '.')
}

/// Well-formed XML 1.0: one root element, balanced tags, quoted attributes without `<`,
/// entities that exist, character references to characters XML allows, no character it
/// forbids.
pub fn xml(out: &str) -> Result<(), String> {
    if let Some(c) = out.chars().find(|&c| !xml_char(c)) {
        return Err(format!("a character XML forbids: {c:?}"));
    }
    let mut stack: Vec<&str> = Vec::new();
    let mut roots = 0;
    let mut rest = out;
    while let Some(lt) = rest.find('<') {
        text(&rest[..lt], &stack)?;
        rest = &rest[lt..];
        if let Some(r) = rest.strip_prefix("<?") {
            let end = r.find("?>").ok_or("unclosed <?")?;
            rest = &r[end + 2..];
        } else if let Some(r) = rest.strip_prefix("<!--") {
            let end = r.find("-->").ok_or("unclosed comment")?;
            rest = &r[end + 3..];
        } else if let Some(r) = rest.strip_prefix("<![CDATA[") {
            let end = r.find("]]>").ok_or("unclosed CDATA")?;
            rest = &r[end + 3..];
        } else if let Some(r) = rest.strip_prefix("</") {
            let end = r.find('>').ok_or("unclosed end tag")?;
            let name = r[..end].trim();
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
            rest = &r[end + 1..];
        } else {
            let r = &rest[1..];
            let name_len = r.find(|c: char| !name_char(c)).unwrap_or(r.len());
            if name_len == 0 {
                return Err(format!("bad tag at {:?}", &rest[..rest.len().min(40)]));
            }
            let name = &r[..name_len];
            let mut a = &r[name_len..];
            loop {
                a = a.trim_start();
                if let Some(after) = a.strip_prefix("/>") {
                    if stack.is_empty() {
                        roots += 1;
                    }
                    a = after;
                    break;
                }
                if let Some(after) = a.strip_prefix('>') {
                    if stack.is_empty() {
                        roots += 1;
                    }
                    stack.push(name);
                    a = after;
                    break;
                }
                let n = a.find(|c: char| !name_char(c)).unwrap_or(a.len());
                if n == 0 {
                    return Err(format!("bad attribute in <{name}>"));
                }
                a = a[n..].trim_start();
                a = a
                    .strip_prefix('=')
                    .ok_or("attribute without =")?
                    .trim_start();
                let q = a.chars().next().ok_or("attribute without a value")?;
                if q != '"' && q != '\'' {
                    return Err(format!("unquoted attribute in <{name}>"));
                }
                let end = a[1..].find(q).ok_or("unclosed attribute")?;
                let v = &a[1..1 + end];
                if v.contains('<') {
                    return Err(format!("< in an attribute of <{name}>"));
                }
                entities(v)?;
                a = &a[end + 2..];
            }
            rest = a;
        }
    }
    text(rest, &stack)?;
    if !stack.is_empty() {
        return Err(format!("unclosed elements {stack:?}"));
    }
    if roots != 1 {
        return Err(format!("{roots} root elements"));
    }
    Ok(())
}

fn text(t: &str, stack: &[&str]) -> Result<(), String> {
    if stack.is_empty() && !t.trim().is_empty() {
        return Err(format!(
            "text outside the root: {:?}",
            &t[..t.len().min(40)]
        ));
    }
    if t.contains(']') && t.contains("]]>") {
        return Err("]]> in text".into());
    }
    entities(t)
}

fn entities(t: &str) -> Result<(), String> {
    let mut rest = t;
    while let Some(amp) = rest.find('&') {
        let r = &rest[amp + 1..];
        let end = r.find(';').ok_or("& without ;")?;
        let e = &r[..end];
        let ok = match e {
            "lt" | "gt" | "amp" | "quot" | "apos" => true,
            _ => {
                let code = if let Some(h) = e.strip_prefix("#x") {
                    u32::from_str_radix(h, 16).ok()
                } else if let Some(d) = e.strip_prefix('#') {
                    d.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32).is_some_and(xml_char)
            }
        };
        if !ok {
            return Err(format!("bad entity &{e};"));
        }
        rest = &r[end + 1..];
    }
    Ok(())
}
