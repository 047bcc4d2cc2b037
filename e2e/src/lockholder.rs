//! A copy of the app caught closing, as a new launch finds it: it still holds the app's
//! single-instance name on the session bus, and when the new launch hands its arguments over it
//! disconnects without answering (the bus answers `NoReply` in its place). A restart the moment
//! the app was quit meets exactly this; the new launch must start all the same.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use crate::bus::Reply;
use crate::driver::Res;

/// The single-instance name of the app on `data_dir` (src-tauri/desktop.rs `plugins`: FNV-1a of
/// the folder, then the plugin's `.SingleInstance`).
fn lock_name(data_dir: &Path) -> String {
    let hash = data_dir
        .to_string_lossy()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    format!("io.invitedesk.desktop.d{hash:016x}.SingleInstance")
}

/// How many hand-overs the closing copy was asked for (it goes after the first).
#[derive(Debug, Clone, Default)]
pub struct Asked(Arc<AtomicU32>);

impl Asked {
    pub fn count(&self) -> u32 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Takes the app's name for `data_dir` and keeps it until the first call, then leaves.
pub fn hold_closing(data_dir: &Path) -> Res<Asked> {
    let asked = Asked::default();
    let counter = asked.clone();
    crate::bus::serve(lock_name(data_dir), false, move |_| {
        counter.0.fetch_add(1, Ordering::SeqCst);
        Reply::Leave
    })?;
    Ok(asked)
}
