#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::file::sniff_delimiter;
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
        // Found by the property tests: decoding once must be all it takes.
        ("%4%41@example.com", "%4%41@example.com"),
        ("a%25b@example.com", "a%25b@example.com"),
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
