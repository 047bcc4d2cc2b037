//! The paste parser against real-world pastes: what owners copy from Outlook, Gmail, Google
//! Sheets, Excel and plain text, each with exactly what the owner should see.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use invite_core::parse::{parse_csv, parse_recipients, EntryStatus, ParseResult};

/// `address-or-input | name | status` where status is `valid`, `dup N` or `invalid: reason`.
fn render(result: &ParseResult) -> Vec<String> {
    result
        .entries
        .iter()
        .map(|e| {
            let what = e.email.clone().unwrap_or_else(|| e.input.clone());
            let name = e.name.clone().unwrap_or_else(|| "-".into());
            let status = match &e.status {
                EntryStatus::Valid => "valid".to_string(),
                EntryStatus::Invalid { reason } => format!("invalid: {reason}"),
                EntryStatus::Duplicate { of } => format!("dup {of}"),
                EntryStatus::AlreadyMember => "member".to_string(),
                EntryStatus::AlreadyInvited => "invited".to_string(),
            };
            format!("{what} | {name} | {status}")
        })
        .collect()
}

#[track_caller]
fn check(label: &str, got: ParseResult, want: &[&str]) {
    assert_eq!(render(&got), want, "{label}");
    // Every duplicate points at an earlier valid entry with the same address, ignoring case.
    for (i, e) in got.entries.iter().enumerate() {
        if let EntryStatus::Duplicate { of } = e.status {
            assert!(of < i, "{label}: {i} -> {of}");
            assert_eq!(got.entries[of].status, EntryStatus::Valid, "{label}");
            assert_eq!(
                got.entries[of].email.as_ref().unwrap().to_lowercase(),
                e.email.as_ref().unwrap().to_lowercase(),
                "{label}"
            );
        }
    }
}

#[test]
fn real_world_pastes() {
    let table: &[(&str, &str, &[&str])] = &[
        (
            "one per line, blank lines and stray spaces",
            "jane@example.com\r\n\r\n  bob@example.org  \n\tcarol@example.net\n",
            &["jane@example.com | - | valid", "bob@example.org | - | valid", "carol@example.net | - | valid"],
        ),
        (
            "commas, semicolons, spaces and tabs mixed",
            "jane@example.com,bob@example.org; carol@example.net  dave@example.io\teve@example.com",
            &[
                "jane@example.com | - | valid",
                "bob@example.org | - | valid",
                "carol@example.net | - | valid",
                "dave@example.io | - | valid",
                "eve@example.com | - | valid",
            ],
        ),
        (
            "Outlook To line",
            "Jane Doe <jane@example.com>; Bob Smith <Bob.Smith@Example.ORG>; 'carol@example.net'",
            &[
                "jane@example.com | Jane Doe | valid",
                "Bob.Smith@example.org | Bob Smith | valid",
                "carol@example.net | - | valid",
            ],
        ),
        (
            "Outlook with quoted Last, First names and company in parentheses",
            "\"Doe, Jane\" <jane@example.com>; \"Smith, Bob (Acme)\" <bob@acme.com>; Carol Jones (Acme) <carol@acme.com>",
            &[
                "jane@example.com | Doe, Jane | valid",
                "bob@acme.com | Smith, Bob (Acme) | valid",
                "carol@acme.com | Carol Jones (Acme) | valid",
            ],
        ),
        (
            "Outlook with the address repeated as the name",
            "\"jane@example.com\" <jane@example.com>; \"Bob\" <bob@example.org>",
            &["jane@example.com | - | valid", "bob@example.org | Bob | valid"],
        ),
        (
            "unquoted Last, First before an angle address",
            "Doe, Jane <jane@example.com>, Smith, Bob <bob@example.org>",
            &["jane@example.com | Doe, Jane | valid", "bob@example.org | Smith, Bob | valid"],
        ),
        (
            "Gmail copy",
            "Jane Doe <jane@example.com>, bob@example.org, \"Carol O'Neil\" <carol@example.net>",
            &[
                "jane@example.com | Jane Doe | valid",
                "bob@example.org | - | valid",
                "carol@example.net | Carol O'Neil | valid",
            ],
        ),
        (
            "email header block pasted with labels",
            "To: Jane Doe <jane@example.com>, Bob <bob@example.org>\nCc: carol@example.net",
            &[
                "jane@example.com | Jane Doe | valid",
                "bob@example.org | Bob | valid",
                "carol@example.net | - | valid",
            ],
        ),
        (
            "Google Sheets: name and email columns with a header row",
            "Name\tEmail\nJane Doe\tjane@example.com\nBob Smith\tbob@example.org\n\t\nCarol\tcarol@example",
            &[
                "jane@example.com | Jane Doe | valid",
                "bob@example.org | Bob Smith | valid",
                "Carol\tcarol@example | Carol | invalid: the domain has no dot",
            ],
        ),
        (
            "Google Sheets: email column first, then name",
            "Email address\tFull name\njane@example.com\tJane Doe\nbob@example.org\tBob",
            &["jane@example.com | Jane Doe | valid", "bob@example.org | Bob | valid"],
        ),
        (
            "Google Sheets: a single column",
            "Email\njane@example.com\nbob@example.org\nJANE@EXAMPLE.COM",
            &["jane@example.com | - | valid", "bob@example.org | - | valid", "JANE@example.com | - | dup 0"],
        ),
        (
            "mailto links, with a query and percent-encoding",
            "mailto:jane@example.com?subject=Welcome\n<mailto:bob@example.org>\nMAILTO:carol%40example.net",
            &["jane@example.com | - | valid", "bob@example.org | - | valid", "carol@example.net | - | valid"],
        ),
        (
            "plus tags are kept and are different addresses",
            "jane+invites@example.com jane@example.com JANE+INVITES@Example.com",
            &["jane+invites@example.com | - | valid", "jane@example.com | - | valid", "JANE+INVITES@example.com | - | dup 0"],
        ),
        (
            "IDN domains become punycode, local parts are kept",
            "用户@例子.广告\njörg@bücher.de\nJörg <JÖRG@BÜCHER.DE>",
            &[
                "用户@xn--fsqu00a.xn--4rr70v | - | valid",
                "jörg@xn--bcher-kva.de | - | valid",
                "JÖRG@xn--bcher-kva.de | Jörg | dup 1",
            ],
        ),
        (
            "stray quotes, brackets and trailing punctuation",
            "\"jane@example.com\", 'bob@example.org'. (carol@example.net)! <dave@example.io>, “eve@example.com”;",
            &[
                "jane@example.com | - | valid",
                "bob@example.org | - | valid",
                "carol@example.net | - | valid",
                "dave@example.io | - | valid",
                "eve@example.com | - | valid",
            ],
        ),
        (
            "old-style comment names and bulleted lists",
            "- jane@example.com (Jane Doe)\n• bob@example.org\n1. carol@example.net",
            &["jane@example.com | Jane Doe | valid", "bob@example.org | - | valid", "carol@example.net | - | valid"],
        ),
        (
            "invalid pieces say why",
            "jane@example.com, janeexample.com, bob at example.org, carol@example, dave@@example.io, @example.com, eve@, frank.@example.com, <gina smith@example.com>",
            &[
                "jane@example.com | - | valid",
                "janeexample.com | - | invalid: missing @",
                "bob at example.org | - | invalid: missing @",
                "carol@example | - | invalid: the domain has no dot",
                "dave@@example.io | - | invalid: more than one @",
                "@example.com | - | invalid: nothing before the @",
                "eve@ | - | invalid: nothing after the @",
                "frank.@example.com | - | invalid: the part before the @ has a misplaced dot",
                "<gina smith@example.com> | - | invalid: spaces are not allowed",
            ],
        ),
        (
            "a name on its own is not an address",
            "Jane Doe\njane@example.com",
            &["Jane Doe | - | invalid: missing @", "jane@example.com | - | valid"],
        ),
        (
            "an unclosed quote or bracket does not swallow the rest",
            "\"Jane jane@example.com, bob@example.org\n<carol@example.net, dave@example.io",
            &[
                "jane@example.com | Jane | valid",
                "bob@example.org | - | valid",
                "carol@example.net | - | valid",
                "dave@example.io | - | valid",
            ],
        ),
        (
            "non-breaking and zero-width spaces from web pages",
            "jane@example.com\u{a0}bob@example.org\u{200b}\ncarol@example.net\u{feff}",
            &["jane@example.com | - | valid", "bob@example.org | - | valid", "carol@example.net | - | valid"],
        ),
        (
            "duplicates point at the first occurrence",
            "a@x.com\nb@x.com\nA@X.com\nB@x.COM\na@x.com",
            &["a@x.com | - | valid", "b@x.com | - | valid", "A@x.com | - | dup 0", "B@x.com | - | dup 1", "a@x.com | - | dup 0"],
        ),
        ("empty and blank", "  \n\t\n ,;; ", &[]),
    ];
    for (label, input, want) in table {
        check(label, parse_recipients(input), want);
    }
}

#[test]
fn entries_keep_what_was_pasted() {
    let r = parse_recipients("Jane Doe <jane@example.com>; \"Doe, John\" <john@example.com>");
    assert_eq!(r.entries[0].input, "Jane Doe <jane@example.com>");
    assert_eq!(r.entries[1].input, "\"Doe, John\" <john@example.com>");
    let counts = r.counts();
    assert_eq!((counts.valid, counts.invalid, counts.duplicate), (2, 0, 0));
    assert_eq!(
        r.valid_emails(),
        vec!["jane@example.com", "john@example.com"]
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(
        json["entries"][0]["status"],
        serde_json::json!({"kind": "valid"})
    );
    assert_eq!(json["entries"][0]["name"], "Jane Doe");
}

#[test]
fn csv_files() {
    let table: &[(&str, &[u8], &[&str])] = &[
        (
            "Excel CSV: UTF-8 BOM, semicolons, CRLF, a comma inside a name, an empty row and a row without address",
            b"\xEF\xBB\xBFName;Email\r\nDoe, Jane;jane@example.com\r\nBob;BOB@EXAMPLE.ORG\r\n;\r\nCarol;\r\n",
            &[
                "jane@example.com | Doe, Jane | valid",
                "BOB@example.org | Bob | valid",
                "Carol | Carol | invalid: no email address in this row",
            ],
        ),
        (
            "Excel sep= line and first/last name columns",
            b"sep=;\nFirst Name;Last Name;E-mail\nJane;Doe;jane@example.com\nBob;;bob@example.org\n",
            &["jane@example.com | Jane Doe | valid", "bob@example.org | Bob | valid"],
        ),
        (
            "comma CSV with quotes, the email column not first, headers in any case",
            b"\"Full Name\",\"EMAIL ADDRESS\",Phone\n\"Smith, Bob\",bob@example.org,555\nJane,\"Jane Doe <jane@example.com>\",556\n",
            &["bob@example.org | Smith, Bob | valid", "jane@example.com | Jane Doe | valid"],
        ),
        (
            "tab-separated export",
            b"id\tmail\tname\n1\tjane@example.com\tJane\n2\tnot-an-address\tBob\n3\tjane@example.com\tJane again\n",
            &[
                "jane@example.com | Jane | valid",
                "not-an-address | Bob | invalid: missing @",
                "jane@example.com | Jane again | dup 0",
            ],
        ),
        (
            "no header: the column holding the addresses",
            b"Jane,jane@example.com,555\nBob,bob@example.org,556\nCarol,,557\n",
            &[
                "jane@example.com | - | valid",
                "bob@example.org | - | valid",
                "Carol, 557 | - | invalid: no email address in this row",
            ],
        ),
        (
            "a TXT list with several addresses per line is read like a paste",
            b"jane@example.com, bob@example.org\ncarol@example.net, dave@example.io\n",
            &[
                "jane@example.com | - | valid",
                "bob@example.org | - | valid",
                "carol@example.net | - | valid",
                "dave@example.io | - | valid",
            ],
        ),
        (
            "UTF-16 LE with BOM (Excel 'Unicode text')",
            &utf16le("Email\tName\r\njörg@bücher.de\tJörg\r\n"),
            &["jörg@xn--bcher-kva.de | Jörg | valid"],
        ),
        (
            "Latin-1 (Excel on Windows)",
            b"Name,Email\nJ\xf6rg,joerg@example.de\n",
            &["joerg@example.de | Jörg | valid"],
        ),
        ("empty file", b"", &[]),
        ("only a BOM", b"\xEF\xBB\xBF", &[]),
    ];
    for (label, bytes, want) in table {
        check(label, parse_csv(bytes), want);
    }
}

fn utf16le(s: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for u in s.encode_utf16() {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out
}
