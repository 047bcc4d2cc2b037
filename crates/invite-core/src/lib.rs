//! Invite Desk's core: everything the app does, without Tauri.
//!
//! - [`provider::Provider`]: the one trait every back end implements ([`providers`]).
//! - [`outbox`]: the durable queue every invitation goes through, and the local history.
//! - [`secret`]: the keychain, and [`secret::Sensitive`] for every secret in memory.
//! - [`workspace`]: the non-secret description of each workspace.
//! - [`parse`]: turning a pasted list or a CSV into addresses; [`filter`]: searching lists.
//! - [`connect`]: building the right provider for a workspace.
//! - [`desk`]: the application service both front ends (window, command line) drive.

pub mod connect;
pub mod desk;
pub mod diagnostics;
pub mod error;
pub mod filename;
pub mod filter;
pub mod http;
pub mod model;
pub mod outbox;
pub mod parse;
pub mod provider;
pub mod providers;
pub mod redact;
pub mod secret;
pub mod update;
pub mod workspace;

pub use error::{Error, Result};
