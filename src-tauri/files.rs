//! Files the owner asks to save (the Netlify function, a history export) go into the Downloads
//! folder, through `invite_core::desk::files` (a plain name, never over an existing file, never
//! through a link).

use crate::error::{CmdError, CmdResult};

/// The Invite Desk Netlify Function, embedded so the app can show and save it.
pub const NETLIFY_FUNCTION: &str = include_str!("../netlify/functions/invite-desk.mjs");

/// The Downloads folder (or the home folder where there is none).
pub fn downloads<R: tauri::Runtime>(app: &tauri::AppHandle<R>) -> CmdResult<std::path::PathBuf> {
    use tauri::Manager;
    app.path()
        .download_dir()
        .or_else(|_| app.path().home_dir())
        .map_err(CmdError::internal)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_function_is_embedded() {
        assert!(super::NETLIFY_FUNCTION.contains("export"));
    }
}
