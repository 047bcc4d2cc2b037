//! Files Invite Desk writes: the private data folder, atomic replacement of small files, and
//! exports that never overwrite or follow a link.
//!
//! On Unix the data folder is `0700` and its files `0600`: the workspace list names every
//! server the owner administers, and the outbox holds addresses and invitation links.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Creates `dir` (and its parents) and makes it private to the user (`0700` on Unix).
pub fn private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(Error::storage)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(Error::storage)?;
    }
    Ok(())
}

/// Makes an existing file private to the user (`0600` on Unix); a missing file is fine.
pub fn private_file(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::storage(e)),
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Opens a new file for writing: fails when anything (a file, a folder, a symbolic link, even a
/// dangling one) already has that name, so nothing is overwritten and no link is followed
/// (`O_CREAT|O_EXCL`). Private (`0600`) on Unix.
pub fn create_new(path: &Path) -> std::io::Result<File> {
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

/// Replaces `path` with `bytes` so that a reader (or a crash) sees either the old content or
/// the new, never half of it: a temporary file in the same folder, written, flushed to disk,
/// then renamed over `path`; the folder is flushed too on Unix so the rename itself survives a
/// power cut.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::storage("the file has no folder"))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let written = (|| -> std::io::Result<()> {
        let mut f = create_new(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::storage(format!("{}: {e}", path.display())));
    }
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Checks a file name typed by the owner (one implementation for every front end and OS: see
/// [`crate::filename`]).
pub use crate::filename::clean_file_name;

/// Writes `bytes` as a new file named `name` in `dir` (created if missing), or `name (2).ext`…
/// when the name is taken; returns the path. Never overwrites and never follows a symbolic link
/// (see [`create_new`]).
pub fn save_new(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(Error::storage)?;
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) => (s.to_string(), format!(".{e}")),
        None => (name.to_string(), String::new()),
    };
    for n in 1..1000 {
        let path = if n == 1 {
            dir.join(name)
        } else {
            dir.join(format!("{stem} ({n}){ext}"))
        };
        match create_new(&path) {
            Ok(mut f) => {
                f.write_all(bytes)
                    .and_then(|()| f.sync_all())
                    .map_err(Error::storage)?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::storage(format!("{}: {e}", path.display()))),
        }
    }
    Err(Error::invalid_input(
        "File name",
        "too many files have this name; choose another",
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_plain_and_get_their_extension() {
        assert_eq!(clean_file_name("history", "csv").unwrap(), "history.csv");
        assert_eq!(clean_file_name(" a.CSV ", "csv").unwrap(), "a.CSV");
        for bad in ["", "../x", "a/b", "C:\\x", ".hidden", "a\nb", "NUL", "a|b"] {
            assert_eq!(
                clean_file_name(bad, "csv").unwrap_err().kind(),
                "invalid_input",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn exports_never_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let a = save_new(dir.path(), "x.csv", b"1").unwrap();
        let b = save_new(dir.path(), "x.csv", b"2").unwrap();
        assert!(b.ends_with("x (2).csv"));
        assert_eq!(std::fs::read(a).unwrap(), b"1");
        assert_eq!(std::fs::read(b).unwrap(), b"2");
    }

    #[cfg(unix)]
    #[test]
    fn exports_never_follow_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, b"keep me").unwrap();
        // A link to an existing file, and a dangling one pointing where a file would be created.
        std::os::unix::fs::symlink(&victim, dir.path().join("x.csv")).unwrap();
        let planted = dir.path().join("planted.txt");
        std::os::unix::fs::symlink(&planted, dir.path().join("x (2).csv")).unwrap();
        let p = save_new(dir.path(), "x.csv", b"export").unwrap();
        assert!(p.ends_with("x (3).csv"), "{}", p.display());
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
        assert!(!planted.exists(), "the dangling link was followed");
        assert!(create_new(&dir.path().join("x.csv")).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn private_folder_and_files() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        private_dir(&data).unwrap();
        let mode = std::fs::metadata(&data).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let f = data.join("settings.json");
        write_atomic(&f, b"{}").unwrap();
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let e = save_new(&data, "e.csv", b"x").unwrap();
        let mode = std::fs::metadata(&e).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
