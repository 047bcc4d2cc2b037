//! `workspaces`: list (with kind and status), add (the secret from a prompt without echo or
//! from stdin, tested before it is saved), remove (with its keychain entries).

use std::io::{BufRead, IsTerminal};
use std::sync::Arc;

use invite_core::model::{ConnectionReport, WorkspaceKind};
use invite_core::providers::netlify::netlify_sign_in;
use invite_core::providers::royalti::{royalti_connect_workspace, royalti_sign_in};
use invite_core::secret::{names, MemoryStore, SecretStore, Sensitive};
use invite_core::workspace::{normalize_url, validate_name, AuthMode, Workspace, WorkspaceOptions};
use serde::Serialize;

use crate::cli::{AddArgs, WorkspacesAction, WorkspacesArgs};
use crate::desk::Desk;
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
        Some(WorkspacesAction::Remove { workspace }) => remove(desk, out, &workspace),
    }
}

async fn list(desk: &Desk, out: &Out, check: bool) -> CliResult<Done> {
    let list = desk.settings.workspaces()?;
    let (paused, unfinished) = if list.workspaces.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        let outbox = desk.outbox()?;
        (outbox.paused_workspaces()?, outbox.unfinished()?)
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
            kind: ws.kind,
            kind_label: ws.kind.label(),
            address: ws.base_url.clone(),
            current: list.current.as_deref() == Some(ws.id.as_str()),
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

async fn check_one(desk: &Desk, ws: &Workspace) -> CliResult<ConnectionReport> {
    Ok(desk.provider(ws)?.check_connection().await?)
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

/// The workspace `add` describes, with a fresh id, validated as a saved one is.
fn draft(a: &AddArgs) -> CliResult<Workspace> {
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
    let account_email = a
        .email
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let needs_email = matches!(kind, WorkspaceKind::Netlify)
        || (kind == WorkspaceKind::Royalti && auth_mode == AuthMode::Default);
    if needs_email && account_email.is_none() {
        return Err(
            invite_core::Error::invalid_input("--email", "is required for this sign-in").into(),
        );
    }
    if kind == WorkspaceKind::Royalti
        && auth_mode == AuthMode::Default
        && a.remote_workspace.is_none()
    {
        return Err(CliError::usage(
            "Royalti with email and password: give --remote-workspace ID (or use --api-key)",
        ));
    }
    let ws = Workspace {
        id: uuid::Uuid::new_v4().to_string(),
        name: validate_name(&a.name)?,
        kind,
        base_url: normalize_url(kind, &a.url)?,
        options: WorkspaceOptions {
            auth_mode,
            account_email,
            remote_workspace_id: a.remote_workspace.clone(),
            keep_signed_in: a.keep_signed_in,
            concurrency: a.concurrency,
            emails_per_hour: a.emails_per_hour,
            ..Default::default()
        },
        demo: false,
    };
    ws.validate()?;
    Ok(ws)
}

/// Puts the secrets `ws` needs into `store`, signing in where the service needs it (as the
/// window's add-workspace form does).
async fn stage(
    desk: &Desk,
    ws: &Workspace,
    secret: &Sensitive<String>,
    store: &dyn SecretStore,
) -> CliResult<()> {
    match (ws.kind, ws.options.auth_mode) {
        (WorkspaceKind::Supabase, _) => {
            invite_core::providers::supabase::classify_supabase_key(secret.expose())?;
            store.set(&ws.id, names::SECRET_KEY, secret)?;
        }
        (WorkspaceKind::Gotrue, AuthMode::OperatorToken) => {
            store.set(&ws.id, names::OPERATOR_TOKEN, secret)?
        }
        (WorkspaceKind::Gotrue, _) => store.set(&ws.id, names::JWT_SECRET, secret)?,
        (WorkspaceKind::Royalti, AuthMode::ApiKey) => store.set(&ws.id, names::API_KEY, secret)?,
        (WorkspaceKind::Netlify, _) => {
            let email = ws.options.account_email.clone().unwrap_or_default();
            netlify_sign_in(&desk.http, &ws.base_url, &email, secret, store, &ws.id).await?;
            if ws.options.keep_signed_in {
                store.set(&ws.id, names::PASSWORD, secret)?;
            }
        }
        (WorkspaceKind::Royalti, _) => {
            let email = ws.options.account_email.clone().unwrap_or_default();
            let remote = ws.options.remote_workspace_id.clone().unwrap_or_default();
            let (_, session) = royalti_sign_in(&desk.http, &ws.base_url, &email, secret).await?;
            royalti_connect_workspace(&desk.http, &ws.base_url, &session, &remote, store, &ws.id)
                .await?;
            if ws.options.keep_signed_in {
                store.set(&ws.id, names::PASSWORD, secret)?;
            }
        }
    }
    Ok(())
}

async fn add(desk: &Desk, out: &Out, a: AddArgs) -> CliResult<Done> {
    let ws = draft(&a)?;
    let secret = read_secret(secret_label(ws.kind, ws.options.auth_mode), a.secret_stdin)?;
    // Tested with the secret in memory; only a workspace that can invite reaches the keychain.
    let staged = MemoryStore::new();
    stage(desk, &ws, &secret, &staged).await?;
    let report =
        invite_core::connect::provider_for(desk.http.clone(), &ws, Arc::new(staged.clone()))?
            .check_connection()
            .await?;
    if let Err(e) = staged.copy_to(&ws.id, &*desk.secrets, &ws.id) {
        let _ = desk.secrets.delete_all(&ws.id);
        return Err(e.into());
    }
    let saved = ws.clone();
    if let Err(e) = desk
        .settings
        .edit_workspaces(|list| Ok(list.add(saved.clone())?))
    {
        let _ = desk.secrets.delete_all(&ws.id);
        return Err(e);
    }
    if out.json {
        out.json(&serde_json::json!({ "workspace": ws, "check": report }))?;
    } else {
        println!(
            "Added {} ({}). {}",
            ws.name,
            ws.kind.label(),
            report.summary
        );
        for note in &report.notes {
            println!("  {note}");
        }
    }
    Ok(Done::All)
}

fn remove(desk: &Desk, out: &Out, name: &str) -> CliResult<Done> {
    let ws = desk.workspace(name)?;
    // Secrets first: if the keychain refuses, the workspace stays listed, so nobody is told its
    // keys were deleted when they were not.
    desk.secrets.delete_all(&ws.id)?;
    desk.settings
        .edit_workspaces(|list| Ok(list.remove(&ws.id)?))?;
    if out.json {
        out.json(&serde_json::json!({ "removed": ws }))?;
    } else {
        println!("Removed {} and its keys from the keychain.", ws.name);
    }
    Ok(Done::All)
}
