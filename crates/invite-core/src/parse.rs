//! Turning a pasted list or a CSV file into addresses.
//!
//! Owners paste whatever they have: a column from a spreadsheet, the "To" line of an email,
//! `Name <address>` lists from Outlook or Gmail, mailto: links. [`parse_recipients`] reads all of
//! these in one pass over the text (no regular expressions, no backtracking), and reports every
//! piece it found: a valid address, an invalid one with the reason in plain words, or a
//! duplicate pointing at the first occurrence. [`parse_csv`] does the same for a file.
//!
//! Nothing here panics, whatever the input (a property test feeds it arbitrary text and bytes).

use std::collections::hash_map::Entry as Entry_;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use email_address::EmailAddress;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

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

/// Reads a CSV or TXT file: UTF-8 (BOM or not), UTF-16 or Windows-1252 (see [`decode`]), with `,`, `;` or tab
/// between cells (sniffed from the first line, or Excel's `sep=` line).
///
/// The address column is the one named email / e-mail / mail / "email address" (any case);
/// without such a header, the column holding most of the addresses. Names come from a name
/// column, or first + last name columns. A file whose addresses are not in one column (a plain
/// list such as `a@x.com, b@y.com`) is read like a paste.
pub fn parse_csv(bytes: &[u8]) -> ParseResult {
    let text = decode(bytes);
    let mut text = text.as_str();
    let mut delimiter = None;
    if let Some(rest) = strip_prefix_ignore_case(text, "sep=") {
        let mut chars = rest.chars();
        if let Some(c) = chars
            .next()
            .filter(|c| c.is_ascii() && *c != '\n' && *c != '\r')
        {
            delimiter = Some(c as u8);
            text = chars.as_str().trim_start_matches(['\r', '\n']);
        }
    }
    let delimiter = delimiter.unwrap_or_else(|| sniff_delimiter(text));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let rows: Vec<Vec<String>> = reader
        .records()
        .filter_map(|r| r.ok())
        .map(|r| r.iter().map(str::to_string).collect::<Vec<_>>())
        .filter(|r| r.iter().any(|c| !c.is_empty()))
        .collect();
    let Some(first) = rows.first() else {
        return ParseResult::default();
    };

    let header = Header::read(first);
    let (email_col, data) = match header.email {
        Some(col) => (col, &rows[1..]),
        None => {
            let data = if header.is_header {
                &rows[1..]
            } else {
                &rows[..]
            };
            match address_column(data) {
                Some(col) => (col, data),
                // Not a table of one address per row: read the text like a paste.
                None => return parse_recipients(text),
            }
        }
    };

    let mut b = Builder::with_capacity(text);
    for row in data {
        let cell = row.get(email_col).map(String::as_str).unwrap_or("");
        let name = header.name_of(row);
        if cell.is_empty() {
            let text = row
                .iter()
                .filter(|c| !c.is_empty())
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ");
            b.push_invalid(text, name, "no email address in this row");
            continue;
        }
        let from = b.entries.len();
        parse_into(cell, &mut b);
        if let Some(name) = name {
            for e in &mut b.entries[from..] {
                if e.name.is_none() {
                    e.name = Some(name.clone());
                }
            }
        }
    }
    b.finish()
}

// ----------------------------------------------------------------------------------------------
// Building the result

#[derive(Default)]
struct Builder {
    entries: Vec<Entry>,
    seen: Seen,
}

/// Addresses seen so far, ignoring case, without a lower-cased copy of each: a hash of the
/// case-folded address points at its first entry; the rare different address with the same
/// hash goes to `overflow`, keyed by the folded text.
#[derive(Default)]
struct Seen {
    first: HashMap<u64, usize, BuildHasherDefault<PreHashed>>,
    overflow: HashMap<String, usize>,
}

/// The keys of `Seen::first` are hashes already: use them as they are.
#[derive(Default)]
struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl Seen {
    fn with_capacity(n: usize) -> Self {
        Self {
            first: HashMap::with_capacity_and_hasher(n, BuildHasherDefault::default()),
            overflow: HashMap::new(),
        }
    }

    /// The index of the first entry with this address, or `None` after recording `index` as it.
    fn first_index(&mut self, email: &str, index: usize, entries: &[Entry]) -> Option<usize> {
        match self.first.entry(fold_hash(email)) {
            Entry_::Vacant(slot) => {
                slot.insert(index);
                None
            }
            Entry_::Occupied(slot) => {
                let of = *slot.get();
                if entries[of]
                    .email
                    .as_deref()
                    .is_some_and(|e| same_ignoring_case(e, email))
                {
                    return Some(of);
                }
                // A different address with the same hash.
                let key = fold(email);
                match self.overflow.get(&key) {
                    Some(&of) => Some(of),
                    None => {
                        self.overflow.insert(key, index);
                        None
                    }
                }
            }
        }
    }
}

fn fold(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase()
    }
}

fn same_ignoring_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        fold(a) == fold(b)
    }
}

/// A hash of the lower-cased address: eight bytes per step for ASCII (all but a few
/// addresses), FNV-1a over the lower-cased characters otherwise.
fn fold_hash(s: &str) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    if s.is_ascii() {
        let mut h: u64 = s.len() as u64;
        for chunk in s.as_bytes().chunks(8) {
            let mut word = [0u8; 8];
            for (w, b) in word.iter_mut().zip(chunk) {
                *w = b.to_ascii_lowercase();
            }
            h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
        return h;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut buf = [0u8; 4];
    for c in s.chars().flat_map(char::to_lowercase) {
        for &b in c.encode_utf8(&mut buf).as_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

impl Builder {
    /// Sized from the line count up front: growing two large tables piecemeal costs more than
    /// the parsing itself.
    fn with_capacity(text: &str) -> Self {
        // About one entry per '@'; capped so a pathological paste can't reserve gigabytes.
        let guess = text.bytes().filter(|&b| b == b'@').count().min(200_000);
        Self {
            entries: Vec::with_capacity(guess),
            seen: Seen::with_capacity(guess),
        }
    }

    fn finish(self) -> ParseResult {
        ParseResult {
            entries: self.entries,
        }
    }

    fn push_invalid(&mut self, input: String, name: Option<String>, reason: &str) {
        self.entries.push(Entry {
            input,
            email: None,
            name,
            status: EntryStatus::Invalid {
                reason: reason.to_string(),
            },
        });
    }

    /// Adds one address candidate (already cleaned of brackets, quotes, mailto:…).
    fn push_address(&mut self, input: &str, candidate: &str, name: Option<String>) {
        let input = input.trim().to_string();
        match check_address(candidate) {
            Ok(email) => {
                let index = self.entries.len();
                let status = match self.seen.first_index(&email, index, &self.entries) {
                    Some(of) => EntryStatus::Duplicate { of },
                    None => EntryStatus::Valid,
                };
                self.entries.push(Entry {
                    input,
                    email: Some(email),
                    name,
                    status,
                });
            }
            Err(reason) => self.push_invalid(input, name, reason),
        }
    }
}

// ----------------------------------------------------------------------------------------------
// Tokenising one paste

/// One piece of a line, as byte ranges into the line.
#[derive(Debug, Clone, Copy)]
enum Piece {
    /// A run of ordinary characters.
    Word { start: usize, end: usize },
    /// `"…"`: `start..end` is the whole span including quotes.
    Quoted { start: usize, end: usize },
    /// `<…>`.
    Angle { start: usize, end: usize },
    /// `(…)`.
    Paren { start: usize, end: usize },
    /// `,` or `;` outside quotes and brackets.
    Sep,
}

fn is_space(c: char) -> bool {
    // U+200B (zero-width space) and U+FEFF (BOM) come along with pastes from web pages.
    c.is_whitespace() || c == '\u{200B}' || c == '\u{FEFF}'
}

fn parse_into(text: &str, b: &mut Builder) {
    // Reused across lines: one allocation each for the whole paste.
    let mut pieces = Vec::new();
    let mut run = Run::default();
    // Splitting on one byte is a memchr; a lone '\r' (old Mac line ends) is rare.
    for chunk in text.split('\n') {
        for line in chunk.split('\r') {
            if line.is_empty() {
                continue;
            }
            pieces.clear();
            tokenize(line, &mut pieces);
            read_line(line, &pieces, &mut run, b);
        }
    }
}

/// Splits a line into pieces in one pass. A quote or bracket whose closing partner is not on
/// the line is an ordinary character; after one failed search no further search is made on the
/// line, so the whole pass stays linear.
fn tokenize(line: &str, out: &mut Vec<Piece>) {
    let bytes = line.as_bytes();
    let mut no_close = [false; 3]; // '"', '>', ')'
    let mut word_start: Option<usize> = None;
    let mut i = 0;
    while i < bytes.len() {
        let (c, len) = if bytes[i] < 0x80 {
            (bytes[i] as char, 1)
        } else {
            match line[i..].chars().next() {
                Some(c) => (c, c.len_utf8()),
                None => break,
            }
        };
        let closing = match c {
            '"' => Some((0, b'"')),
            '<' => Some((1, b'>')),
            '(' => Some((2, b')')),
            _ => None,
        };
        if let Some((slot, close)) = closing {
            if !no_close[slot] {
                if let Some(end) = find_close(bytes, i + 1, close, c == '"') {
                    if let Some(s) = word_start.take() {
                        out.push(Piece::Word { start: s, end: i });
                    }
                    let span = (i, end + 1);
                    out.push(match c {
                        '"' => Piece::Quoted {
                            start: span.0,
                            end: span.1,
                        },
                        '<' => Piece::Angle {
                            start: span.0,
                            end: span.1,
                        },
                        _ => Piece::Paren {
                            start: span.0,
                            end: span.1,
                        },
                    });
                    i = end + 1;
                    continue;
                }
                no_close[slot] = true;
            }
        }
        if c == ',' || c == ';' || is_space(c) {
            if let Some(s) = word_start.take() {
                out.push(Piece::Word { start: s, end: i });
            }
            if c == ',' || c == ';' {
                out.push(Piece::Sep);
            } else if c == '\t' {
                // A tab separates spreadsheet cells: remember it as an empty word boundary.
                out.push(Piece::Word { start: i, end: i });
            }
        } else if word_start.is_none() {
            word_start = Some(i);
        }
        i += len;
    }
    if let Some(s) = word_start {
        out.push(Piece::Word {
            start: s,
            end: bytes.len(),
        });
    }
}

/// Finds the closing byte on the line; inside quotes a backslash escapes the next character.
fn find_close(bytes: &[u8], from: usize, close: u8, escapes: bool) -> Option<usize> {
    let mut j = from;
    while j < bytes.len() {
        let b = bytes[j];
        if escapes && b == b'\\' {
            j += 2;
            continue;
        }
        if b == close {
            return Some(j);
        }
        j += 1;
    }
    None
}

/// Words seen since the last address: a display name, or text that is not an address.
#[derive(Default)]
struct Run {
    start: Option<usize>,
    end: usize,
    parts: Vec<(usize, usize, bool)>, // (start, end, quoted)
    name_like: bool,
    header: bool,
    after_tab: bool,
}

impl Run {
    fn clear(&mut self) {
        self.start = None;
        self.parts.clear();
        self.name_like = true;
        self.header = true;
        self.after_tab = false;
    }

    fn push(&mut self, start: usize, end: usize, special: bool, line: &str) {
        if self.start.is_none() {
            self.start = Some(start);
        }
        self.end = end;
        let text = &line[start..end];
        if !special {
            self.name_like &= is_name_like(text);
            self.header &= is_header_word(text);
        } else {
            self.header = false;
        }
        self.parts.push((start, end, special));
    }

    fn is_empty(&self) -> bool {
        self.start.is_none()
    }

    fn name(&self, line: &str) -> Option<String> {
        let mut name = String::new();
        for &(s, e, special) in &self.parts {
            let text = &line[s..e];
            // Quotes go; a parenthesised company name stays as written.
            let quoted = special && text.starts_with('"') && text.len() >= 2;
            let text = if quoted {
                &text[1..text.len() - 1]
            } else {
                text
            };
            if !name.is_empty() {
                name.push(' ');
            }
            if quoted && text.contains('\\') {
                let mut escaped = false;
                for c in text.chars() {
                    if !escaped && c == '\\' {
                        escaped = true;
                        continue;
                    }
                    escaped = false;
                    name.push(c);
                }
            } else {
                name.push_str(text);
            }
        }
        let clean = name.len()
            == name
                .trim_matches(|c: char| !c.is_alphanumeric() && c != ')' && c != '.')
                .len()
            && !name.contains("  ")
            && !name.chars().any(|c| c != ' ' && is_space(c));
        // Most names need no cleaning: keep the string instead of copying it.
        if clean && !name.contains('@') && name.chars().any(char::is_alphanumeric) {
            Some(name)
        } else {
            clean_name(&name)
        }
    }
}

fn clean_name(name: &str) -> Option<String> {
    let trimmed = name.trim_matches(|c: char| {
        is_space(c) || matches!(c, '"' | '\'' | '“' | '”' | '‘' | '’' | ',' | ';' | ':')
    });
    if trimmed.contains('@') || !trimmed.chars().any(char::is_alphanumeric) {
        return None;
    }
    let mut out = String::with_capacity(trimmed.len());
    for word in trimmed.split(is_space).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    Some(out)
}

/// A word that reads as part of a person's name ("Jane", "O'Brien", "J.") rather than a
/// mistyped address ("jane.example.com").
fn is_name_like(word: &str) -> bool {
    let trimmed = word
        .trim_matches(['"', '\'', '“', '”', '‘', '’'])
        .trim_end_matches('.');
    !trimmed.is_empty()
        && !trimmed.contains('.')
        && trimmed
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, '\'' | '’' | '-'))
}

/// Words of a header row or label ("Email", "Name", "To:"), never a name or an address.
fn is_header_word(word: &str) -> bool {
    const WORDS: [&str; 23] = [
        "email",
        "e-mail",
        "mail",
        "emails",
        "address",
        "addresses",
        "name",
        "names",
        "first",
        "last",
        "full",
        "display",
        "given",
        "family",
        "surname",
        "firstname",
        "lastname",
        "fullname",
        "to",
        "cc",
        "bcc",
        "from",
        "recipients",
    ];
    let w = word.trim_end_matches(':');
    WORDS.iter().any(|h| h.eq_ignore_ascii_case(w))
}

/// A label such as "To:" or "Attendees:" in front of a list.
fn is_label(word: &str) -> bool {
    word.len() > 1
        && word.ends_with(':')
        && !word.contains('@')
        && word[..word.len() - 1]
            .chars()
            .all(|c| c.is_alphabetic() || c == '-')
        && !word.eq_ignore_ascii_case("mailto:")
}

fn read_line(line: &str, pieces: &[Piece], run: &mut Run, b: &mut Builder) {
    run.clear();
    // Entries made from this segment (for a trailing name) and a name-only segment carried
    // over a comma ("Doe, Jane <jane@x.com>").
    let mut segment_first_entry: Option<usize> = None;
    let mut last_entry_named_by_run = false;
    let mut carry: Option<(usize, usize, Option<String>)> = None;
    let mut pending_tab = false;

    let mut i = 0;
    while i <= pieces.len() {
        let piece = pieces.get(i).copied();
        i += 1;
        match piece {
            Some(Piece::Word { start, end }) if start == end => {
                // A tab: the next words belong to another cell.
                pending_tab = true;
            }
            Some(Piece::Word { start, end }) => {
                let word = &line[start..end];
                if is_label(word) {
                    pending_tab = false;
                    continue;
                }
                if looks_like_address(word) {
                    let candidate = clean_candidate(word);
                    let name = take_name(run, line, b, &mut carry, false);
                    last_entry_named_by_run = name.is_some();
                    // A name that came with the address is part of what was pasted for it.
                    let input_start = if name.is_some() {
                        run.start.unwrap_or(start).min(start)
                    } else {
                        start
                    };
                    b.push_address(&line[input_start..end], candidate, name);
                    segment_first_entry.get_or_insert(b.entries.len() - 1);
                    run.clear();
                } else {
                    if run.is_empty() {
                        run.after_tab = pending_tab;
                    }
                    run.push(start, end, false, line);
                }
                pending_tab = false;
            }
            Some(Piece::Quoted { start, end }) => {
                let inner = &line[start + 1..end - 1];
                // A quoted address with nothing after it ("jane@x.com" in stray quotes) is an
                // address; otherwise quotes hold a display name.
                let next_is_angle = pieces[i..]
                    .iter()
                    .find(|p| !matches!(p, Piece::Word { start, end } if start == end))
                    .is_some_and(|p| matches!(p, Piece::Angle { .. }));
                if inner.contains('@') && !next_is_angle && run.is_empty() {
                    let candidate = clean_candidate(inner);
                    b.push_address(&line[start..end], candidate, None);
                    segment_first_entry.get_or_insert(b.entries.len() - 1);
                    last_entry_named_by_run = false;
                } else {
                    if run.is_empty() {
                        run.after_tab = pending_tab;
                    }
                    run.push(start, end, true, line);
                }
                pending_tab = false;
            }
            Some(Piece::Paren { start, end }) => {
                // `jane@x.com (Jane Doe)`: an old-style comment naming the address before it.
                let text = &line[start + 1..end - 1];
                if run.is_empty() && !text.contains('@') {
                    if let Some(idx) = segment_first_entry.map(|_| b.entries.len() - 1) {
                        if b.entries[idx].name.is_none() && b.entries[idx].email.is_some() {
                            b.entries[idx].name = clean_name(text);
                            extend_input(&mut b.entries[idx], &line[start..end]);
                            pending_tab = false;
                            continue;
                        }
                    }
                }
                if text.contains('@') && run.is_empty() {
                    b.push_address(&line[start..end], clean_candidate(text), None);
                    segment_first_entry.get_or_insert(b.entries.len() - 1);
                } else {
                    if run.is_empty() {
                        run.after_tab = pending_tab;
                    }
                    run.push(start, end, true, line);
                }
                pending_tab = false;
            }
            Some(Piece::Angle { start, end }) => {
                let inner = &line[start + 1..end - 1];
                let name = take_name(run, line, b, &mut carry, true);
                let input_start = run.start.unwrap_or(start);
                let input_start = carry_start(&mut carry).unwrap_or(input_start);
                b.push_address(&line[input_start..end], clean_candidate(inner), name);
                segment_first_entry.get_or_insert(b.entries.len() - 1);
                last_entry_named_by_run = true;
                run.clear();
                pending_tab = false;
            }
            Some(Piece::Sep) | None => {
                let comma_follows = matches!(piece, Some(Piece::Sep));
                // What is left of the segment: a trailing name, a header, or not an address.
                if let Some((cs, ce, _)) = carry.take() {
                    b.push_invalid(line[cs..ce].trim().to_string(), None, "missing @");
                }
                if !run.is_empty() {
                    if run.header {
                        // "Email", "Name", "To:": labels, not people.
                    } else if segment_first_entry.is_some()
                        && run.after_tab
                        && run.name_like
                        && !last_entry_named_by_run
                    {
                        // "jane@x.com<TAB>Jane Doe" from a spreadsheet: the name column.
                        let idx = b.entries.len() - 1;
                        if b.entries[idx].name.is_none() {
                            b.entries[idx].name = run.name(line);
                            let text = &line[run.start.unwrap_or(0)..run.end];
                            extend_input(&mut b.entries[idx], text);
                        }
                    } else if segment_first_entry.is_none() && run.name_like && comma_follows {
                        carry = run.start.map(|s| (s, run.end, run.name(line)));
                    } else if let Some(s) = run.start {
                        push_leftover(b, line[s..run.end].trim());
                    }
                }
                run.clear();
                segment_first_entry = None;
                last_entry_named_by_run = false;
                pending_tab = false;
            }
        }
    }
    if let Some((cs, ce, _)) = carry.take() {
        b.push_invalid(line[cs..ce].trim().to_string(), None, "missing @");
    }
}

/// A word that is meant as an address, even a broken one (`mailto:jane%40x.com`).
fn looks_like_address(word: &str) -> bool {
    word.contains('@')
        || word.contains("%40")
        || strip_prefix_ignore_case(word.trim_start_matches(['<', '(', '"', '\'']), "mailto:")
            .is_some()
}

fn carry_start(carry: &mut Option<(usize, usize, Option<String>)>) -> Option<usize> {
    carry.take().map(|(s, _, _)| s)
}

fn extend_input(entry: &mut Entry, more: &str) {
    entry.input.push(' ');
    entry.input.push_str(more.trim());
}

/// The name for the address that follows the current run, if the run reads as one. A run that
/// is not a name becomes its own invalid entry (before the address, keeping paste order).
fn take_name(
    run: &mut Run,
    line: &str,
    b: &mut Builder,
    carry: &mut Option<(usize, usize, Option<String>)>,
    angle: bool,
) -> Option<String> {
    let carried = if angle {
        carry.as_ref().and_then(|(_, _, n)| n.clone())
    } else {
        if let Some((cs, ce, _)) = carry.take() {
            b.push_invalid(line[cs..ce].trim().to_string(), None, "missing @");
        }
        None
    };
    if run.is_empty() {
        return carried;
    }
    if run.header {
        run.clear();
        return carried;
    }
    // Before `<address>` any text is the display name (Outlook: `Jane Doe (Acme) <…>`); before
    // a bare address only words that read as a name are.
    if angle || run.name_like {
        let name = run.name(line);
        return match (carried, name) {
            (Some(c), Some(n)) => Some(format!("{c}, {n}")),
            (c, n) => n.or(c),
        };
    }
    if let Some(s) = run.start {
        push_leftover(b, line[s..run.end].trim());
    }
    run.clear();
    carried
}

/// Text that is neither an address nor a name becomes an invalid entry, except list markers
/// and punctuation ("-", "•", "1.", "!") that hold no letter.
fn push_leftover(b: &mut Builder, text: &str) {
    if !text.chars().any(char::is_alphabetic) {
        return;
    }
    let reason = check_address(&clean_candidate(text).replace(is_space, " "))
        .err()
        .unwrap_or("missing @");
    b.push_invalid(text.to_string(), None, reason);
}

/// Strips what surrounds an address in pastes: `mailto:` (and its `?query`), brackets, quotes
/// and trailing punctuation.
fn clean_candidate(text: &str) -> &str {
    const LEAD: &[char] = &['"', '\'', '(', '[', '{', '<', '“', '‘', '«', '`'];
    const TRAIL: &[char] = &[
        '"', '\'', ')', ']', '}', '>', '.', ',', ';', ':', '!', '?', '”', '’', '»', '`',
    ];
    let mut s = text.trim_matches(is_space).trim_start_matches(LEAD);
    if let Some(rest) = strip_prefix_ignore_case(s, "mailto:") {
        s = rest.trim_start_matches(LEAD);
    }
    // Nothing after the domain can be part of the address: a `?query` or `#fragment` goes.
    if let Some(at) = s.rfind('@') {
        if let Some(q) = s[at..].find(['?', '#']) {
            s = &s[..at + q];
        }
    }
    s.trim_end_matches(TRAIL).trim_matches(is_space)
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

// ----------------------------------------------------------------------------------------------
// One address

/// Validates and normalises one bare address; the error is the reason in plain words.
fn check_address(s: &str) -> std::result::Result<String, &'static str> {
    if s.is_empty() {
        return Err("empty");
    }
    let s = decode_percent(s);
    let s = s.as_ref();
    if s.chars().any(is_space) {
        return Err(if s.contains('@') {
            "spaces are not allowed"
        } else {
            "missing @"
        });
    }
    let Some((local, domain)) = s.rsplit_once('@') else {
        return Err("missing @");
    };
    if local.contains('@') && !(local.starts_with('"') && local.ends_with('"')) {
        return Err("more than one @");
    }
    if local.is_empty() {
        return Err("nothing before the @");
    }
    if domain.is_empty() {
        return Err("nothing after the @");
    }
    if local.len() > 64 {
        return Err("the part before the @ is too long (at most 64 characters)");
    }
    if local.starts_with('.') || local.ends_with('.') || has_double_dot(local) {
        return Err("the part before the @ has a misplaced dot");
    }
    if !domain.contains('.') {
        return Err("the domain has no dot");
    }
    let mut email = String::with_capacity(local.len() + 1 + domain.len());
    email.push_str(local);
    email.push('@');
    push_ascii_domain(domain, &mut email)?;
    if email.len() > MAX_EMAIL_LEN {
        return Err("too long (an address has at most 254 characters)");
    }
    // The crate's part checks allocate nothing (a full parse copies the address).
    if !EmailAddress::is_valid_local_part(local) {
        return Err(if local.contains('"') {
            "has an unmatched quote"
        } else {
            "contains a character that is not allowed in an address"
        });
    }
    if !EmailAddress::is_valid_domain(&email[local.len() + 1..]) {
        return Err("the domain is not valid");
    }
    Ok(email)
}

/// `a..b`; a byte loop, as `str::contains` with a pattern costs more than the whole check here.
fn has_double_dot(s: &str) -> bool {
    s.as_bytes()
        .windows(2)
        .any(|w| w[0] == b'.' && w[1] == b'.')
}

/// `jane%40example.com` from a mailto: link.
fn decode_percent(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('%') {
        return std::borrow::Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(decoded) => std::borrow::Cow::Owned(decoded),
        Err(_) => std::borrow::Cow::Borrowed(s),
    }
}

/// Appends the domain in lower-case ASCII (punycode for international domains) to `out`,
/// checked label by label.
fn push_ascii_domain(domain: &str, out: &mut String) -> std::result::Result<(), &'static str> {
    if domain.starts_with('.') || domain.ends_with('.') || has_double_dot(domain) {
        return Err("the domain has a misplaced dot");
    }
    let start = out.len();
    if domain.is_ascii() {
        out.extend(domain.chars().map(|c| c.to_ascii_lowercase()));
    } else {
        out.push_str(&idna::domain_to_ascii_strict(domain).map_err(|_| "the domain is not valid")?);
    }
    let ascii = &out[start..];
    if ascii.len() > 253 {
        return Err("the domain is too long");
    }
    let mut labels = 0;
    let mut last = "";
    for label in ascii.split('.') {
        if label.is_empty() {
            return Err("the domain has a misplaced dot");
        }
        if label.len() > 63 {
            return Err("the domain is too long");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err("the domain contains a character that is not allowed");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a part of the domain starts or ends with a dash");
        }
        labels += 1;
        last = label;
    }
    if labels < 2 {
        return Err("the domain has no dot");
    }
    if last.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the domain is not valid");
    }
    Ok(())
}

// ----------------------------------------------------------------------------------------------
// CSV

/// Text from a file, as Excel, Numbers and text editors write it: a BOM decides (UTF-8, UTF-16
/// LE/BE: Excel's "Unicode Text"); without one, valid UTF-8 is UTF-8, text with a NUL in most
/// ASCII positions is UTF-16 without its BOM, and anything else is Windows-1252 (Excel's "CSV"
/// on Windows in Western locales; a superset of Latin-1 that also has €, ’ and Š).
pub fn decode(bytes: &[u8]) -> String {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom..]);
        return text.into_owned();
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return s.to_string();
    }
    let encoding = match utf16_without_bom(bytes) {
        Some(true) => encoding_rs::UTF_16LE,
        Some(false) => encoding_rs::UTF_16BE,
        None => encoding_rs::WINDOWS_1252,
    };
    let (text, _) = encoding.decode_without_bom_handling(bytes);
    text.into_owned()
}

/// `Some(true)` for UTF-16 LE, `Some(false)` for BE, judged on the first 1,024 bytes: in a CSV of
/// addresses nearly every character is ASCII, so one byte of each pair is NUL.
fn utf16_without_bom(bytes: &[u8]) -> Option<bool> {
    let head = &bytes[..bytes.len().min(1024) & !1];
    let pairs = head.len() / 2;
    if pairs < 2 {
        return None;
    }
    let odd_nuls = head
        .chunks_exact(2)
        .filter(|p| p[1] == 0 && p[0] != 0)
        .count();
    let even_nuls = head
        .chunks_exact(2)
        .filter(|p| p[0] == 0 && p[1] != 0)
        .count();
    if odd_nuls * 10 >= pairs * 9 {
        Some(true)
    } else if even_nuls * 10 >= pairs * 9 {
        Some(false)
    } else {
        None
    }
}

/// The delimiter used most on the first non-empty line, outside quotes (`,` when none).
fn sniff_delimiter(text: &str) -> u8 {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let (mut comma, mut semi, mut tab) = (0usize, 0usize, 0usize);
    let mut quoted = false;
    for b in line.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => comma += 1,
            b';' if !quoted => semi += 1,
            b'\t' if !quoted => tab += 1,
            _ => {}
        }
    }
    if tab > comma && tab >= semi {
        b'\t'
    } else if semi > comma {
        b';'
    } else {
        b','
    }
}

/// What the first row says about the columns.
#[derive(Debug, Default)]
struct Header {
    is_header: bool,
    email: Option<usize>,
    name: Option<usize>,
    first: Option<usize>,
    last: Option<usize>,
}

impl Header {
    fn read(row: &[String]) -> Header {
        let mut h = Header::default();
        if row.iter().any(|c| c.contains('@')) {
            return h;
        }
        for (i, cell) in row.iter().enumerate() {
            let key: String = cell
                .to_lowercase()
                .chars()
                .map(|c| {
                    if c == '_' || c == '-' || c == '.' {
                        ' '
                    } else {
                        c
                    }
                })
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let slot = match key.as_str() {
                "email" | "e mail" | "mail" | "email address" | "e mail address"
                | "emailaddress" | "emails" | "email addresses" => &mut h.email,
                "name" | "full name" | "fullname" | "display name" | "contact name" | "contact" => {
                    &mut h.name
                }
                "first name" | "firstname" | "first" | "given name" | "forename" => &mut h.first,
                "last name" | "lastname" | "last" | "surname" | "family name" => &mut h.last,
                k if k.ends_with(" email")
                    || k.ends_with(" e mail")
                    || k.ends_with(" email address") =>
                {
                    if h.email.is_some() {
                        continue;
                    }
                    &mut h.email
                }
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(i);
            }
        }
        h.is_header =
            h.email.is_some() || h.name.is_some() || h.first.is_some() || h.last.is_some();
        h
    }

    fn name_of(&self, row: &[String]) -> Option<String> {
        let cell = |i: Option<usize>| {
            i.and_then(|i| row.get(i))
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
        };
        if let Some(n) = cell(self.name) {
            return clean_name(n);
        }
        match (cell(self.first), cell(self.last)) {
            (Some(f), Some(l)) => clean_name(&format!("{f} {l}")),
            (Some(one), None) | (None, Some(one)) => clean_name(one),
            (None, None) => None,
        }
    }
}

/// The column holding the addresses, when at least 80% of the cells with an `@` are in it.
fn address_column(rows: &[Vec<String>]) -> Option<usize> {
    let mut per_column: Vec<usize> = Vec::new();
    let mut total = 0usize;
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if cell.contains('@') {
                if per_column.len() <= i {
                    per_column.resize(i + 1, 0);
                }
                per_column[i] += 1;
                total += 1;
            }
        }
    }
    let (col, &best) = per_column
        .iter()
        .enumerate()
        .max_by_key(|(i, n)| (**n, std::cmp::Reverse(*i)))?;
    (best > 0 && best * 10 >= total * 8).then_some(col)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_with_plain_reasons() {
        let good: &[(&str, &str)] = &[
            ("jane@example.com", "jane@example.com"),
            ("Jane.Doe@Example.COM", "Jane.Doe@example.com"),
            ("a+tag@x.co.uk", "a+tag@x.co.uk"),
            ("jörg@bücher.de", "jörg@xn--bcher-kva.de"),
            ("用户@例子.广告", "用户@xn--fsqu00a.xn--4rr70v"),
            ("o'brien@example.ie", "o'brien@example.ie"),
            ("jane%40example.com", "jane@example.com"),
        ];
        for (input, want) in good {
            assert_eq!(check_address(input), Ok(want.to_string()), "{input}");
            assert_eq!(
                check_address(want),
                Ok(want.to_string()),
                "normalising twice changes nothing: {want}"
            );
        }
        let bad: &[(&str, &str)] = &[
            ("janeexample.com", "missing @"),
            ("jane@example", "the domain has no dot"),
            ("jane doe@example.com", "spaces are not allowed"),
            ("jane@@example.com", "more than one @"),
            ("a@b@example.com", "more than one @"),
            ("@example.com", "nothing before the @"),
            ("jane@", "nothing after the @"),
            ("jane.@example.com", "misplaced dot"),
            ("ja..ne@example.com", "misplaced dot"),
            ("jane@example..com", "misplaced dot"),
            ("jane@-example.com", "dash"),
            ("jane@exa_mple.com", "not allowed"),
            ("jane@1.2.3.4", "not valid"),
            ("ja(ne@example.com", "not allowed"),
        ];
        for (input, want) in bad {
            let reason = check_address(input).unwrap_err();
            assert!(reason.contains(want), "{input}: {reason}");
        }
        let long = format!(
            "{}@{}.com",
            "a".repeat(64),
            "b".repeat(63) + "." + &"c".repeat(63) + "." + &"d".repeat(60)
        );
        assert!(check_address(&long).unwrap_err().contains("254"), "{long}");
        assert!(check_address(&format!("{}@x.com", "a".repeat(65)))
            .unwrap_err()
            .contains("64"));
        let e = normalize_email(" nope ").unwrap_err();
        assert_eq!(
            (e.kind(), e.to_string().as_str()),
            (
                "invalid_email",
                "nope is not a valid email address: missing @"
            )
        );
    }

    #[test]
    fn duplicates_survive_a_hash_collision() {
        // Forge a collision: the hash of a@x.com already points at an entry for b@x.com.
        let entry = |e: &str| Entry {
            input: e.into(),
            email: Some(e.into()),
            name: None,
            status: EntryStatus::Valid,
        };
        let entries = vec![entry("b@x.com"), entry("a@x.com"), entry("A@X.com")];
        let mut seen = Seen::default();
        seen.first.insert(fold_hash("a@x.com"), 0);
        assert_eq!(seen.first_index("a@x.com", 1, &entries), None);
        assert_eq!(seen.first_index("A@X.com", 2, &entries), Some(1));
        assert_eq!(fold_hash("JÖRG@x.de"), fold_hash("jörg@x.de"));
        assert!(same_ignoring_case("JÖRG@x.de", "jörg@x.de"));
    }

    #[test]
    fn candidates_lose_their_wrapping() {
        assert_eq!(
            clean_candidate("mailto:jane@x.com?subject=Hi%20there"),
            "jane@x.com"
        );
        assert_eq!(clean_candidate("<MAILTO:jane@x.com>"), "jane@x.com");
        assert_eq!(clean_candidate("'jane@x.com'."), "jane@x.com");
        assert_eq!(clean_candidate("(jane@x.com),"), "jane@x.com");
        assert_eq!(clean_candidate("“jane@x.com”"), "jane@x.com");
    }

    #[test]
    fn delimiters_are_sniffed() {
        assert_eq!(sniff_delimiter("name;email\n"), b';');
        assert_eq!(sniff_delimiter("\nname,email"), b',');
        assert_eq!(sniff_delimiter("name\temail"), b'\t');
        assert_eq!(sniff_delimiter("\"Doe, Jane\";jane@x.com"), b';');
        assert_eq!(sniff_delimiter("jane@x.com"), b',');
    }

    #[test]
    fn statuses_serialize_with_a_kind_tag() {
        let v = serde_json::to_value(EntryStatus::Invalid {
            reason: "missing @".into(),
        })
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"kind": "invalid", "reason": "missing @"})
        );
        let v = serde_json::to_value(EntryStatus::Duplicate { of: 3 }).unwrap();
        assert_eq!(v, serde_json::json!({"kind": "duplicate", "of": 3}));
        assert_eq!(
            serde_json::to_value(EntryStatus::AlreadyMember).unwrap(),
            serde_json::json!({"kind": "alreadyMember"})
        );
        assert_eq!(
            serde_json::to_value(EntryStatus::AlreadyInvited).unwrap(),
            serde_json::json!({"kind": "alreadyInvited"})
        );
    }
}
