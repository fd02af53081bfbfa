//! The human format: miette's graphical report, one diagnostic per finding.

use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode,
};

use super::escape;
use crate::diag::{Finding, Severity};
use crate::source::SourceMap;

/// How the human report looks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HumanOptions {
    /// Use colour.
    pub(crate) color: bool,
    /// Wrap at this width.
    pub(crate) width: usize,
}

impl Default for HumanOptions {
    fn default() -> Self {
        HumanOptions {
            color: false,
            width: 100,
        }
    }
}

/// Lines longer than this are not shown in snippets.
const MAX_SNIPPET_LINE: usize = 400;

struct View {
    code: String,
    message: String,
    severity: miette::Severity,
    help: Option<String>,
    source: NamedSource<Arc<str>>,
    labels: Vec<LabeledSpan>,
}

impl fmt::Debug for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for View {}

impl Diagnostic for View {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

/// How miette shows a severity: an info finding is advice.
fn miette_severity(s: Severity) -> miette::Severity {
    match s {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Info => miette::Severity::Advice,
    }
}

fn view(f: &Finding, sources: &SourceMap) -> View {
    if sources.is_sensitive(f.source) {
        // Sensitive values are never printed: the rule and the place only.
        let (outer, at) = sources
            .outer_location(f.source, f.span.start)
            .unwrap_or((f.source, f.span.start));
        let place = sources.get(outer).map_or(String::new(), |o| {
            let (l, c) = o.line_col(at);
            format!("{}:{l}:{c}", escape::terminal(&o.name))
        });
        return View {
            code: f.rule.code.to_owned(),
            message: format!(
                "{} at {place}: in a sensitive value, details are not shown",
                f.rule.name
            ),
            severity: match f.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
                Severity::Info => miette::Severity::Advice,
            },
            help: None,
            source: NamedSource::new(String::new(), Arc::from("")),
            labels: Vec::new(),
        };
    }
    let file = sources.get(f.source);
    // A one-line plan (`terraform show -json`) would print the whole file, sensitive values
    // included: for very long lines give the place in words instead of a snippet.
    if let Some(src) = file {
        let (line, _) = src.line_col(f.span.start);
        let text = src.text.lines().nth(line.saturating_sub(1)).unwrap_or("");
        if text.len() > MAX_SNIPPET_LINE {
            let (l, c) = src.line_col(f.span.start);
            // The rule's help may quote policy text: one line of it, a line break escaped.
            let mut help = f
                .help
                .as_deref()
                .map_or_else(String::new, |h| escape::terminal(h).into_owned());
            if !help.is_empty() {
                help.push('\n');
            }
            help.push_str(&format!(
                "at {}:{l}:{c} (a line too long to show)",
                escape::terminal(&src.name)
            ));
            return View {
                code: f.rule.code.to_owned(),
                message: escape::terminal(&f.message).into_owned(),
                severity: miette_severity(f.severity),
                help: Some(escape::terminal_lines(&help).into_owned()),
                source: NamedSource::new(String::new(), Arc::from("")),
                labels: Vec::new(),
            };
        }
    }
    let name = file.map_or_else(String::new, |s| escape::terminal(&s.name).into_owned());
    let text: Arc<str> = file.map_or_else(
        || Arc::from(""),
        // The snippet, neutralised with every offset kept (the common clean file is shared,
        // not copied).
        |s| match escape::source_text(&s.text) {
            std::borrow::Cow::Borrowed(_) => s.text.clone(),
            std::borrow::Cow::Owned(t) => Arc::from(t),
        },
    );
    let mut labels = vec![LabeledSpan::new_primary_with_span(
        Some(escape::terminal(&f.label).into_owned()),
        f.span,
    )];
    labels.extend(
        f.labels.iter().map(|l| {
            LabeledSpan::new_with_span(Some(escape::terminal(&l.text).into_owned()), l.span)
        }),
    );
    // The rule's help may quote policy text: one line of it, a line break escaped; the lines
    // added below are the renderer's own.
    let mut help = f.help.as_deref().map(|h| escape::terminal(h).into_owned());
    // For a policy embedded in a string, say where the string is in the file the user wrote.
    if file.is_some_and(|s| s.origin.is_some()) {
        if let Some((outer_id, at)) = sources.outer_location(f.source, f.span.start) {
            if let Some(outer) = sources.get(outer_id) {
                let (line, col) = outer.line_col(at);
                let note = format!(
                    "embedded in `{}` at {line}:{col}",
                    escape::terminal(&outer.name)
                );
                help = Some(match help {
                    Some(h) => format!("{h}\n{note}"),
                    None => note,
                });
            }
        }
    }
    View {
        code: f.rule.code.to_owned(),
        message: escape::terminal(&f.message).into_owned(),
        severity: miette_severity(f.severity),
        help: help.map(|h| escape::terminal_lines(&h).into_owned()),
        source: NamedSource::new(name, text),
        labels,
    }
}

/// Renders every finding as a miette report.
pub(super) fn render_human(
    findings: &[Finding],
    sources: &SourceMap,
    opts: &HumanOptions,
    w: &mut dyn Write,
) -> io::Result<()> {
    let theme = if opts.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(opts.width)
        .with_links(false);
    for f in findings {
        let v = view(f, sources);
        let mut out = String::new();
        handler
            .render_report(&mut out, &v)
            .map_err(|_| io::Error::other("rendering a diagnostic failed"))?;
        w.write_all(out.as_bytes())?;
        writeln!(w)?;
    }
    Ok(())
}
