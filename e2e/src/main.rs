//! End-to-end tests of the REAL Invite Desk window, driven through tauri-driver +
//! WebKitWebDriver. Run by `scripts/e2e.sh` under Xvfb, a private D-Bus session and an unlocked
//! gnome-keyring, with its own HOME. Screenshots of every step go to target/e2e-screenshots/.
//!
//! `e2e [flow…]` runs the named flows (default: all): `first-screen`, `dark`, `no-keychain`, `demo`, `netlify`, `royalti`, `desktop`, `updates`.
//!
//! Linux only: the flows need WebKitGTK's WebKitWebDriver, Xvfb and a D-Bus session. On Windows
//! and macOS the crate still builds (so the workflows' `cargo clippy --all-targets` and
//! `cargo test --workspace` pass there) as a program that says so.

#[cfg(target_os = "linux")]
mod bus;
#[cfg(target_os = "linux")]
mod driver;
#[cfg(target_os = "linux")]
mod filemanager;
#[cfg(target_os = "linux")]
mod flows;
#[cfg(target_os = "linux")]
mod leak;
#[cfg(target_os = "linux")]
mod lockholder;
#[cfg(target_os = "linux")]
mod notifications;
#[cfg(target_os = "linux")]
mod suite;
#[cfg(target_os = "linux")]
mod updates;

#[cfg(target_os = "linux")]
pub use suite::{root, Env};

#[cfg(target_os = "linux")]
#[tokio::main]
async fn main() {
    suite::main().await;
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("The end-to-end tests drive WebKitGTK (WebKitWebDriver, Xvfb, D-Bus): Linux only.");
    std::process::exit(2);
}
