//! CSV and text files as spreadsheet apps save them (tests/fixtures/encodings/README.md says which
//! app writes which): every encoding gives the same four people with their accented names intact.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use invite_core::parse::{decode, parse_csv, EntryStatus};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/encodings")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const PEOPLE: [(&str, &str); 4] = [
    ("zoe@example.com", "Zoë Šolc"),
    ("francois@example.com", "François Müller"),
    ("renee@example.com", "Renée O’Brien"),
    ("jorg@example.com", "Jörg Ødegård"),
];

#[track_caller]
fn reads_everyone(file: &str) {
    let result = parse_csv(&fixture(file));
    let got: Vec<(String, String, EntryStatus)> = result
        .entries
        .iter()
        .map(|e| {
            (
                e.email.clone().unwrap_or_else(|| e.input.clone()),
                e.name.clone().unwrap_or_default(),
                e.status.clone(),
            )
        })
        .collect();
    let want: Vec<(String, String, EntryStatus)> = PEOPLE
        .iter()
        .map(|(e, n)| (e.to_string(), n.to_string(), EntryStatus::Valid))
        .collect();
    assert_eq!(got, want, "{file}");
}

#[test]
fn utf8_without_bom_as_numbers_writes_it() {
    reads_everyone("utf8.csv");
}

#[test]
fn utf8_with_bom_as_excel_csv_utf8_writes_it() {
    reads_everyone("utf8-bom.csv");
}

#[test]
fn utf16_le_unicode_text_tab_separated() {
    reads_everyone("utf16le-bom.txt");
}

#[test]
fn utf16_be_with_bom() {
    reads_everyone("utf16be-bom.txt");
}

#[test]
fn utf16_le_that_lost_its_bom() {
    reads_everyone("utf16le-nobom.txt");
}

#[test]
fn windows_1252_as_excel_on_windows_writes_csv() {
    reads_everyone("windows-1252.csv");
}

#[test]
fn windows_1252_is_not_read_as_latin1() {
    // 0x92 is ’ and 0x8A is Š in Windows-1252; Latin-1 would make both control characters.
    assert_eq!(decode(&[0x92, b'a', 0x8A, 0x80]), "’aŠ€");
}

#[test]
fn a_bom_is_never_part_of_the_first_cell() {
    // The export writes UTF-8 with a BOM (for Excel); reading it back must give a clean header.
    let text = decode(b"\xEF\xBB\xBFemail,name\r\na@example.com,A\r\n");
    assert!(text.starts_with("email,"), "{text:?}");
    let r = parse_csv(b"\xEF\xBB\xBFemail,name\r\na@example.com,A\r\n");
    assert_eq!(r.valid_emails(), ["a@example.com"]);
}

#[test]
fn plain_ascii_and_short_inputs_stay_utf8() {
    assert_eq!(decode(b""), "");
    assert_eq!(decode(b"a"), "a");
    assert_eq!(decode(b"a@x.com"), "a@x.com");
}

#[test]
fn an_imported_file_shown_as_lines_reads_back_the_same() {
    let file = "Name,Email\r\n\"Smith, Ann\",ann@example.com\r\nRenée O’Brien,renee@example.com\r\n,bob@example.com\r\nNot an address,nope\r\nRepeat,ANN@example.com\r\n";
    let first = parse_csv(file.as_bytes());
    let lines = first.to_lines();
    let again = invite_core::parse::parse_recipients(&lines);
    let people = |r: &invite_core::parse::ParseResult| {
        r.entries
            .iter()
            .filter(|e| e.status == EntryStatus::Valid)
            .map(|e| (e.email.clone(), e.name.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(people(&first), people(&again), "{lines}");
    assert_eq!(people(&again).len(), 3, "{lines}");
    assert_eq!(again.counts().invalid, first.counts().invalid, "{lines}");
    assert!(!lines.to_lowercase().contains("repeat"), "{lines}");
}
