//! A parse result stays in Rust: the page gets the counts and the first rows, fetches more rows
//! when it shows them, and sends "invite the valid ones of parse N". A 100,000-line paste never
//! sends 100,000 entries to the page, nor back.

use std::sync::Mutex;

use invite_core::model::InviteRequest;
use invite_core::parse::{Entry, EntryStatus, ParseCounts, ParseResult};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Runtime, State};

use crate::commands::ParsedView;
use crate::error::{CmdError, CmdResult};
use crate::send::{BatchStatus, SendState};
use crate::state::AppState;

/// Rows sent with a parse result when the page does not say how many.
pub const FIRST_ROWS: usize = 400;
/// Most rows one request may ask for.
const MAX_ROWS: usize = 2_000;
/// Parse results kept (the page only ever uses its latest; a few cover a paste racing a file).
const KEPT: usize = 4;

/// What the page gets for a paste or a file.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParsedPage {
    /// Names this result for [`parsed_entries`] and [`enqueue_parsed`].
    pub parse_id: u64,
    /// The first entries, in order.
    pub entries: Vec<Entry>,
    /// How many entries there are in all.
    pub total: usize,
    /// How many of each.
    pub counts: ParseCounts,
    /// True when the workspace's invitation list was known and used to mark addresses.
    pub checked_against_list: bool,
    /// For a file: its entries as paste-box lines (see [`ParseResult::to_lines`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<String>,
}

/// The latest parse results, newest last.
#[derive(Debug, Default)]
pub struct Parses {
    kept: Mutex<Vec<(u64, ParseResult)>>,
    next: Mutex<u64>,
}

impl Parses {
    /// Keeps `view`'s result and answers with its first `limit` rows.
    pub fn keep(&self, view: ParsedView, limit: Option<usize>, with_lines: bool) -> ParsedPage {
        let limit = limit.unwrap_or(FIRST_ROWS).min(MAX_ROWS);
        let id = match self.next.lock() {
            Ok(mut n) => {
                *n += 1;
                *n
            }
            Err(_) => 0,
        };
        let result = view.result;
        let page = ParsedPage {
            parse_id: id,
            entries: result.entries.iter().take(limit).cloned().collect(),
            total: result.entries.len(),
            counts: view.counts,
            checked_against_list: view.checked_against_list,
            lines: with_lines.then(|| result.to_lines()),
        };
        if let Ok(mut kept) = self.kept.lock() {
            kept.push((id, result));
            let extra = kept.len().saturating_sub(KEPT);
            kept.drain(..extra);
        }
        page
    }

    fn with<T>(&self, id: u64, f: impl FnOnce(&ParseResult) -> T) -> CmdResult<T> {
        let kept = self.kept.lock().map_err(CmdError::internal)?;
        kept.iter()
            .find(|(k, _)| *k == id)
            .map(|(_, r)| f(r))
            .ok_or_else(|| {
                CmdError::invalid("Addresses", "the list changed; check it and try again")
            })
    }
}

/// Entries `offset..offset + limit` of parse `parse_id`.
#[tauri::command]
pub fn parsed_entries(
    parses: State<'_, Parses>,
    parse_id: u64,
    offset: usize,
    limit: usize,
) -> CmdResult<Vec<Entry>> {
    parses.with(parse_id, |r| {
        r.entries
            .iter()
            .skip(offset)
            .take(limit.min(MAX_ROWS))
            .cloned()
            .collect()
    })
}

/// The options the page chose for a batch (everything but the addresses).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InviteOptions {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub redirect_url: Option<String>,
    #[serde(default = "yes")]
    pub send_email: bool,
}

fn yes() -> bool {
    true
}

/// Invites every valid address of parse `parse_id` with `options`.
#[tauri::command]
pub fn enqueue_parsed<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    send: State<'_, SendState>,
    parses: State<'_, Parses>,
    workspace_id: String,
    parse_id: u64,
    options: InviteOptions,
) -> CmdResult<BatchStatus> {
    let requests: Vec<InviteRequest> = parses.with(parse_id, |r| {
        r.entries
            .iter()
            .filter(|e| e.status == EntryStatus::Valid)
            .filter_map(|e| e.email.clone())
            .map(|email| InviteRequest {
                email,
                message: options.message.clone(),
                redirect_url: options.redirect_url.clone(),
                send_email: options.send_email,
            })
            .collect()
    })?;
    crate::send::enqueue_invites(app, state, send, workspace_id, requests)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn view(text: &str) -> ParsedView {
        let result = invite_core::parse::parse_recipients(text);
        let counts = result.counts();
        ParsedView {
            result,
            counts,
            checked_against_list: false,
        }
    }

    #[test]
    fn a_big_paste_sends_counts_and_the_first_rows_only() {
        let text: String = (0..100_000)
            .map(|i| format!("person{i}@example.com\n"))
            .collect();
        let parses = Parses::default();
        let page = parses.keep(view(&text), None, false);
        assert_eq!(page.total, 100_000);
        assert_eq!(page.counts.valid, 100_000);
        assert_eq!(page.entries.len(), FIRST_ROWS);
        let json = serde_json::to_string(&page).unwrap();
        assert!(json.len() < 100_000, "{} bytes", json.len());
        let more = parses
            .with(page.parse_id, |r| r.entries[99_999].email.clone())
            .unwrap();
        assert_eq!(more.as_deref(), Some("person99999@example.com"));
    }

    #[test]
    fn only_the_latest_few_are_kept() {
        let parses = Parses::default();
        let first = parses.keep(view("a@example.com"), None, false).parse_id;
        for _ in 0..KEPT {
            parses.keep(view("b@example.com"), None, false);
        }
        assert_eq!(
            parses.with(first, |_| ()).unwrap_err().kind,
            "invalid_input"
        );
    }
}
