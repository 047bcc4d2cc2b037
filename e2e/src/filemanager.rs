//! A file manager on the test's private session bus (`org.freedesktop.FileManager1`, the
//! interface Nautilus, Dolphin and Nemo serve), so a flow can see what "Show in folder" asked
//! the desktop to reveal.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::bus::Reply;
use crate::driver::Res;

/// Every URI asked for with `ShowItems`, in order.
#[derive(Debug, Clone, Default)]
pub struct Revealed(Arc<Mutex<Vec<String>>>);

impl Revealed {
    pub fn all(&self) -> Vec<String> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Waits up to `secs` for a `ShowItems` call naming `uri`.
    pub async fn wait_for(&self, uri: &str, secs: u64) -> Res<()> {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        while !self.all().iter().any(|u| u == uri) {
            if std::time::Instant::now() > deadline {
                return Err(format!(
                    "the file manager was not asked to show {uri} in {secs} s; got {:?}",
                    self.all()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }
}

/// Takes the name `org.freedesktop.FileManager1` on the session bus until the process ends.
pub fn serve() -> Res<Revealed> {
    let seen = Revealed::default();
    let sink = seen.clone();
    crate::bus::serve("org.freedesktop.FileManager1".into(), true, move |msg| {
        Reply::Send(match msg.member().as_deref() {
            Some("ShowItems") => match msg.read2::<Vec<String>, String>() {
                Ok((uris, _startup)) => {
                    if let Ok(mut v) = sink.0.lock() {
                        v.extend(uris);
                    }
                    msg.method_return()
                }
                Err(_) => msg.error(
                    &"org.freedesktop.DBus.Error.InvalidArgs".into(),
                    c"bad ShowItems arguments",
                ),
            },
            _ => msg.error(
                &"org.freedesktop.DBus.Error.UnknownMethod".into(),
                c"not served by the e2e file manager",
            ),
        })
    })?;
    Ok(seen)
}
