//! A parse result stays with the desk: a front end gets the counts and the first rows, fetches
//! more rows when it shows them, and sends "invite the valid ones of parse N". A 100,000-line
//! paste never crosses to the window and back entry by entry.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::{lock, BatchStatus, Desk, ParsedView};
use crate::error::{Error, Result};
use crate::model::InviteRequest;
use crate::parse::{Entry, EntryStatus, ParseCounts, ParseResult};

/// Rows sent with a parse result when the front end does not say how many.
pub const FIRST_ROWS: usize = 400;
/// Most rows one request may ask for.
pub const MAX_ROWS: usize = 2_000;
/// Parse results kept (a window only ever uses its latest; a few cover a paste racing a file).
const KEPT: usize = 4;

/// What a front end gets for a paste or a file.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParsedPage {
    /// Names this result for [`Desk::parsed_entries`] and [`Desk::enqueue_parsed`].
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

/// The options chosen for a batch (everything but the addresses).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InviteOptions {
    /// A message for the email, where the back end takes one.
    #[serde(default)]
    pub message: Option<String>,
    /// Where the invitee lands after accepting.
    #[serde(default)]
    pub redirect_url: Option<String>,
    /// False: make a link to copy instead of sending an email.
    #[serde(default = "yes")]
    pub send_email: bool,
}

impl Default for InviteOptions {
    fn default() -> Self {
        Self {
            message: None,
            redirect_url: None,
            send_email: true,
        }
    }
}

fn yes() -> bool {
    true
}

/// The latest parse results, newest last.
#[derive(Debug, Default)]
pub(crate) struct Parses {
    kept: Mutex<Vec<(u64, ParseResult)>>,
    next: Mutex<u64>,
}

impl Parses {
    /// Keeps `view`'s result and answers with its first `limit` rows.
    fn keep(&self, view: ParsedView, limit: Option<usize>, with_lines: bool) -> Result<ParsedPage> {
        let limit = limit.unwrap_or(FIRST_ROWS).min(MAX_ROWS);
        let id = {
            let mut n = lock(&self.next)?;
            *n += 1;
            *n
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
        let mut kept = lock(&self.kept)?;
        kept.push((id, result));
        let extra = kept.len().saturating_sub(KEPT);
        kept.drain(..extra);
        Ok(page)
    }

    fn with<T>(&self, id: u64, f: impl FnOnce(&ParseResult) -> T) -> Result<T> {
        let kept = lock(&self.kept)?;
        kept.iter()
            .find(|(k, _)| *k == id)
            .map(|(_, r)| f(r))
            .ok_or_else(|| {
                Error::invalid_input("Addresses", "the list changed; check it and try again")
            })
    }
}

impl Desk {
    /// Parses a pasted list like [`Desk::parse_text`], keeps the result, and answers with the
    /// counts and the first `limit` rows.
    pub fn parse_text_kept(
        &self,
        ws_id: Option<&str>,
        text: &str,
        limit: Option<usize>,
    ) -> Result<ParsedPage> {
        let view = self.parse_text(ws_id, text)?;
        self.inner.parses.keep(view, limit, false)
    }

    /// Reads a CSV or TXT file like [`Desk::parse_csv`], keeps the result, and answers like
    /// [`Desk::parse_text_kept`] plus the entries as paste-box lines.
    pub fn parse_csv_kept(
        &self,
        ws_id: Option<&str>,
        bytes: &[u8],
        limit: Option<usize>,
    ) -> Result<ParsedPage> {
        let view = self.parse_csv(ws_id, bytes)?;
        self.inner.parses.keep(view, limit, true)
    }

    /// Entries `offset..offset + limit` of parse `parse_id` (at most [`MAX_ROWS`]).
    pub fn parsed_entries(&self, parse_id: u64, offset: usize, limit: usize) -> Result<Vec<Entry>> {
        self.inner.parses.with(parse_id, |r| {
            r.entries
                .iter()
                .skip(offset)
                .take(limit.min(MAX_ROWS))
                .cloned()
                .collect()
        })
    }

    /// Invites every valid address of parse `parse_id` with `options`.
    pub fn enqueue_parsed(
        &self,
        workspace_id: &str,
        parse_id: u64,
        options: &InviteOptions,
    ) -> Result<BatchStatus> {
        let requests: Vec<InviteRequest> = self.inner.parses.with(parse_id, |r| {
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
        self.enqueue(workspace_id, &requests)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn view(text: &str) -> ParsedView {
        let result = crate::parse::parse_recipients(text);
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
        let page = parses.keep(view(&text), None, false).unwrap();
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
        let first = parses
            .keep(view("a@example.com"), None, false)
            .unwrap()
            .parse_id;
        for _ in 0..KEPT {
            parses.keep(view("b@example.com"), None, false).unwrap();
        }
        assert_eq!(
            parses.with(first, |_| ()).unwrap_err().kind(),
            "invalid_input"
        );
    }
}
