//! How a command ends, in one place: its exit status, its error, and what a closed standard
//! output means.
//!
//! Every command returns an [`Exit`] or a [`Failure`]; [`finish`] tells the user about a
//! failure (its findings, then one `kmsaudit: error:` line) and turns it into
//! [`Exit::Error`]. A reader that has gone (`kmsaudit check … | head`) cuts a report short but
//! never changes its status: [`unless_reader_gone`] is that rule, used wherever a report is
//! written.

use std::fmt::Display;
use std::io::{self, Write};

use crate::diag::Finding;
use crate::report;
use crate::source::SourceMap;

/// The exit status of every command (the README's "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// `check`: nothing at or above `--fail-on`; `can`: every expectation met;
    /// `check-put-policy`: the policy passes; other commands: done.
    Clean = 0,
    /// `check`: findings at or above `--fail-on` (or an unchecked key policy with
    /// `--fail-on-unchecked`); `can`: an expectation not met; `check-put-policy`: the policy
    /// would be rejected, or the answer hinges on what is not known.
    Failing = 1,
    /// A usage or input error, or a report that could not be written; reported after
    /// everything else. Never a pass.
    Error = 2,
}

impl Exit {
    /// [`Exit::Failing`] when `failing`, else [`Exit::Clean`].
    pub(crate) fn failing_if(failing: bool) -> Self {
        if failing { Self::Failing } else { Self::Clean }
    }

    /// The status a command that counts in numbers returned: 0 and 1 as they are, any other
    /// number an error (never a pass).
    pub(crate) fn from_code(code: u8) -> Self {
        match code {
            0 => Self::Clean,
            1 => Self::Failing,
            _ => Self::Error,
        }
    }

    /// The number the process exits with.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        Self::from(e.code())
    }
}

/// A command that cannot answer: what to tell the user, and the input findings that explain
/// it (shown before the message).
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) findings: Vec<Finding>,
}

/// A failure told by its message alone.
pub(crate) fn fail(message: impl Into<String>) -> Failure {
    Failure {
        message: message.into(),
        findings: Vec::new(),
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        fail(format!("cannot write the answer: {e}"))
    }
}

/// The one way an error reaches the user: `kmsaudit: error: …` on standard error.
pub(crate) fn error_line(stderr: &mut dyn Write, message: impl Display) -> io::Result<()> {
    writeln!(stderr, "kmsaudit: error: {message}")
}

/// Ends a command: its status, or, for a failure, its findings (concise, against `sources`)
/// and its message on standard error, and [`Exit::Error`].
pub(crate) fn finish(
    result: Result<Exit, Failure>,
    sources: &SourceMap,
    stderr: &mut dyn Write,
) -> io::Result<Exit> {
    match result {
        Ok(exit) => Ok(exit),
        Err(f) => {
            if !f.findings.is_empty() {
                report::render_concise(&f.findings, sources, stderr)?;
            }
            error_line(stderr, &f.message)?;
            Ok(Exit::Error)
        }
    }
}

/// The broken-pipe rule: a reader that has gone is not an error (the report is cut short, the
/// status stays the one the answer calls for); any other write error is.
pub(crate) fn unless_reader_gone(written: io::Result<()>) -> io::Result<()> {
    match written {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// The process's status once a command has run and standard output was flushed: a command's
/// I/O error is reported and ends in [`Exit::Error`] — one that is a closed pipe quietly, as
/// a report cut short before its status was known is not a pass.
pub(crate) fn conclude(
    outcome: io::Result<Exit>,
    flushed: io::Result<()>,
    stderr: &mut dyn Write,
) -> Exit {
    let failed = match (outcome, unless_reader_gone(flushed)) {
        (Ok(exit), Ok(())) => return exit,
        (Ok(_), Err(e)) => e,
        (Err(e), _) if e.kind() == io::ErrorKind::BrokenPipe => return Exit::Error,
        (Err(e), _) => e,
    };
    // Standard error itself may be gone: the status says it all then.
    let _ = error_line(stderr, failed);
    Exit::Error
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_keep_their_numbers() {
        assert_eq!(Exit::Clean.code(), 0);
        assert_eq!(Exit::Failing.code(), 1);
        assert_eq!(Exit::Error.code(), 2);
        assert_eq!(Exit::from_code(7), Exit::Error);
        assert_eq!(Exit::failing_if(true), Exit::Failing);
    }

    /// A closed pipe keeps the status the answer called for; a command's own closed pipe
    /// (a report cut short before its status was known) and any other write error do not.
    #[test]
    fn a_closed_pipe_keeps_the_status_other_errors_do_not() {
        let pipe = || Err(io::Error::from(io::ErrorKind::BrokenPipe));
        let mut err = Vec::new();
        assert_eq!(conclude(Ok(Exit::Failing), pipe(), &mut err), Exit::Failing);
        assert_eq!(conclude(Ok(Exit::Clean), Ok(()), &mut err), Exit::Clean);
        assert!(err.is_empty());
        assert_eq!(
            conclude(pipe().map(|()| Exit::Clean), Ok(()), &mut err),
            Exit::Error
        );
        assert!(err.is_empty());
        let full = io::Error::other("disk full");
        assert_eq!(conclude(Ok(Exit::Clean), Err(full), &mut err), Exit::Error);
        assert_eq!(
            String::from_utf8_lossy(&err),
            "kmsaudit: error: disk full\n"
        );
    }
}
