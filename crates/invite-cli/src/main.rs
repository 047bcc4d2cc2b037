//! `invite-desk-cli`: Invite Desk in a terminal, a script or a CI step.
//!
//! A thin front end over `invite-core`, like the window: it reads the window's settings file,
//! keychain entries and outbox (see [`desk`]), so a batch queued here shows in the window and
//! the other way round. No Tauri inside.

mod cli;
mod desk;
mod error;
mod history;
mod invitations;
mod output;
mod send;
mod workspaces;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::error::CliResult;
use crate::invitations::Action;
use crate::output::{Done, Out, EXIT_ERROR};

fn main() -> ExitCode {
    // Usage errors exit with 2 (clap's code, the same as ours).
    let cli = Cli::parse();
    let out = Out {
        json: cli.json,
        verbose: cli.verbose,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            out.error(&invite_core::Error::storage(e).into());
            return ExitCode::from(EXIT_ERROR);
        }
    };
    match runtime.block_on(run(cli, &out)) {
        Ok(done) => ExitCode::from(done.code()),
        Err(e) => {
            out.error(&e);
            ExitCode::from(EXIT_ERROR)
        }
    }
}

async fn run(cli: Cli, out: &Out) -> CliResult<Done> {
    let desk = desk::open(cli.data_dir)?;
    match cli.command {
        Command::Workspaces(a) => workspaces::run(&desk, out, a).await,
        Command::Invite(a) => send::invite(&desk, out, a).await,
        Command::Invitations(a) => invitations::list(&desk, out, a).await,
        Command::Resend(a) => invitations::act(&desk, out, a, Action::Resend).await,
        Command::Cancel(a) => invitations::act(&desk, out, a, Action::Cancel).await,
        Command::History(a) => history::run(&desk, out, a),
        Command::Status => send::status(&desk, out),
        Command::Flush(a) => send::flush(&desk, out, a).await,
    }
}
