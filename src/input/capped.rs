//! The one way kmsaudit reads a file: inputs, the baseline, `kmsaudit.toml`, `--requests` and
//! grant requests all come through here.
//!
//! A path must name a regular file (after symbolic links): a named pipe would block the run
//! forever, a device (`/dev/zero`, a terminal, `/proc/self/fd/1`) has no end, so both are
//! refused before they are opened. What is read is capped: a file that grows past the cap
//! while it is read is refused too, never half read. Standard input is the one stream read
//! as it comes, under the same cap.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Why a file was not read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// Over the cap (the size seen).
    TooLarge(u64),
    /// Not a regular file: what it is instead.
    NotAFile(&'static str),
    /// The system's error.
    Io(io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::TooLarge(n) => write!(f, "it is {n} bytes, over the limit"),
            ReadError::NotAFile(what) => write!(f, "it is {what}, not a regular file"),
            ReadError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// What a file type is, in words, when it is not a regular file.
fn not_regular(t: std::fs::FileType) -> Option<&'static str> {
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_fifo() {
            return Some("a named pipe");
        }
        if t.is_socket() {
            return Some("a socket");
        }
        if t.is_char_device() || t.is_block_device() {
            return Some("a device");
        }
    }
    Some("not a regular file")
}

/// Opens `path` for reading if it is a regular file (symbolic links followed), with its size.
/// The type is checked before opening (opening a named pipe blocks until a writer comes) and
/// again on the opened file, so a file swapped in between is refused too.
pub(crate) fn open_regular(path: &Path) -> Result<(File, u64), ReadError> {
    let before = std::fs::metadata(path).map_err(ReadError::Io)?;
    if let Some(what) = not_regular(before.file_type()) {
        return Err(ReadError::NotAFile(what));
    }
    let f = File::open(path).map_err(ReadError::Io)?;
    let meta = f.metadata().map_err(ReadError::Io)?;
    if let Some(what) = not_regular(meta.file_type()) {
        return Err(ReadError::NotAFile(what));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        if (before.dev(), before.ino()) != (meta.dev(), meta.ino()) {
            return Err(ReadError::Io(io::Error::other(
                "the file changed while it was opened",
            )));
        }
    }
    Ok((f, meta.len()))
}

/// Reads all of `path`, at most `max` bytes; see the module notes.
pub(crate) fn read_file(path: &Path, max: u64) -> Result<Vec<u8>, ReadError> {
    let (f, len) = open_regular(path)?;
    if len > max {
        return Err(ReadError::TooLarge(len));
    }
    // One allocation of the right size (plus the byte that detects growth).
    let mut buf = Vec::new();
    buf.reserve_exact(usize::try_from(len).unwrap_or(0).saturating_add(1));
    read_all(f, max, buf)
}

/// Reads all of `path` as UTF-8 text, at most `max` bytes.
pub(crate) fn read_text(path: &Path, max: u64) -> Result<String, ReadError> {
    let bytes = read_file(path, max)?;
    String::from_utf8(bytes).map_err(|e| {
        ReadError::Io(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        ))
    })
}

/// Reads a stream to its end, at most `max` bytes.
pub(crate) fn read_all(r: impl Read, max: u64, mut buf: Vec<u8>) -> Result<Vec<u8>, ReadError> {
    r.take(max.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(ReadError::Io)?;
    if buf.len() as u64 > max {
        return Err(ReadError::TooLarge(buf.len() as u64));
    }
    Ok(buf)
}

/// Reads one line (its end included) into `line`, at most `max` bytes: 0 at the end of the
/// stream. A longer line is an error rather than a buffer that grows without end.
pub(crate) fn read_line(
    r: &mut impl io::BufRead,
    max: u64,
    line: &mut String,
) -> Result<usize, ReadError> {
    use io::BufRead as _;
    let n = Read::take(&mut *r, max.saturating_add(1))
        .read_line(line)
        .map_err(ReadError::Io)?;
    if n as u64 > max {
        return Err(ReadError::TooLarge(n as u64));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_directories_are_refused_before_reading() {
        #[cfg(unix)]
        assert!(matches!(
            read_file(Path::new("/dev/zero"), 1024),
            Err(ReadError::NotAFile("a device"))
        ));
        assert!(matches!(
            read_file(Path::new("."), 1024),
            Err(ReadError::NotAFile("a directory"))
        ));
    }

    #[test]
    fn a_line_past_the_cap_is_an_error() {
        let mut r = io::Cursor::new(b"short\nlonger than eight\n".to_vec());
        let mut line = String::new();
        assert!(matches!(read_line(&mut r, 8, &mut line), Ok(6)));
        line.clear();
        assert!(matches!(
            read_line(&mut r, 8, &mut line),
            Err(ReadError::TooLarge(9))
        ));
    }
}
