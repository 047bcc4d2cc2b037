//! A copy of the app caught closing, as a new launch finds it: it still holds the app's
//! single-instance name on the session bus, and when the new launch hands its arguments over it
//! disconnects without answering (the bus answers `NoReply` in its place). A restart the moment
//! the app was quit meets exactly this; the new launch must start all the same.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dbus::blocking::Connection;
use dbus::channel::MatchingReceiver;
use dbus::message::MatchRule;

use crate::driver::{Ctx, Res};

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

/// Takes the app's name for `data_dir` and keeps it until the first call, then disconnects.
pub fn hold_closing(data_dir: &Path) -> Res<Asked> {
    let name = lock_name(data_dir);
    let asked = Asked::default();
    let seen = asked.clone();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Res<()>>();
    std::thread::spawn(move || {
        let conn = match Connection::new_session().ctx("connecting to the session bus") {
            Ok(c) => c,
            Err(e) => {
                let _ = ready_tx.send(Err(e));
                return;
            }
        };
        let named = conn
            .request_name(name.as_str(), false, false, true)
            .ctx(&format!("taking {name}"));
        let failed = named.is_err();
        let _ = ready_tx.send(named.map(|_| ()));
        if failed {
            return;
        }
        let counter = seen.clone();
        conn.start_receive(
            MatchRule::new_method_call(),
            Box::new(move |_msg, _conn| {
                counter.0.fetch_add(1, Ordering::SeqCst);
                true
            }),
        );
        // Dropping the connection unanswered is the closing copy's exit.
        while asked_none(&conn, &seen) {}
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .ctx("taking the app's single-instance name")??;
    Ok(asked)
}

/// Processes the bus for a moment; false once a call came (or the bus went).
fn asked_none(conn: &Connection, asked: &Asked) -> bool {
    conn.process(Duration::from_millis(100)).is_ok() && asked.count() == 0
}
