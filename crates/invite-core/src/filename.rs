//! File names the owner types for an export or a saved file: one plain name that every system
//! (Windows the strictest) can create, with the expected extension.
//!
//! The same rules apply on every OS, so a name that works on a Mac also works when the file is
//! copied to a Windows colleague or a synced folder.

use crate::error::{Error, Result};

/// The longest name accepted, in characters (well under every file system's limit, and short
/// enough to read in a dialog).
pub const MAX_LEN: usize = 120;

/// Characters Windows forbids in a file name (besides control characters); `/` and `\` would
/// also make the name a path.
const FORBIDDEN: [char; 9] = ['<', '>', ':', '"', '/', '\\', '|', '?', '*'];

/// Device names Windows reserves in every folder, with or without an extension (`nul.csv` opens
/// the null device, not a file). `COM¹²³`/`LPT¹²³` are reserved too.
const RESERVED: [&str; 6] = ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"];

const FIELD: &str = "File name";

/// Checks a file name typed by the owner and returns it with `.ext` added when missing.
///
/// Refused, with a plain reason: empty or too long names, folders (`/`, `\`), the characters
/// `<>:"|?*`, control characters, a leading dot (hidden file), a trailing dot or space (Windows
/// drops them silently), and the reserved device names (`CON`, `PRN`, `AUX`, `NUL`, `COM1`–`COM9`,
/// `LPT1`–`LPT9`, any case, with or without an extension).
pub fn clean_file_name(name: &str, ext: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid_input(FIELD, "enter a file name"));
    }
    if name.chars().count() > MAX_LEN {
        return Err(Error::invalid_input(FIELD, "use a shorter name"));
    }
    if name.contains(['/', '\\']) || name.starts_with('.') || name.chars().any(char::is_control) {
        return Err(Error::invalid_input(
            FIELD,
            "use a plain name without folders, e.g. invitations.csv",
        ));
    }
    if let Some(c) = name.chars().find(|c| FORBIDDEN.contains(c)) {
        return Err(Error::invalid_input(
            FIELD,
            format!("leave out {c}: file names can't contain any of < > : \" | ? *"),
        ));
    }
    let with_ext = if name
        .to_lowercase()
        .ends_with(&format!(".{}", ext.to_lowercase()))
    {
        name.to_string()
    } else {
        // "report." + "csv" would otherwise become "report..csv".
        format!("{}.{ext}", name.trim_end_matches(['.', ' ']))
    };
    if with_ext.ends_with(['.', ' ']) {
        return Err(Error::invalid_input(
            FIELD,
            "end the name with a letter or a digit, not a dot or a space",
        ));
    }
    if is_reserved(&with_ext) {
        return Err(Error::invalid_input(
            FIELD,
            "that name is reserved by Windows (CON, PRN, AUX, NUL, COM1…, LPT1…): choose another",
        ));
    }
    Ok(with_ext)
}

/// True for Windows' reserved device names: the part before the first dot, with trailing spaces
/// dropped, compared without case.
fn is_reserved(name: &str) -> bool {
    let stem = name
        .split('.')
        .next()
        .unwrap_or(name)
        .trim_end()
        .to_uppercase();
    if RESERVED.contains(&stem.as_str()) {
        return true;
    }
    stem.strip_prefix("COM")
        .or_else(|| stem.strip_prefix("LPT"))
        .is_some_and(|digit| {
            matches!(
                digit,
                "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "¹" | "²" | "³"
            )
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn refused(name: &str) -> String {
        let e = clean_file_name(name, "csv").unwrap_err();
        assert_eq!(e.kind(), "invalid_input", "{name:?}");
        e.to_string()
    }

    #[test]
    fn plain_names_get_their_extension() {
        assert_eq!(clean_file_name("history", "csv").unwrap(), "history.csv");
        assert_eq!(clean_file_name(" a.CSV ", "csv").unwrap(), "a.CSV");
        assert_eq!(clean_file_name("report.", "csv").unwrap(), "report.csv");
        assert_eq!(
            clean_file_name("Team – März 2026", "csv").unwrap(),
            "Team – März 2026.csv"
        );
        assert_eq!(
            clean_file_name("invite-desk", "mjs").unwrap(),
            "invite-desk.mjs"
        );
        // Names that merely start like a device name are fine.
        for ok in [
            "console",
            "nullable",
            "com10",
            "lpt0",
            "auxiliary",
            "con-list",
            "COM",
            "€uro",
        ] {
            assert!(clean_file_name(ok, "csv").is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn folders_hidden_and_control_characters_are_refused() {
        for bad in [
            "",
            "   ",
            "../x",
            "a/b",
            "C:\\x",
            ".hidden",
            "a\nb",
            "tab\there",
        ] {
            refused(bad);
        }
        assert!(refused("a/b").contains("without folders"));
    }

    #[test]
    fn characters_windows_forbids_are_refused_and_named() {
        for c in ['<', '>', ':', '"', '|', '?', '*'] {
            let msg = refused(&format!("list{c}2026"));
            assert!(msg.contains(&format!("leave out {c}")), "{msg}");
        }
    }

    #[test]
    fn reserved_device_names_are_refused_in_any_case_and_with_an_extension() {
        for bad in [
            "CON",
            "con",
            "Prn",
            "AUX",
            "nul",
            "NUL.csv",
            "nul.txt",
            "COM1",
            "com9",
            "LPT1",
            "lpt9.csv",
            "CONIN$",
            "conout$",
            "COM¹",
            "LPT³",
            "nul .csv",
            "aux.tar.gz",
        ] {
            let msg = refused(bad);
            assert!(msg.contains("reserved by Windows"), "{bad:?}: {msg}");
        }
    }

    #[test]
    fn too_long_names_are_refused_by_characters_not_bytes() {
        assert!(clean_file_name(&"é".repeat(MAX_LEN - 4), "csv").is_ok());
        assert!(refused(&"a".repeat(MAX_LEN + 1)).contains("shorter"));
    }

    #[test]
    fn accepted_names_can_be_created_on_this_system() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "history",
            "Team – März 2026",
            "con-list",
            "com10",
            "report.",
        ] {
            let clean = clean_file_name(name, "csv").unwrap();
            let path = dir.path().join(&clean);
            std::fs::write(&path, b"x").unwrap();
            // Read back under the same name: no silent renaming (Windows drops trailing dots).
            assert_eq!(std::fs::read(&path).unwrap(), b"x", "{clean}");
            assert!(std::fs::read_dir(dir.path())
                .unwrap()
                .any(|e| e.unwrap().file_name() == clean.as_str()));
        }
    }
}
