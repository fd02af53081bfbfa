//! Files kmsaudit writes when asked (`--write-baseline`): whole or not at all, and only where
//! the user meant.
//!
//! The text goes to a new temporary file in the target's directory (created exclusively, so a
//! planted link at that name is not followed), is synced to disk, then renamed over the
//! target: a run killed or a disk filled half-way leaves the old file as it was. A target that
//! is a symbolic link is written through only when the link resolves inside the working tree
//! (the repository holding the working directory, or that directory outside a repository):
//! a link committed to point at `~/.ssh/authorized_keys` is refused.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The working tree: the nearest directory up from the working directory holding `.git`, or
/// the working directory itself.
fn working_tree() -> io::Result<PathBuf> {
    let cwd = std::env::current_dir()?.canonicalize()?;
    Ok(cwd
        .ancestors()
        .find(|d| d.join(".git").exists())
        .map_or_else(|| cwd.clone(), Path::to_path_buf))
}

/// Where `path` should really be written: itself, or a symbolic link's target inside the
/// working tree.
fn destination(path: &Path) -> io::Result<PathBuf> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            let tree = working_tree()?;
            // The target may not exist yet: resolve its directory.
            let target = std::fs::read_link(path)?;
            let target = match path.parent() {
                Some(dir) if target.is_relative() => dir.join(target),
                _ => target,
            };
            let resolved = match (target.parent(), target.file_name()) {
                (Some(dir), Some(name)) => {
                    let dir = if dir.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        dir
                    };
                    dir.canonicalize()?.join(name)
                }
                _ => target.clone(),
            };
            if std::fs::symlink_metadata(&resolved).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(io::Error::other(
                    "it is a symbolic link to another symbolic link: refused",
                ));
            }
            if !resolved.starts_with(&tree) {
                return Err(io::Error::other(format!(
                    "it is a symbolic link to `{}`, outside the working tree `{}`: refused",
                    resolved.display(),
                    tree.display()
                )));
            }
            Ok(resolved)
        }
        Ok(m) if !m.is_file() => Err(io::Error::other("it is not a regular file")),
        Ok(_) => Ok(path.to_path_buf()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(path.to_path_buf()),
        Err(e) => Err(e),
    }
}

/// Replaces the file at `path` with `bytes` atomically; see the module notes.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dest = destination(path)?;
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut attempt = 0u32;
    let (tmp, mut file) = loop {
        let tmp = dir.join(format!(
            ".{name}.kmsaudit-{}-{attempt}.tmp",
            std::process::id()
        ));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
            Err(e) => return Err(e),
        }
    };
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&tmp, &dest));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    // The rename itself reaches the disk with the directory.
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
