//! Rendering `can` answers: a readable tree for humans, one JSON object for machines.

use std::io::{self, Write};

use serde::Serialize;

use crate::eval::{CheckResult, Evaluation, Path, Request, Requirement, Step, Tri};
use crate::source::SourceMap;

fn mark(t: Tri) -> &'static str {
    match t {
        Tri::Yes => "yes",
        Tri::No => "no ",
        Tri::Unknown => "?  ",
    }
}

/// Every value of the human tree is one field of a line: escaped, so that none can start a
/// line of its own or send a terminal a control sequence.
fn e(s: &str) -> std::borrow::Cow<'_, str> {
    super::escape::terminal(s)
}

/// "allowed only if A and B, or C".
pub(crate) fn residual_sentence(alts: &[Vec<Requirement>]) -> Option<String> {
    let alts: Vec<&Vec<Requirement>> = alts.iter().filter(|a| !a.is_empty()).collect();
    if alts.is_empty() {
        return None;
    }
    let parts: Vec<String> = alts.iter().map(|a| super::words::requirements(a)).collect();
    Some(format!("allowed only if {}", parts.join(", or ")))
}

/// The words of each value; unknowns sorted by their words (the engine sorts its values).
fn texts<T: std::fmt::Display>(values: &[T], sort: bool) -> Vec<String> {
    let mut v: Vec<String> = values.iter().map(ToString::to_string).collect();
    if sort {
        v.sort();
        v.dedup();
    }
    v
}

fn location(sources: &SourceMap, id: crate::source::SourceId, span: crate::source::Span) -> String {
    let (outer, at) = sources
        .outer_location(id, span.start)
        .unwrap_or((id, span.start));
    match sources.get(outer) {
        Some(f) => {
            let (l, c) = f.line_col(at);
            format!("{}:{l}:{c}", f.name)
        }
        None => String::new(),
    }
}

fn write_steps(steps: &[Step], sources: &SourceMap, w: &mut dyn Write) -> io::Result<()> {
    for s in steps {
        writeln!(w, "  {} — {}", s.name, e(&s.outcome.to_string()))?;
        for st in &s.statements {
            let at = location(sources, st.at.source, st.at.span);
            let at = if at.is_empty() {
                String::new()
            } else {
                format!(" at {}", e(&at))
            };
            writeln!(
                w,
                "    [{}] {} ({}){at}",
                mark(st.applies).trim_end(),
                e(&st.at.id()),
                st.effect
            )?;
            for el in &st.elements {
                writeln!(
                    w,
                    "        {} {}: {}",
                    mark(el.outcome),
                    e(&el.element),
                    e(&el.detail)
                )?;
            }
        }
    }
    Ok(())
}

fn write_check(
    c: &CheckResult,
    sources: &SourceMap,
    multi: bool,
    w: &mut dyn Write,
) -> io::Result<()> {
    if multi {
        writeln!(
            w,
            "\ncheck {} on {}: {}",
            e(&c.action),
            e(&c.resource),
            c.decision.as_str()
        )?;
    }
    if let Some(p) = &c.path {
        writeln!(w, "path: {}", e(&p.name()))?;
    }
    if !c.deciding.is_empty() {
        writeln!(w, "decided by: {}", e(&c.deciding.join(", ")))?;
    }
    if !c.reasons.is_empty() {
        let head = if c.decision == crate::eval::Decision::Undetermined {
            "paths that do not hold:"
        } else {
            "why:"
        };
        writeln!(w, "{head}")?;
        for r in &c.reasons {
            writeln!(w, "  - {}", e(&r.to_string()))?;
        }
    }
    if !c.unknowns.is_empty() {
        writeln!(w, "undetermined because:")?;
        for u in texts(&c.unknowns, true) {
            writeln!(w, "  - {}", e(&u))?;
        }
    }
    if let Some(s) = residual_sentence(&c.residual) {
        writeln!(w, "residual: {}", e(&s))?;
    }
    if !c.notes.is_empty() {
        writeln!(w, "notes:")?;
        for n in &c.notes {
            writeln!(w, "  - {}", e(&n.to_string()))?;
        }
    }
    if !c.steps.is_empty() {
        writeln!(w, "trace:")?;
        write_steps(&c.steps, sources, w)?;
    }
    Ok(())
}

/// The human tree. It is drawn in memory, then every control character that is not one of its
/// own line breaks (an escape sequence in a Sid, a carriage return in a principal) is escaped
/// on the way out.
pub fn render_human(
    ev: &Evaluation,
    req: &Request,
    sources: &SourceMap,
    w: &mut dyn Write,
) -> io::Result<()> {
    let mut buf = Vec::new();
    render_tree(ev, req, sources, &mut buf)?;
    let text = String::from_utf8_lossy(&buf);
    w.write_all(super::escape::terminal_lines(&text).as_bytes())
}

fn render_tree(
    ev: &Evaluation,
    req: &Request,
    sources: &SourceMap,
    w: &mut dyn Write,
) -> io::Result<()> {
    writeln!(
        w,
        "{} by {} on {}",
        e(&req.action),
        e(&req.caller.arn),
        e(&req.key)
    )?;
    writeln!(w, "decision: {}", ev.decision.as_str())?;
    let multi = ev.checks.len() > 1;
    for c in &ev.checks {
        write_check(c, sources, multi, w)?;
    }
    Ok(())
}

#[derive(Serialize)]
struct JElement<'a> {
    element: &'a str,
    outcome: &'a str,
    detail: &'a str,
}

#[derive(Serialize)]
struct JStatement<'a> {
    id: String,
    policy: &'a str,
    statement: &'a str,
    effect: &'a str,
    applies: &'a str,
    location: String,
    elements: Vec<JElement<'a>>,
}

#[derive(Serialize)]
struct JStep<'a> {
    step: String,
    outcome: String,
    statements: Vec<JStatement<'a>>,
}

#[derive(Serialize)]
struct JRequirement<'a> {
    condition: &'a str,
    statement: &'a str,
}

/// The residual alternatives (OR) of requirements (AND), as JSON.
fn jresidual<'a>(alts: impl Iterator<Item = &'a Vec<Requirement>>) -> Vec<Vec<JRequirement<'a>>> {
    alts.map(|a| {
        a.iter()
            .map(|r| JRequirement {
                condition: &r.text,
                statement: &r.statement,
            })
            .collect()
    })
    .collect()
}

#[derive(Serialize)]
struct JCheck<'a> {
    action: &'a str,
    resource: &'a str,
    decision: &'a str,
    path: Option<String>,
    deciding: &'a [String],
    reasons: Vec<String>,
    unknowns: Vec<String>,
    residual: Vec<Vec<JRequirement<'a>>>,
    residual_text: Option<String>,
    notes: Vec<String>,
    trace: Vec<JStep<'a>>,
}

fn jcheck<'a>(c: &'a CheckResult, sources: &SourceMap) -> JCheck<'a> {
    JCheck {
        action: &c.action,
        resource: &c.resource,
        decision: c.decision.as_str(),
        path: c.path.as_ref().map(Path::name),
        deciding: &c.deciding,
        reasons: texts(&c.reasons, false),
        unknowns: texts(&c.unknowns, true),
        residual: jresidual(c.residual.iter()),
        residual_text: residual_sentence(&c.residual),
        notes: texts(&c.notes, false),
        trace: c
            .steps
            .iter()
            .map(|s| JStep {
                step: s.name.to_string(),
                outcome: s.outcome.to_string(),
                statements: s
                    .statements
                    .iter()
                    .map(|st| JStatement {
                        id: st.at.id(),
                        policy: &st.at.policy,
                        statement: &st.at.statement,
                        effect: st.effect,
                        applies: st.applies.as_str(),
                        location: location(sources, st.at.source, st.at.span),
                        elements: st
                            .elements
                            .iter()
                            .map(|e| JElement {
                                element: &e.element,
                                outcome: e.outcome.as_str(),
                                detail: &e.detail,
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

#[derive(Serialize)]
struct JAnswer<'a> {
    version: u32,
    decision: &'a str,
    principal: &'a str,
    action: &'a str,
    key: &'a str,
    path: Option<String>,
    deciding: Vec<&'a str>,
    reasons: Vec<String>,
    unknowns: Vec<String>,
    residual: Vec<Vec<JRequirement<'a>>>,
    residual_text: Option<String>,
    notes: Vec<String>,
    trace: Vec<JStep<'a>>,
    checks: Vec<JCheck<'a>>,
}

/// One JSON object: `decision`, `path`, `trace`, `residual`, `notes`, and each check.
pub(crate) fn render_json(
    ev: &Evaluation,
    req: &Request,
    sources: &SourceMap,
    w: &mut dyn Write,
) -> io::Result<()> {
    let checks: Vec<JCheck<'_>> = ev.checks.iter().map(|c| jcheck(c, sources)).collect();
    // The check that decided: the first whose decision equals the combined one.
    let main = ev.checks.iter().find(|c| c.decision == ev.decision);
    let all_residual: Vec<Vec<Requirement>> = ev
        .checks
        .iter()
        .flat_map(|c| c.residual.iter().cloned())
        .collect();
    let answer = JAnswer {
        version: 1,
        decision: ev.decision.as_str(),
        principal: &req.caller.arn,
        action: &req.action,
        key: &req.key,
        path: main.and_then(|c| c.path.as_ref()).map(Path::name),
        deciding: ev
            .checks
            .iter()
            .flat_map(|c| c.deciding.iter().map(String::as_str))
            .collect(),
        reasons: checks
            .iter()
            .flat_map(|c| c.reasons.iter().cloned())
            .collect(),
        unknowns: checks
            .iter()
            .flat_map(|c| c.unknowns.iter().cloned())
            .collect(),
        residual: jresidual(ev.checks.iter().flat_map(|c| c.residual.iter())),
        residual_text: residual_sentence(&all_residual),
        notes: checks
            .iter()
            .flat_map(|c| c.notes.iter().cloned())
            .collect(),
        trace: checks
            .iter()
            .flat_map(|c| c.trace.iter())
            .map(|s| JStep {
                step: s.step.clone(),
                outcome: s.outcome.clone(),
                statements: s
                    .statements
                    .iter()
                    .map(|st| JStatement {
                        id: st.id.clone(),
                        policy: st.policy,
                        statement: st.statement,
                        effect: st.effect,
                        applies: st.applies,
                        location: st.location.clone(),
                        elements: st
                            .elements
                            .iter()
                            .map(|e| JElement {
                                element: e.element,
                                outcome: e.outcome,
                                detail: e.detail,
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
        checks,
    };
    serde_json::to_writer_pretty(&mut *w, &answer).map_err(io::Error::from)?;
    writeln!(w)
}

#[derive(Serialize)]
struct JLine<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    principal: &'a str,
    action: &'a str,
    key: &'a str,
    decision: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expect: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expect_met: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    deciding: Vec<&'a str>,
}

/// One JSON line per batch request.
pub(crate) fn render_batch_line(
    ev: &Evaluation,
    req: &Request,
    id: Option<&str>,
    expect: Option<&str>,
    met: bool,
    w: &mut dyn Write,
) -> io::Result<()> {
    let line = JLine {
        id,
        principal: &req.caller.arn,
        action: &req.action,
        key: &req.key,
        decision: ev.decision.as_str(),
        expect,
        expect_met: expect.map(|_| met),
        deciding: ev
            .checks
            .iter()
            .flat_map(|c| c.deciding.iter().map(String::as_str))
            .collect(),
    };
    serde_json::to_writer(&mut *w, &line).map_err(io::Error::from)?;
    writeln!(w)
}

/// One text line per batch request.
pub(crate) fn render_batch_human(
    ev: &Evaluation,
    req: &Request,
    id: Option<&str>,
    expect: Option<&str>,
    met: bool,
    w: &mut dyn Write,
) -> io::Result<()> {
    // Written piece by piece into the caller's buffer: a batch renders 100,000 lines, and a
    // `format!` per field was a tenth of its run.
    let e = super::escape::terminal;
    if let Some(i) = id {
        w.write_all(e(i).as_bytes())?;
        w.write_all(b": ")?;
    }
    // The decision padded to 13 columns, as `{:<13}` did.
    let decision = ev.decision.as_str();
    w.write_all(decision.as_bytes())?;
    let pad = 14usize.saturating_sub(decision.chars().count()).max(1);
    for _ in 0..pad {
        w.write_all(b" ")?;
    }
    w.write_all(e(&req.caller.arn).as_bytes())?;
    w.write_all(b" ")?;
    w.write_all(e(&req.action).as_bytes())?;
    w.write_all(b" ")?;
    w.write_all(e(&req.key).as_bytes())?;
    match expect {
        Some(x) => {
            w.write_all(b"  (expected ")?;
            w.write_all(x.as_bytes())?;
            w.write_all(if met {
                &b": ok)\n"[..]
            } else {
                &b": FAILED)\n"[..]
            })?;
        }
        None => w.write_all(b"\n")?,
    }
    Ok(())
}
