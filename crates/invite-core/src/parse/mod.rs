//! Turning a pasted list or a CSV file into addresses.
//!
//! Owners paste whatever they have: a column from a spreadsheet, the "To" line of an email,
//! `Name <address>` lists from Outlook or Gmail, mailto: links. [`parse_recipients`] reads all of
//! these in one pass over the text (no regular expressions, no backtracking), and reports every
//! piece it found: a valid address, an invalid one with the reason in plain words, or a
//! duplicate pointing at the first occurrence. [`parse_csv`] does the same for a file.
//!
//! Nothing here panics, whatever the input (a property test feeds it arbitrary text and bytes).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

mod address;
mod dedupe;
mod file;
mod tokenize;

use address::*;
use dedupe::*;
use tokenize::*;

pub use file::{decode, parse_csv};

#[cfg(test)]
mod tests;

/// Longest address accepted (the SMTP path limit).
pub const MAX_EMAIL_LEN: usize = 254;

/// What became of one piece of the pasted text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum EntryStatus {
    /// A usable address, not seen before in this paste.
    Valid,
    /// Not a usable address.
    Invalid {
        /// Why, in plain words ("missing @", "the domain has no dot"…).
        reason: String,
    },
    /// The same address (ignoring case) appeared earlier; `of` is that entry's index.
    Duplicate {
        /// Index in [`ParseResult::entries`] of the first occurrence.
        of: usize,
    },
    /// Already a member of this workspace (set by [`crate::filter::mark_known`]).
    AlreadyMember,
    /// Already has an open invitation in this workspace (set by [`crate::filter::mark_known`]).
    AlreadyInvited,
}

/// One piece of the pasted text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// The text as pasted (trimmed), e.g. `Jane Doe <jane@example.com>`.
    pub input: String,
    /// The normalised address: trimmed, domain lower-cased and in punycode, local part as
    /// typed. `None` when the piece is not an address.
    pub email: Option<String>,
    /// The display name, when one came with the address.
    pub name: Option<String>,
    /// Valid, invalid, duplicate…
    pub status: EntryStatus,
}

/// Everything found in a paste or file, in the order it appeared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ParseResult {
    /// The pieces, in order.
    pub entries: Vec<Entry>,
}

/// How many entries have each status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ParseCounts {
    /// Addresses that will be invited.
    pub valid: usize,
    /// Pieces that are not addresses.
    pub invalid: usize,
    /// Repeats of an earlier address.
    pub duplicate: usize,
    /// Already members.
    pub already_member: usize,
    /// Already invited.
    pub already_invited: usize,
}

impl ParseResult {
    /// The addresses to invite: the valid entries' normalised addresses, in order.
    pub fn valid_emails(&self) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|e| e.status == EntryStatus::Valid)
            .filter_map(|e| e.email.as_deref())
            .collect()
    }

    /// The entries as the lines of a paste box that [`parse_recipients`] reads back to the same
    /// addresses and names: `Name <address>` (the name quoted when it holds a comma, a quote or
    /// an angle bracket) or the address alone for usable entries, the text as given for entries
    /// that are not addresses. Repeats and addresses already invited or members are left out.
    /// Used to show an imported file in the paste box.
    pub fn to_lines(&self) -> String {
        let mut out = String::new();
        for e in &self.entries {
            let line = match (&e.status, &e.email) {
                (EntryStatus::Valid, Some(email)) => match &e.name {
                    Some(name) if name.contains([',', ';', '"', '<', '>', '(', ')', ':']) => {
                        format!("\"{}\" <{email}>", name.replace('"', "'"))
                    }
                    Some(name) => format!("{name} <{email}>"),
                    None => email.clone(),
                },
                (EntryStatus::Invalid { .. }, _) => e.input.clone(),
                _ => continue,
            };
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&line);
        }
        out
    }

    /// How many entries have each status.
    pub fn counts(&self) -> ParseCounts {
        let mut c = ParseCounts::default();
        for e in &self.entries {
            match e.status {
                EntryStatus::Valid => c.valid += 1,
                EntryStatus::Invalid { .. } => c.invalid += 1,
                EntryStatus::Duplicate { .. } => c.duplicate += 1,
                EntryStatus::AlreadyMember => c.already_member += 1,
                EntryStatus::AlreadyInvited => c.already_invited += 1,
            }
        }
        c
    }
}

/// Checks and normalises one address (no display name): the form the rest of the app sends.
///
/// The error is [`Error::InvalidEmail`] with the plain reason.
pub fn normalize_email(input: &str) -> Result<String> {
    check_address(input.trim()).map_err(|reason| Error::InvalidEmail {
        email: input.trim().to_string(),
        reason: reason.to_string(),
    })
}

/// Reads a pasted list: one per line, or separated by commas, semicolons, spaces or tabs;
/// `Name <address>`, `"Last, First" <address>`, `address (Name)`, mailto: links, and a
/// spreadsheet's name and address columns.
pub fn parse_recipients(text: &str) -> ParseResult {
    let mut b = Builder::with_capacity(text);
    parse_into(text, &mut b);
    b.finish()
}
