//! Files the owner asks to save (the Netlify function, a history export): a plain file name,
//! written into the Downloads folder, never over an existing file.

use std::path::{Path, PathBuf};

use crate::error::{CmdError, CmdResult};

/// The Invite Desk Netlify Function, embedded so the app can show and save it.
pub const NETLIFY_FUNCTION: &str = include_str!("../netlify/functions/invite-desk.mjs");

/// Checks a file name typed by the owner: one plain name that Windows, macOS and Linux can all
/// create, with `ext` (the rules live in the core: [`invite_core::filename`]).
pub fn clean_file_name(name: &str, ext: &str) -> CmdResult<String> {
    invite_core::filename::clean_file_name(name, ext).map_err(CmdError::from)
}

/// `dir/name`, or `dir/name (2).ext`… when taken.
pub fn free_path(dir: &Path, name: &str) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) => (s.to_string(), format!(".{e}")),
        None => (name.to_string(), String::new()),
    };
    (2..1000)
        .map(|n| dir.join(format!("{stem} ({n}){ext}")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

/// Writes `bytes` as `name` into `dir` (created if missing); returns the path.
pub fn save_into(dir: &Path, name: &str, bytes: &[u8]) -> CmdResult<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| CmdError::from(invite_core::Error::storage(e)))?;
    let path = free_path(dir, name);
    std::fs::write(&path, bytes).map_err(|e| CmdError::from(invite_core::Error::storage(e)))?;
    Ok(path)
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
                clean_file_name(bad, "csv").unwrap_err().kind,
                "invalid_input",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let a = save_into(dir.path(), "x.csv", b"1").unwrap();
        let b = save_into(dir.path(), "x.csv", b"2").unwrap();
        assert_ne!(a, b);
        assert!(b.ends_with("x (2).csv"));
        assert_eq!(std::fs::read(a).unwrap(), b"1");
    }

    #[test]
    fn the_function_is_embedded() {
        assert!(NETLIFY_FUNCTION.contains("export"));
    }
}
