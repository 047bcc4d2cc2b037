//! The sandbox's integration tests, as one test program (one link instead of one per file).
//! Each file is a module; `cargo test --test it -- faults::` runs one of them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod cli;
mod control;
mod faults;
mod fuzz;
mod netlify;
mod royalti;
mod supabase;
