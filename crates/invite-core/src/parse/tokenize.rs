//! One paste, line by line: pieces, display names, labels and leftovers.

use super::*;

/// One piece of a line, as byte ranges into the line.
#[derive(Debug, Clone, Copy)]
pub(super) enum Piece {
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

pub(super) fn is_space(c: char) -> bool {
    // U+200B (zero-width space) and U+FEFF (BOM) come along with pastes from web pages.
    c.is_whitespace() || c == '\u{200B}' || c == '\u{FEFF}'
}

pub(super) fn parse_into(text: &str, b: &mut Builder) {
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
pub(super) fn tokenize(line: &str, out: &mut Vec<Piece>) {
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
pub(super) fn find_close(bytes: &[u8], from: usize, close: u8, escapes: bool) -> Option<usize> {
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
pub(super) struct Run {
    pub(super) start: Option<usize>,
    pub(super) end: usize,
    pub(super) parts: Vec<(usize, usize, bool)>, // (start, end, quoted)
    pub(super) name_like: bool,
    pub(super) header: bool,
    pub(super) after_tab: bool,
}

impl Run {
    pub(super) fn clear(&mut self) {
        self.start = None;
        self.parts.clear();
        self.name_like = true;
        self.header = true;
        self.after_tab = false;
    }

    pub(super) fn push(&mut self, start: usize, end: usize, special: bool, line: &str) {
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

    pub(super) fn is_empty(&self) -> bool {
        self.start.is_none()
    }

    pub(super) fn name(&self, line: &str) -> Option<String> {
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

pub(super) fn clean_name(name: &str) -> Option<String> {
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
pub(super) fn is_name_like(word: &str) -> bool {
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
pub(super) fn is_header_word(word: &str) -> bool {
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
pub(super) fn is_label(word: &str) -> bool {
    word.len() > 1
        && word.ends_with(':')
        && !word.contains('@')
        && word[..word.len() - 1]
            .chars()
            .all(|c| c.is_alphabetic() || c == '-')
        && !word.eq_ignore_ascii_case("mailto:")
}

pub(super) fn read_line(line: &str, pieces: &[Piece], run: &mut Run, b: &mut Builder) {
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
pub(super) fn looks_like_address(word: &str) -> bool {
    word.contains('@')
        || word.contains("%40")
        || strip_prefix_ignore_case(word.trim_start_matches(['<', '(', '"', '\'']), "mailto:")
            .is_some()
}

pub(super) fn carry_start(carry: &mut Option<(usize, usize, Option<String>)>) -> Option<usize> {
    carry.take().map(|(s, _, _)| s)
}

pub(super) fn extend_input(entry: &mut Entry, more: &str) {
    entry.input.push(' ');
    entry.input.push_str(more.trim());
}

/// The name for the address that follows the current run, if the run reads as one. A run that
/// is not a name becomes its own invalid entry (before the address, keeping paste order).
pub(super) fn take_name(
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
pub(super) fn push_leftover(b: &mut Builder, text: &str) {
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
pub(super) fn clean_candidate(text: &str) -> &str {
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

pub(super) fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}
