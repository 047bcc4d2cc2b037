//! A desktop notification server on the test's private session bus, so the flows can see what
//! the app tells the OS (`org.freedesktop.Notifications.Notify`, as a desktop's server gets it).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use dbus::Message;

use crate::bus::Reply;
use crate::driver::Res;

/// One notification as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub app_name: String,
    pub summary: String,
    pub body: String,
}

/// What the server has received so far.
#[derive(Debug, Clone, Default)]
pub struct Notifications(Arc<Mutex<Vec<Shown>>>);

impl Notifications {
    /// Everything received.
    pub fn all(&self) -> Vec<Shown> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Waits up to `secs` for a notification whose summary is `summary`.
    pub async fn wait_for(&self, summary: &str, secs: u64) -> Res<Shown> {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(n) = self.all().into_iter().find(|n| n.summary == summary) {
                return Ok(n);
            }
            if std::time::Instant::now() > deadline {
                return Err(format!(
                    "no desktop notification \"{summary}\" in {secs} s; got {:?}",
                    self.all()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn answer(msg: &Message, seen: &Notifications) -> Message {
    match msg.member().as_deref() {
        Some("Notify") => {
            let read = msg.read_all::<(String, u32, String, String, String)>();
            let Ok((app_name, _replaces, _icon, summary, body)) = read else {
                return msg.error(
                    &"org.freedesktop.DBus.Error.InvalidArgs".into(),
                    c"bad Notify arguments",
                );
            };
            let id = match seen.0.lock() {
                Ok(mut v) => {
                    v.push(Shown {
                        app_name,
                        summary,
                        body,
                    });
                    v.len() as u32
                }
                Err(_) => 0,
            };
            msg.method_return().append1(id)
        }
        Some("GetCapabilities") => msg.method_return().append1(vec!["body".to_string()]),
        Some("GetServerInformation") => msg
            .method_return()
            .append3("invite-desk-e2e", "Invite Desk", "1")
            .append1("1.2"),
        Some("CloseNotification") => msg.method_return(),
        _ => msg.error(
            &"org.freedesktop.DBus.Error.UnknownMethod".into(),
            c"not served by the e2e notification server",
        ),
    }
}

/// Takes the name `org.freedesktop.Notifications` on the session bus and records every
/// notification until the process ends.
pub fn serve() -> Res<Notifications> {
    let seen = Notifications::default();
    let sink = seen.clone();
    crate::bus::serve("org.freedesktop.Notifications".into(), true, move |msg| {
        Reply::Send(answer(msg, &sink))
    })?;
    Ok(seen)
}
