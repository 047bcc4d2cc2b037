//! `workspaces`: list (with kind and status), add (the secret from a prompt without echo or
//! from stdin, tested before it is saved), remove (with its keychain entries).

use std::io::{BufRead, IsTerminal};

use invite_core::desk::{Desk, SecretsIn, WorkspaceDraft};
use invite_core::model::{ConnectionReport, WorkspaceKind};
use invite_core::outbox::Outbox;
use invite_core::secret::Sensitive;
use invite_core::workspace::{
    AuthMode, GotrueOptions, GotrueSignIn, NetlifyOptions, RoyaltiOptions, RoyaltiSignIn,
    SendingOptions, SupabaseOptions, Workspace, WorkspaceConfig,
};
use serde::Serialize;

use crate::cli::{AddArgs, WorkspacesAction, WorkspacesArgs};
use crate::error::{CliError, CliResult};
use crate::output::{table, Done, Out};

/// One workspace as listed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Listed {
    id: String,
    name: String,
    kind: WorkspaceKind,
    kind_label: &'static str,
    address: String,
    current: bool,
    /// `ready`, `paused`, `sending`, `demo`, or with --check `connected` / `error`.
    status: String,
    /// Why it is paused, or what the check said.
    note: Option<String>,
    /// Addresses still in the outbox for it.
    queued: u32,
}

/// Runs `workspaces …`.
pub async fn run(desk: &Desk, out: &Out, args: WorkspacesArgs) -> CliResult<Done> {
    match args.action {
        None => list(desk, out, args.check).await,
        Some(WorkspacesAction::Add(a)) => add(desk, out, a).await,
        Some(WorkspacesAction::Remove { workspace }) => remove(desk, out, &workspace).await,
    }
}

async fn list(desk: &Desk, out: &Out, check: bool) -> CliResult<Done> {
    let list = desk.workspaces()?;
    let (paused, unfinished) = if list.workspaces.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        (paused_workspaces(desk)?, desk.unfinished()?)
    };
    let mut rows = Vec::new();
    let mut all_ok = true;
    for ws in &list.workspaces {
        let queued: u32 = unfinished
            .iter()
            .filter(|b| b.workspace_id == ws.id)
            .map(|b| b.pending)
            .sum();
        let pause = paused.iter().find(|(id, _)| *id == ws.id).map(|(_, r)| r);
        let (mut status, mut note) = match (ws.demo, pause) {
            (true, _) => (
                "demo".to_string(),
                Some("runs inside the window only".to_string()),
            ),
            (false, Some(reason)) => ("paused".to_string(), Some(pause_reason(reason))),
            (false, None) if queued > 0 => ("sending".to_string(), None),
            (false, None) => ("ready".to_string(), None),
        };
        if check && !ws.demo {
            match check_one(desk, ws).await {
                Ok(report) => {
                    status = "connected".into();
                    note = Some(report.summary);
                }
                Err(e) => {
                    all_ok = false;
                    status = "error".into();
                    note = Some(out.reason(&e.to_string(), e.detail()));
                }
            }
        }
        rows.push(Listed {
            id: ws.id.clone(),
            name: ws.name.clone(),
            kind: ws.kind(),
            kind_label: ws.kind().label(),
            address: ws.base_url.clone(),
            current: list.current_id.as_deref() == Some(ws.id.as_str()),
            status,
            note,
            queued,
        });
    }
    if out.json {
        out.json(&serde_json::json!({ "workspaces": rows }))?;
    } else if rows.is_empty() {
        println!(
            "No workspaces yet. Add one in the window, or with `invite-desk-cli workspaces add`."
        );
    } else {
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                let mut status = r.status.clone();
                if r.queued > 0 {
                    status.push_str(&format!(" ({} queued)", r.queued));
                }
                vec![
                    format!("{}{}", r.name, if r.current { " *" } else { "" }),
                    r.kind_label.to_string(),
                    status,
                    r.address.clone(),
                    r.note.clone().unwrap_or_default(),
                ]
            })
            .collect();
        println!(
            "{}",
            table(&["NAME", "KIND", "STATUS", "ADDRESS", "NOTE"], &cells)
        );
    }
    Ok(Done::when(all_ok))
}

/// Why a workspace's queue is paused, and what to do, in plain words.
pub fn pause_reason(reason: &str) -> String {
    match reason {
        "owner" => "paused by you: resume it in the window".into(),
        "signed_out" => {
            "signed out: sign in again in the window; its invitations then go out".into()
        }
        "not_admin" => {
            "these credentials can no longer invite: replace the key in the window".into()
        }
        other => format!("paused ({other})"),
    }
}

/// Paused workspaces and why (`owner`, or the error kind that paused them).
///
/// The desk does not offer this list yet, so the outbox file is read directly.
pub fn paused_workspaces(desk: &Desk) -> CliResult<Vec<(String, String)>> {
    let outbox = Outbox::open(&desk.data_dir().join(invite_core::desk::OUTBOX_FILE))?;
    Ok(outbox.paused_workspaces()?)
}

async fn check_one(desk: &Desk, ws: &Workspace) -> CliResult<ConnectionReport> {
    Ok(desk.provider(&ws.id)?.check_connection().await?)
}

/// The secret's label, as the window's form names it.
fn secret_label(kind: WorkspaceKind, mode: AuthMode) -> &'static str {
    match (kind, mode) {
        (WorkspaceKind::Supabase, _) => "Secret key",
        (WorkspaceKind::Gotrue, AuthMode::OperatorToken) => "Operator token",
        (WorkspaceKind::Gotrue, _) => "JWT secret",
        (WorkspaceKind::Royalti, AuthMode::ApiKey) => "API key",
        (WorkspaceKind::Netlify | WorkspaceKind::Royalti, _) => "Password",
    }
}

/// Reads the secret: from stdin when asked or when stdin is not a terminal (a pipe, a file),
/// otherwise from a prompt on the terminal that does not echo. Never from an argument.
fn read_secret(label: &str, from_stdin: bool) -> CliResult<Sensitive<String>> {
    let stdin = std::io::stdin();
    let value = if from_stdin || !stdin.is_terminal() {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::usage(format!("{label}: can't read standard input: {e}")))?;
        line
    } else {
        rpassword::prompt_password(format!("{label} (not shown): "))
            .map_err(|e| CliError::usage(format!("{label}: can't read the prompt: {e}")))?
    };
    let value = Sensitive::new(value.trim().to_string());
    if value.expose().is_empty() {
        return Err(invite_core::Error::invalid_input(label, "is required").into());
    }
    Ok(value)
}

/// The secret's name in the keychain: the one the back end's form asks for in this mode.
fn secret_name(kind: WorkspaceKind, mode: AuthMode) -> CliResult<&'static str> {
    invite_core::providers::form::of(kind)
        .secret_for(mode)
        .ok_or_else(|| CliError::usage(format!("{} has no such way of signing in", kind.label())))
}

/// The add-workspace form, filled from the command line (no secret in it).
fn draft(a: &AddArgs) -> CliResult<WorkspaceDraft> {
    let kind = WorkspaceKind::from(a.kind);
    let auth_mode = match (kind, a.operator_token, a.api_key) {
        (WorkspaceKind::Gotrue, true, false) => AuthMode::OperatorToken,
        (WorkspaceKind::Royalti, false, true) => AuthMode::ApiKey,
        (_, false, false) => AuthMode::Default,
        _ => {
            return Err(CliError::usage(
                "--operator-token is for --kind gotrue, --api-key for --kind royalti",
            ))
        }
    };
    let needs_email = kind == WorkspaceKind::Netlify
        || (kind == WorkspaceKind::Royalti && auth_mode == AuthMode::Default);
    if needs_email && a.email.as_deref().is_none_or(|e| e.trim().is_empty()) {
        return Err(
            invite_core::Error::invalid_input("--email", "is required for this sign-in").into(),
        );
    }
    if kind == WorkspaceKind::Royalti
        && auth_mode == AuthMode::Default
        && a.remote_workspace.is_none()
    {
        return Err(CliError::usage(
            "Royalti with email and password: give --remote-workspace ID or NAME (or use --api-key)",
        ));
    }
    if !needs_email && (a.email.is_some() || a.keep_signed_in) {
        return Err(CliError::usage(
            "--email and --keep-signed-in are for --kind netlify, and --kind royalti without --api-key",
        ));
    }
    let sending = SendingOptions {
        concurrency: a.concurrency,
        emails_per_hour: a.emails_per_hour,
        ..Default::default()
    };
    // Each kind takes its own options only.
    let config = match kind {
        WorkspaceKind::Supabase => WorkspaceConfig::Supabase(SupabaseOptions {
            sending,
            ..Default::default()
        }),
        WorkspaceKind::Gotrue => WorkspaceConfig::Gotrue(GotrueOptions {
            auth_mode: if auth_mode == AuthMode::OperatorToken {
                GotrueSignIn::OperatorToken
            } else {
                GotrueSignIn::JwtSecret
            },
            sending,
            ..Default::default()
        }),
        WorkspaceKind::Netlify => WorkspaceConfig::Netlify(NetlifyOptions {
            account_email: a.email.clone(),
            keep_signed_in: a.keep_signed_in,
            sending,
            ..Default::default()
        }),
        WorkspaceKind::Royalti => WorkspaceConfig::Royalti(RoyaltiOptions {
            auth_mode: if auth_mode == AuthMode::ApiKey {
                RoyaltiSignIn::ApiKey
            } else {
                RoyaltiSignIn::Password
            },
            account_email: a.email.clone(),
            keep_signed_in: a.keep_signed_in,
            sending,
            ..Default::default()
        }),
    };
    Ok(WorkspaceDraft {
        name: a.name.clone(),
        base_url: a.url.clone(),
        config,
    })
}

/// Royalti with email and password: one sign-in, then the picked workspace of the account is
/// added (as the window's pick screen does) and given the name asked for.
async fn add_royalti(
    desk: &Desk,
    a: &AddArgs,
    draft: &WorkspaceDraft,
    password: Sensitive<String>,
) -> CliResult<Workspace> {
    let base_url = invite_core::workspace::normalize_url(WorkspaceKind::Royalti, &draft.base_url)?;
    let email = match &draft.config {
        WorkspaceConfig::Royalti(o) => o.account_email.clone().unwrap_or_default(),
        _ => String::new(),
    };
    let view = desk.royalti_sign_in(&base_url, &email, password).await?;
    let wanted = a.remote_workspace.clone().unwrap_or_default();
    let Some(pick) = view
        .workspaces
        .iter()
        .find(|w| w.id == wanted || w.name.eq_ignore_ascii_case(&wanted))
    else {
        let names: Vec<String> = view
            .workspaces
            .iter()
            .map(|w| format!("{} ({})", w.name, w.id))
            .collect();
        return Err(CliError::usage(format!(
            "{wanted:?} is not a workspace of {email}; it has: {}",
            names.join(", ")
        )));
    };
    let added = desk
        .royalti_add(
            &view.sign_in_id,
            std::slice::from_ref(&pick.id),
            a.keep_signed_in,
        )
        .await?;
    let ws = added
        .into_iter()
        .next()
        .ok_or_else(|| CliError::usage(format!("{} was already added", pick.name)))?;
    Ok(desk.rename_workspace(&ws.id, &a.name)?)
}

async fn add(desk: &Desk, out: &Out, a: AddArgs) -> CliResult<Done> {
    let draft = draft(&a)?;
    let (kind, mode) = (draft.kind(), draft.config.auth_mode());
    let secret = read_secret(secret_label(kind, mode), a.secret_stdin)?;
    // Tested with the secret in memory; only a workspace that can invite reaches the keychain.
    let ws = if kind == WorkspaceKind::Royalti && mode == AuthMode::Default {
        add_royalti(desk, &a, &draft, secret).await?
    } else {
        let secrets = SecretsIn::none().with(secret_name(kind, mode)?, secret);
        desk.add_workspace(&draft, &secrets, None).await?
    };
    let report = check_one(desk, &ws).await?;
    if out.json {
        out.json(&serde_json::json!({ "workspace": ws, "check": report }))?;
    } else {
        println!(
            "Added {} ({}). {}",
            ws.name,
            ws.kind().label(),
            report.summary
        );
        for note in &report.notes {
            println!("  {note}");
        }
    }
    Ok(Done::All)
}

async fn remove(desk: &Desk, out: &Out, name: &str) -> CliResult<Done> {
    let ws = crate::desk::workspace(desk, name)?;
    // The desk deletes the secrets first: if the keychain refuses, the workspace stays listed.
    desk.remove_workspace(&ws.id).await?;
    if out.json {
        out.json(&serde_json::json!({ "removed": ws }))?;
    } else {
        println!("Removed {} and its keys from the keychain.", ws.name);
    }
    Ok(Done::All)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn add_args(args: &[&str]) -> AddArgs {
        let argv = ["invite-desk-cli", "workspaces", "add"]
            .iter()
            .chain(args)
            .copied();
        match Cli::parse_from(argv).command {
            Command::Workspaces(WorkspacesArgs {
                action: Some(WorkspacesAction::Add(a)),
                ..
            }) => a,
            other => panic!("{other:?}"),
        }
    }

    /// Each --kind builds its own options only; a flag of another kind is a usage error, not
    /// an option silently stored.
    #[test]
    fn each_kind_gets_its_own_options_from_the_flags() {
        let d = draft(&add_args(&[
            "--kind",
            "netlify",
            "--name",
            "Site",
            "--url",
            "https://site.netlify.app",
            "--email",
            " me@site.com ",
            "--keep-signed-in",
            "--concurrency",
            "2",
        ]))
        .unwrap();
        let WorkspaceConfig::Netlify(o) = &d.config else {
            panic!("{d:?}")
        };
        assert_eq!(o.account_email.as_deref(), Some(" me@site.com "));
        assert!(o.keep_signed_in);
        assert_eq!(o.sending.concurrency, Some(2));

        let d = draft(&add_args(&[
            "--kind",
            "gotrue",
            "--name",
            "G",
            "--url",
            "https://a.io",
            "--operator-token",
        ]))
        .unwrap();
        assert_eq!(d.config.auth_mode(), AuthMode::OperatorToken);
        let d = draft(&add_args(&[
            "--kind",
            "royalti",
            "--name",
            "R",
            "--api-key",
        ]))
        .unwrap();
        assert!(
            matches!(&d.config, WorkspaceConfig::Royalti(o) if o.auth_mode == RoyaltiSignIn::ApiKey)
        );

        for bad in [
            &["--kind", "supabase", "--name", "S", "--email", "a@b.co"][..],
            &["--kind", "gotrue", "--name", "G", "--keep-signed-in"][..],
            &[
                "--kind",
                "royalti",
                "--name",
                "R",
                "--api-key",
                "--email",
                "a@b.co",
            ][..],
            &["--kind", "supabase", "--name", "S", "--api-key"][..],
        ] {
            assert!(draft(&add_args(bad)).is_err(), "{bad:?}");
        }
    }
}
