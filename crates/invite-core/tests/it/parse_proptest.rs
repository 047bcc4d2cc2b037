//! The parser never panics, whatever is pasted or dropped, and what it calls valid is valid.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use invite_core::parse::{normalize_email, parse_csv, parse_recipients, EntryStatus, ParseResult};
use proptest::prelude::*;

fn check_invariants(r: &ParseResult) {
    for (i, e) in r.entries.iter().enumerate() {
        match &e.status {
            EntryStatus::Valid => {
                let email = e.email.as_deref().expect("a valid entry has an address");
                // Normalising is idempotent and the result passes validation again.
                assert_eq!(normalize_email(email).unwrap(), email);
                assert!(email.len() <= 254);
            }
            EntryStatus::Duplicate { of } => {
                assert!(*of < i);
                assert_eq!(r.entries[*of].status, EntryStatus::Valid);
            }
            EntryStatus::Invalid { reason } => {
                assert!(!reason.is_empty());
                assert!(e.email.is_none());
            }
            other => panic!("the parser never sets {other:?}"),
        }
    }
}

/// Text built from the characters that matter to the parser, so the search reaches deep paths.
fn pasty() -> impl Strategy<Value = String> {
    let atoms = prop_oneof![
        Just("@".to_string()),
        Just("\"".to_string()),
        Just("<".to_string()),
        Just(">".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just(",".to_string()),
        Just(";".to_string()),
        Just(" ".to_string()),
        Just("\t".to_string()),
        Just("\n".to_string()),
        Just("\\".to_string()),
        Just(".".to_string()),
        Just("%4".to_string()),
        Just("%40".to_string()),
        Just("mailto:".to_string()),
        Just("?x=1".to_string()),
        Just("ü".to_string()),
        Just("例".to_string()),
        Just("\u{a0}".to_string()),
        Just("jane".to_string()),
        Just("example.com".to_string()),
        Just("Email".to_string()),
        Just("To:".to_string()),
        "[a-zA-Z0-9.+-]{1,8}",
    ];
    prop::collection::vec(atoms, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check_invariants(&parse_recipients(&text));
    }

    #[test]
    fn paste_like_text_never_panics(text in pasty()) {
        check_invariants(&parse_recipients(&text));
    }

    #[test]
    fn arbitrary_bytes_never_panic_as_csv(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        check_invariants(&parse_csv(&bytes));
    }

    #[test]
    fn paste_like_csv_never_panics(text in pasty(), bom in any::<bool>()) {
        let mut bytes = if bom { vec![0xEF, 0xBB, 0xBF] } else { Vec::new() };
        bytes.extend_from_slice(text.replace(' ', ";").as_bytes());
        check_invariants(&parse_csv(&bytes));
    }

    #[test]
    fn generated_addresses_are_found(local in "[a-z][a-z0-9.+_-]{0,20}[a-z0-9]", domain in "[a-z][a-z0-9-]{0,10}[a-z]\\.[a-z]{2,6}", sep in prop::sample::select(vec![",", ";", " ", "\t", "\n", ", ", "; "])) {
        prop_assume!(!local.contains(".."));
        let address = format!("{local}@{domain}");
        let text = format!("{address}{sep}Name <{address}>{sep}mailto:{}", address.to_uppercase());
        let r = parse_recipients(&text);
        check_invariants(&r);
        prop_assert_eq!(r.valid_emails(), vec![address.as_str()]);
        prop_assert_eq!(r.counts().duplicate, 2);
    }
}
