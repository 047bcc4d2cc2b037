//! `invitations`, `resend` and `cancel`: a workspace's invitations, read from its server.

use invite_core::filter::{filter_invites, InviteFilter};
use invite_core::model::{Invite, InviteRef, InviteStatus, ListQuery};
use invite_core::outbox::escape_cell;
use serde::Serialize;

use invite_core::desk::Desk;

use crate::cli::{AddressesArgs, InvitationsArgs};
use crate::error::{CliError, CliResult};
use crate::output::{table, Done, Out};

fn day(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// Runs `invitations`.
pub async fn list(desk: &Desk, out: &Out, args: InvitationsArgs) -> CliResult<Done> {
    let ws = crate::desk::workspace(desk, &args.workspace)?;
    let all = desk
        .provider(&ws.id)?
        .list_all(&ListQuery::default())
        .await?;
    let page = filter_invites(
        &all,
        &InviteFilter {
            status: args.status.map(InviteStatus::from),
            search: args.search.unwrap_or_default(),
            limit: usize::MAX,
            ..Default::default()
        },
    );
    if out.json {
        out.json(&serde_json::json!({
            "workspace": ws.name,
            "counts": page.counts,
            "invitations": page.rows,
        }))?;
    } else if args.csv {
        let mut w = csv::Writer::from_writer(std::io::stdout().lock());
        let header = [
            "email",
            "status",
            "name",
            "invited_at",
            "expires_at",
            "accepted_at",
        ];
        let write_err = |e: csv::Error| CliError::file("standard output", e);
        w.write_record(header).map_err(write_err)?;
        let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
            t.map(|t| t.to_rfc3339()).unwrap_or_default()
        };
        for i in &page.rows {
            let cells = [
                i.email.clone(),
                i.status.as_str().to_string(),
                i.name.clone().unwrap_or_default(),
                time(i.invited_at),
                time(i.expires_at),
                time(i.accepted_at),
            ];
            w.write_record(cells.iter().map(|c| escape_cell(c)))
                .map_err(write_err)?;
        }
        w.flush()
            .map_err(|e| CliError::file("standard output", e))?;
    } else if page.rows.is_empty() {
        println!("No invitations match.");
    } else {
        let rows: Vec<Vec<String>> = page
            .rows
            .iter()
            .map(|i| {
                vec![
                    i.email.clone(),
                    i.status.as_str().to_string(),
                    day(i.invited_at),
                    match i.status {
                        InviteStatus::Accepted => day(i.accepted_at),
                        _ => day(i.expires_at),
                    },
                ]
            })
            .collect();
        println!(
            "{}",
            table(&["EMAIL", "STATUS", "INVITED", "EXPIRES/ACCEPTED"], &rows)
        );
        let c = page.counts;
        println!(
            "{} shown. In all: {} pending, {} accepted, {} expired, {} cancelled.",
            page.rows.len(),
            c.pending,
            c.accepted,
            c.expired,
            c.cancelled
        );
    }
    Ok(Done::All)
}

/// Resend or cancel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send again.
    Resend,
    /// Cancel.
    Cancel,
}

/// What became of one address.
#[derive(Debug, Serialize)]
struct Acted {
    email: String,
    ok: bool,
    error: Option<serde_json::Value>,
}

/// The invitation of `email` in `all`: an open one first.
fn find<'a>(all: &'a [Invite], email: &str) -> Option<&'a Invite> {
    let mut hits: Vec<&Invite> = all
        .iter()
        .filter(|i| i.email.eq_ignore_ascii_case(email))
        .collect();
    hits.sort_by_key(|i| !i.status.is_open());
    hits.into_iter().next()
}

/// Runs `resend` or `cancel` for each address; each one succeeds or fails on its own.
pub async fn act(desk: &Desk, out: &Out, args: AddressesArgs, action: Action) -> CliResult<Done> {
    let ws = crate::desk::workspace(desk, &args.workspace)?;
    let provider = desk.provider(&ws.id)?;
    let caps = provider.capabilities();
    let (can, what, verb, done_word) = match action {
        Action::Resend => (caps.resend, "Resending invitations", "resent", "resent"),
        Action::Cancel => (
            caps.cancel,
            "Cancelling invitations",
            "cancelled",
            "cancelled",
        ),
    };
    if !can {
        return Err(invite_core::Error::Unsupported { what: what.into() }.into());
    }
    let all = provider.list_all(&ListQuery::default()).await?;
    let mut results = Vec::new();
    for input in &args.emails {
        let outcome: CliResult<()> = async {
            let email = invite_core::parse::normalize_email(input)?.to_lowercase();
            let Some(inv) = find(&all, &email) else {
                return Err(CliError::usage(format!(
                    "{email} has no invitation in {}",
                    ws.name
                )));
            };
            if !inv.status.is_open() {
                // As in the window: only invitations not yet accepted can be resent or cancelled.
                return Err(invite_core::Error::NotPending {
                    reason: format!(
                        "{email} is {}; only pending or expired invitations can be {verb}",
                        inv.status.as_str()
                    ),
                }
                .into());
            }
            let r = InviteRef {
                id: inv.id.clone(),
                email: inv.email.clone(),
            };
            match action {
                Action::Resend => {
                    desk.resend_invite(&ws.id, &r).await?;
                }
                Action::Cancel => desk.cancel_invite(&ws.id, &r).await?,
            }
            Ok(())
        }
        .await;
        match outcome {
            Ok(()) => {
                if !out.json {
                    println!("{done_word:<10} {input}");
                }
                results.push(Acted {
                    email: input.clone(),
                    ok: true,
                    error: None,
                });
            }
            Err(e) => {
                if !out.json {
                    println!(
                        "{:<10} {input}  {}",
                        "failed",
                        out.reason(&e.to_string(), e.detail())
                    );
                }
                results.push(Acted {
                    email: input.clone(),
                    ok: false,
                    error: Some(crate::error::to_json(&e, out.verbose)),
                });
            }
        }
    }
    let done = Done::when(results.iter().all(|r| r.ok));
    if out.json {
        out.json(&serde_json::json!({ "results": results, "exitCode": done.code() }))?;
    }
    Ok(done)
}
