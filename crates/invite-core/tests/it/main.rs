//! The core's integration tests, as one test program: one link instead of one per file (each
//! links the whole core, the sandbox and the HTTP stack). Each file is a module and still reads
//! as its own suite; `cargo test --test it -- royalti::` runs one of them. The real-keychain
//! tests stay a program of their own (`tests/keychain.rs`): `scripts/keychain-test.sh` runs
//! them on purpose-built session buses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod bounded_reads;
mod clock_skew;
mod desk;
mod gotrue_netlify;
mod gotrue_only_invitations;
mod gotrue_selfhosted;
mod gotrue_supabase;
mod keychain_windows;
mod networks;
mod outbox_every_backend;
mod outbox_exactly_once;
mod outbox_hostile_numbers;
mod outbox_resilience;
mod outbox_two_processes;
mod parse_encodings;
mod parse_pastes;
mod parse_proptest;
mod redaction;
mod royalti;
mod update;
