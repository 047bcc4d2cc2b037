//! Files: decoding (BOM, UTF-16, Windows-1252), the delimiter, and which column holds the addresses.

use super::*;

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
pub(super) fn utf16_without_bom(bytes: &[u8]) -> Option<bool> {
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
pub(super) fn sniff_delimiter(text: &str) -> u8 {
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
pub(super) struct Header {
    pub(super) is_header: bool,
    pub(super) email: Option<usize>,
    pub(super) name: Option<usize>,
    pub(super) first: Option<usize>,
    pub(super) last: Option<usize>,
}

impl Header {
    pub(super) fn read(row: &[String]) -> Header {
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

    pub(super) fn name_of(&self, row: &[String]) -> Option<String> {
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
pub(super) fn address_column(rows: &[Vec<String>]) -> Option<usize> {
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
