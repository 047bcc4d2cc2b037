//! The command line: every command, flag and help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use invite_core::model::{InviteStatus, WorkspaceKind};

/// Exit codes, for scripts: one text for `--help` and the docs.
macro_rules! exit_codes {
    () => {
        "Exit codes:
  0  everything asked for is done
  1  some addresses failed, wait (rate limit, offline) or are paused; the rest is done
  2  nothing was done: a usage error, an unknown workspace, or the server, keychain or
     data folder could not be used"
    };
}

const AFTER_HELP: &str = concat!(
    "Examples:
  invite-desk-cli workspaces
  invite-desk-cli invite -w Acme people.csv
  printf 'ann@example.com\\nbob@example.com\\n' | invite-desk-cli invite -w Acme -
  invite-desk-cli invitations -w Acme --status pending --csv > pending.csv
  invite-desk-cli resend -w Acme ann@example.com
  invite-desk-cli history --export history.csv

It uses the window's workspaces, keychain entries and outbox: a batch queued here shows in
the window, and the other way round.

",
    exit_codes!()
);

/// Invite people to your workspace from a terminal, a script or a CI step.
#[derive(Debug, Parser)]
#[command(name = "invite-desk-cli", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// The data folder shared with the window (settings.json, outbox.sqlite3). Default: the
    /// app's own folder; INVITE_DESK_DATA_DIR, which the window reads too, changes both.
    #[arg(long, global = true, env = "INVITE_DESK_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Print JSON for scripts (one document on stdout) instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    /// Also print the server's own words behind each error.
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List workspaces with their kind and status; add or remove one.
    #[command(
        after_help = "Examples:\n  invite-desk-cli workspaces\n  invite-desk-cli workspaces add --kind supabase --name Acme --url https://abcd.supabase.co\n  printf '%s' \"$KEY\" | invite-desk-cli workspaces add --kind supabase --name Acme --url https://abcd.supabase.co --secret-stdin"
    )]
    Workspaces(WorkspacesArgs),

    /// Invite the addresses of a file, or of standard input (`-`), through the outbox.
    #[command(
        after_help = "Examples:\n  invite-desk-cli invite -w Acme people.csv\n  cat list.txt | invite-desk-cli invite -w Acme --message 'Welcome aboard' -\n  invite-desk-cli invite -w Acme --links new-hires.txt\n\nThe file is read as the window reads a pasted list or a dropped CSV. The batch goes through\nthe same outbox as the window's: stopped halfway, it is finished by the window or by\n`invite-desk-cli flush`, and nobody is invited twice."
    )]
    Invite(InviteArgs),

    /// List a workspace's invitations.
    #[command(
        after_help = "Examples:\n  invite-desk-cli invitations -w Acme\n  invite-desk-cli invitations -w Acme --status expired --search example.com\n  invite-desk-cli invitations -w Acme --csv > invitations.csv"
    )]
    Invitations(InvitationsArgs),

    /// Send pending or expired invitations again.
    #[command(
        after_help = "Example:\n  invite-desk-cli resend -w Acme ann@example.com bob@example.com"
    )]
    Resend(AddressesArgs),

    /// Cancel invitations that were not accepted yet (pending or expired), as the window does.
    #[command(after_help = "Example:\n  invite-desk-cli cancel -w Acme ann@example.com")]
    Cancel(AddressesArgs),

    /// What was sent, to whom, when and with what result; or export it as CSV.
    #[command(
        after_help = "Examples:\n  invite-desk-cli history\n  invite-desk-cli history -w Acme --result failed\n  invite-desk-cli history --export history.csv"
    )]
    History(HistoryArgs),

    /// What the outbox is doing: unfinished batches and paused workspaces.
    Status,

    /// Send what waits in the outbox (a batch left by a closed window or a stopped run), then exit.
    #[command(
        after_help = "Example (cron, every 10 minutes):\n  */10 * * * * invite-desk-cli flush"
    )]
    Flush(FlushArgs),
}

/// `workspaces`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct WorkspacesArgs {
    /// Add or remove (without one: list).
    #[command(subcommand)]
    pub action: Option<WorkspacesAction>,

    /// Also test each workspace's connection and credentials against its server.
    #[arg(long)]
    pub check: bool,
}

/// `workspaces add|remove`.
#[derive(Debug, Subcommand)]
pub enum WorkspacesAction {
    /// Add a workspace. Its secret is read from a prompt that does not echo, or with
    /// --secret-stdin from standard input; never from an argument (it would land in the shell's
    /// history and in `ps`). It is tested against the server before it is saved.
    Add(AddArgs),
    /// Remove a workspace and every secret it kept in the keychain.
    Remove {
        /// The workspace's name (or id).
        #[arg(short = 'w', long = "workspace", value_name = "NAME")]
        workspace: String,
    },
}

/// The service of a workspace, as typed on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// Supabase (hosted or self-hosted): project URL + secret key.
    Supabase,
    /// Self-hosted GoTrue: URL + JWT secret (or --operator-token).
    Gotrue,
    /// Netlify Identity: site URL + Identity email and password.
    Netlify,
    /// Royalti: workspace API key (RWAK…), or account email and password with --remote-workspace.
    Royalti,
}

impl From<KindArg> for WorkspaceKind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Supabase => WorkspaceKind::Supabase,
            KindArg::Gotrue => WorkspaceKind::Gotrue,
            KindArg::Netlify => WorkspaceKind::Netlify,
            KindArg::Royalti => WorkspaceKind::Royalti,
        }
    }
}

/// `workspaces add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// Which service.
    #[arg(long, value_enum)]
    pub kind: KindArg,
    /// The name you will use with -w.
    #[arg(long)]
    pub name: String,
    /// The workspace's address (a pasted dashboard URL is understood, as in the window).
    #[arg(long, default_value = "")]
    pub url: String,
    /// Netlify and Royalti sign-in: the account's email.
    #[arg(long)]
    pub email: Option<String>,
    /// Royalti with email and password: the id of the workspace in the account.
    #[arg(long, value_name = "ID")]
    pub remote_workspace: Option<String>,
    /// Self-hosted GoTrue: the secret is an operator token, not the JWT secret.
    #[arg(long)]
    pub operator_token: bool,
    /// Royalti: the secret is a workspace API key (RWAK…).
    #[arg(long)]
    pub api_key: bool,
    /// Netlify and Royalti: keep the password in the keychain to sign in again silently.
    #[arg(long)]
    pub keep_signed_in: bool,
    /// Invitations sent at once to start with (1 to 16; default 4); then more while the server
    /// answers quickly, fewer when it refuses (never more than 16).
    #[arg(long)]
    pub concurrency: Option<u32>,
    /// Emails the server sends per hour, when you know it (the outbox keeps to it).
    #[arg(long)]
    pub emails_per_hour: Option<u32>,
    /// Read the secret from standard input (first line) instead of a prompt.
    #[arg(long)]
    pub secret_stdin: bool,
}

/// `invite`.
#[derive(Debug, Args)]
pub struct InviteArgs {
    /// The workspace's name (or id).
    #[arg(short = 'w', long = "workspace", value_name = "NAME")]
    pub workspace: String,
    /// A personal message with the invitation (where the service supports one).
    #[arg(long, value_name = "M")]
    pub message: Option<String>,
    /// Where the invitation link leads after sign-up.
    #[arg(long, value_name = "URL")]
    pub redirect: Option<String>,
    /// Create links to copy instead of sending emails (not limited by the email rate limit).
    #[arg(long)]
    pub links: bool,
    /// Queue the batch and return at once; the window or `flush` sends it.
    #[arg(long)]
    pub no_wait: bool,
    /// Wait at most this long for addresses that must wait (a rate limit, offline); after
    /// that they stay queued and the exit code is 1.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub max_wait: u64,
    /// A .csv or .txt file, or `-` for standard input.
    #[arg(value_name = "FILE|-")]
    pub input: Option<PathBuf>,
}

/// Statuses on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
    /// Sent, not accepted yet.
    Pending,
    /// Accepted: a member.
    Accepted,
    /// Not accepted and the link expired.
    Expired,
    /// Cancelled.
    Cancelled,
}

impl From<StatusArg> for InviteStatus {
    fn from(s: StatusArg) -> Self {
        match s {
            StatusArg::Pending => InviteStatus::Pending,
            StatusArg::Accepted => InviteStatus::Accepted,
            StatusArg::Expired => InviteStatus::Expired,
            StatusArg::Cancelled => InviteStatus::Cancelled,
        }
    }
}

/// `invitations`.
#[derive(Debug, Args)]
pub struct InvitationsArgs {
    /// The workspace's name (or id).
    #[arg(short = 'w', long = "workspace", value_name = "NAME")]
    pub workspace: String,
    /// Only this status.
    #[arg(long, value_enum)]
    pub status: Option<StatusArg>,
    /// Words to find in the address or name.
    #[arg(long, value_name = "S")]
    pub search: Option<String>,
    /// CSV on stdout (for a spreadsheet).
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
}

/// `resend` and `cancel`.
#[derive(Debug, Args)]
pub struct AddressesArgs {
    /// The workspace's name (or id).
    #[arg(short = 'w', long = "workspace", value_name = "NAME")]
    pub workspace: String,
    /// The invited addresses.
    #[arg(value_name = "EMAIL", required = true)]
    pub emails: Vec<String>,
}

/// `history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only this workspace (name or id).
    #[arg(short = 'w', long = "workspace", value_name = "NAME")]
    pub workspace: Option<String>,
    /// Only this result: invited, linked, updated, already_member, failed, cancelled, waiting…
    #[arg(long)]
    pub result: Option<String>,
    /// Part of the address or workspace name.
    #[arg(long, value_name = "S")]
    pub search: Option<String>,
    /// Rows to show (newest first); the export always has every row.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// Write every matching row as CSV to FILE (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    pub export: Option<PathBuf>,
}

/// `flush`.
#[derive(Debug, Args)]
pub struct FlushArgs {
    /// Wait at most this long for addresses that must wait (a rate limit, offline).
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub max_wait: u64,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_states_the_exit_codes_the_program_uses() {
        use crate::output::{Done, EXIT_ERROR};
        for code in [Done::All.code(), Done::Partly.code(), EXIT_ERROR] {
            assert!(AFTER_HELP.contains(&format!("\n  {code}  ")), "{code}");
        }
        let docs = include_str!("../../../docs/cli.md");
        assert!(docs.contains("| 0 | Everything asked for is done. |"));
    }
}
