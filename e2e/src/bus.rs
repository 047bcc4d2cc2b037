//! A name on the test's private session bus, served from a thread of its own: the desktop
//! services the flows stand in for (notifications, the file manager) and a closing copy of the app.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dbus::blocking::Connection;
use dbus::channel::{MatchingReceiver, Sender};
use dbus::message::MatchRule;
use dbus::Message;

use crate::driver::{Ctx, Res};

/// What a method call gets back.
pub enum Reply {
    /// This answer.
    Send(Message),
    /// None: the server leaves the bus without answering, as a program that is closing does
    /// (the bus answers `NoReply` in its place).
    Leave,
}

/// Takes `name` (from whoever holds it, when `replace`) and answers each method call with
/// `answer`, until the process ends or an answer is [`Reply::Leave`]. Returns once the name is
/// held.
pub fn serve(
    name: String,
    replace: bool,
    mut answer: impl FnMut(&Message) -> Reply + Send + 'static,
) -> Res<()> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Res<()>>();
    let what = format!("serving {name} on the session bus");
    std::thread::spawn(move || {
        let conn = match Connection::new_session().ctx("connecting to the session bus") {
            Ok(c) => c,
            Err(e) => {
                let _ = ready_tx.send(Err(e));
                return;
            }
        };
        let named = conn
            .request_name(name.as_str(), false, replace, true)
            .ctx(&format!("taking {name}"));
        let failed = named.is_err();
        let _ = ready_tx.send(named.map(|_| ()));
        if failed {
            return;
        }
        let leave = Arc::new(AtomicBool::new(false));
        let left = leave.clone();
        conn.start_receive(
            MatchRule::new_method_call(),
            Box::new(move |msg, conn| {
                match answer(&msg) {
                    Reply::Send(reply) => {
                        let _ = conn.send(reply);
                    }
                    Reply::Leave => left.store(true, Ordering::SeqCst),
                }
                true
            }),
        );
        // Dropping the connection gives the name up.
        while !leave.load(Ordering::SeqCst) && conn.process(Duration::from_millis(100)).is_ok() {}
    });
    ready_rx.recv_timeout(Duration::from_secs(10)).ctx(&what)?
}
