//! Clips and redacts what a server said before it becomes part of an [`crate::Error`].
//!
//! Server error text is stored in the outbox, shown in the window and exported with the
//! history. Servers echo things back: a request's `Authorization` header, a token in a URL, a
//! session's JWT. Before any of that is kept it passes through [`clean`]: known secrets, bearer
//! tokens, JWT-shaped strings, Supabase secret keys and the values of token-like query or JSON
//! fields become `[redacted]`, and the result is clipped to [`MAX_DETAIL_CHARS`].

/// What replaces a secret.
pub const REDACTED: &str = "[redacted]";

/// The most of a server's text kept in an error (characters). Enough for any real message;
/// a whole HTML error page is cut.
pub const MAX_DETAIL_CHARS: usize = 500;

/// Redacts then clips `text` (redacting first, so a secret cut in half cannot leave a part
/// behind). `secrets` are the workspace's own values (keys, passwords, tokens); empty ones and
/// ones shorter than 6 characters are ignored so they cannot blank ordinary words.
pub fn clean(text: &str, secrets: &[&str]) -> String {
    clip(&redact(text, secrets), MAX_DETAIL_CHARS)
}

/// Cuts `text` to `max` characters, marking the cut with `…`.
pub fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((i, _)) => format!("{}…", &text[..i]),
    }
}

/// Replaces secrets and secret-shaped parts of `text` with [`REDACTED`]. See the module docs.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        let s = s.trim();
        if s.chars().count() < 6 {
            continue;
        }
        out = out.replace(s, REDACTED);
        let encoded = percent_encode(s);
        if encoded != s {
            out = out.replace(&encoded, REDACTED);
        }
        let escaped = s
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('/', "\\/");
        if escaped != s {
            out = out.replace(&escaped, REDACTED);
        }
    }
    let out = redact_bearer(&out);
    let out = redact_words(&out);
    redact_fields(&out)
}

/// Characters a token, key or JWT is made of.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/' | '=' | '%')
}

/// `Bearer <anything>` (any case) → `Bearer [redacted]`.
fn redact_bearer(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(found) = lower[i..].find("bearer") {
        let start = i + found;
        let after = start + "bearer".len();
        // A whole word only ("bearers" is not a scheme).
        let word_start =
            start == 0 || !text[..start].ends_with(|c: char| c.is_ascii_alphanumeric());
        let spaces = text[after..].len()
            - text[after..]
                .trim_start_matches([' ', '\t', ':', '='])
                .len();
        let value_start = after + spaces;
        let value_len = text[value_start..]
            .find(|c: char| !is_token_char(c))
            .unwrap_or(text.len() - value_start);
        if word_start && spaces > 0 && value_len > 0 {
            out.push_str(&text[i..value_start]);
            out.push_str(REDACTED);
            i = value_start + value_len;
        } else {
            out.push_str(&text[i..after]);
            i = after;
        }
    }
    out.push_str(&text[i..]);
    out
}

/// Whole "words" of token characters that look like a JWT (`eyJ….….…`) or a Supabase secret
/// key (`sb_secret_…`).
fn redact_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let start = rest.find(is_token_char).unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(|c: char| !is_token_char(c)).unwrap_or(rest.len());
        let word = &rest[..end];
        out.push_str(&redact_word(word));
        rest = &rest[end..];
    }
    out
}

fn redact_word(word: &str) -> String {
    // A JWT may sit inside a longer word (`token=eyJ…`): keep what comes before it.
    if let Some(at) = word.find("eyJ") {
        let jwt = &word[at..];
        let jwt_len = jwt
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .unwrap_or(jwt.len());
        let parts: Vec<&str> = jwt[..jwt_len].split('.').collect();
        if parts.len() >= 3 && parts[0].len() >= 4 && parts[1].len() >= 2 {
            return format!("{}{REDACTED}{}", &word[..at], redact_word(&jwt[jwt_len..]));
        }
    }
    for prefix in ["sb_secret_", "sb_publishable_"] {
        if let Some(at) = word.find(prefix) {
            if word.len() > at + prefix.len() {
                return format!("{}{REDACTED}", &word[..at]);
            }
        }
    }
    word.to_string()
}

/// True for a field name whose value is a secret: `token`, `access_token`, `refresh_token`,
/// `invite_token`, `apikey`, `api_key`, `key`, `secret`, `password`, `code`.
fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.ends_with("token")
        || n.ends_with("secret")
        || n.ends_with("password")
        || matches!(
            n.as_str(),
            "apikey" | "api_key" | "key" | "code" | "sig" | "signature"
        )
}

/// `name=value` (query strings, form bodies) and `"name": "value"` (JSON) where the name is a
/// secret's: the value becomes [`REDACTED`].
fn redact_fields(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < text.len() {
        // Find the next '=' or ':' that follows a name.
        let Some(rel) = text[i..].find(['=', ':']) else {
            break;
        };
        let sep = i + rel;
        let (name_end, quoted) = if sep > 0 && bytes[sep - 1] == b'"' {
            (sep - 1, true)
        } else {
            (sep, false)
        };
        // Byte-wise: ASCII bytes never occur inside a multi-byte character.
        let mut name_start = name_end;
        while name_start > 0
            && (bytes[name_start - 1].is_ascii_alphanumeric()
                || matches!(bytes[name_start - 1], b'_' | b'-'))
        {
            name_start -= 1;
        }
        let name = &text[name_start..name_end];
        let json_ok = !quoted || (name_start > 0 && bytes[name_start - 1] == b'"');
        let value_from = {
            let after = &text[sep + 1..];
            sep + 1 + (after.len() - after.trim_start_matches([' ', '\t']).len())
        };
        if !name.is_empty() && json_ok && (bytes[sep] == b'=' || quoted) && is_secret_name(name) {
            let value_quoted = bytes.get(value_from) == Some(&b'"');
            let v_start = value_from + usize::from(value_quoted);
            let v_len = if value_quoted {
                // Up to the closing quote (skipping escaped ones).
                let mut j = v_start;
                while j < text.len() && bytes[j] != b'"' {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                j.min(text.len()) - v_start
            } else {
                text[v_start..]
                    .find(|c: char| {
                        c.is_whitespace()
                            || matches!(
                                c,
                                '&' | '"' | '\'' | '<' | '>' | '#' | ',' | ';' | ')' | '}' | ']'
                            )
                    })
                    .unwrap_or(text.len() - v_start)
            };
            if v_len > 0 && text.is_char_boundary(v_start + v_len) {
                out.push_str(&text[i..v_start]);
                out.push_str(REDACTED);
                i = v_start + v_len;
                continue;
            }
        }
        out.push_str(&text[i..=sep]);
        i = sep + 1;
    }
    out.push_str(&text[i.min(text.len())..]);
    out
}

fn percent_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const JWT: &str =
        "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ";

    #[test]
    fn bearer_tokens_and_jwts_are_redacted() {
        let t = redact("Authorization: Bearer abc.def-123 was refused", &[]);
        assert_eq!(t, "Authorization: Bearer [redacted] was refused");
        let t = redact(&format!("invalid JWT {JWT}: expired"), &[]);
        assert_eq!(t, "invalid JWT [redacted]: expired");
        assert!(!redact(&format!("bearer\t{JWT}"), &[]).contains("eyJ"));
        // Ordinary words stay.
        assert_eq!(redact("bearers of bad news", &[]), "bearers of bad news");
        assert_eq!(
            redact("User not allowed (code 403)", &[]),
            "User not allowed (code 403)"
        );
    }

    #[test]
    fn token_like_fields_are_redacted() {
        let t = redact(
            "GET /verify?token=abc123&type=invite&redirect_to=https://x.io failed",
            &[],
        );
        assert_eq!(
            t,
            "GET /verify?token=[redacted]&type=invite&redirect_to=https://x.io failed"
        );
        let t = redact(
            r#"{"access_token": "opaque-1", "msg":"no", "refresh_token":"r2"}"#,
            &[],
        );
        assert_eq!(
            t,
            r#"{"access_token": "[redacted]", "msg":"no", "refresh_token":"[redacted]"}"#
        );
        assert_eq!(redact("apikey=sekrit1 x", &[]), "apikey=[redacted] x");
        assert_eq!(redact("time: 10:30", &[]), "time: 10:30");
    }

    #[test]
    fn the_workspaces_own_secrets_are_redacted_in_every_form() {
        let secret = "p@ss/word\"1";
        let text = format!("echo {secret}; url p%40ss%2Fword%221; json \"p@ss\\/word\\\"1\"");
        let t = redact(&text, &[secret, "", "ab"]);
        assert!(!t.contains("word"), "{t}");
        assert_eq!(t.matches(REDACTED).count(), 3, "{t}");
        assert!(redact("sb_secret_abcdef0123 leaked", &[]).starts_with("[redacted] leaked"));
    }

    #[test]
    fn clipped_after_redaction() {
        let long = format!("{}{JWT}", "x".repeat(495));
        let t = clean(&long, &[]);
        assert!(!t.contains("eyJ"), "{t}");
        let expected: String = format!("{}{REDACTED}", "x".repeat(495))
            .chars()
            .take(500)
            .collect();
        assert_eq!(t, expected + "…");
        assert_eq!(clip("héllo", 2), "hé…");
        assert_eq!(clip("hé", 2), "hé");
    }

    proptest! {
        #[test]
        fn a_secret_never_survives(
            before in "\\PC{0,40}",
            after in "\\PC{0,40}",
            secret in "[A-Za-z0-9_\\-]{6,40}",
        ) {
            let text = format!("{before}{secret}{after}");
            let t = clean(&text, &[&secret]);
            prop_assert!(!t.contains(&secret), "{}", t);
            prop_assert!(t.chars().count() <= MAX_DETAIL_CHARS + 1);
        }

        #[test]
        fn a_jwt_or_bearer_never_survives(before in "[a-z ,:]{0,30}", after in "[ ,;:]{0,1}[a-z ]{0,30}",
            h in "[A-Za-z0-9_\\-]{4,30}", p in "[A-Za-z0-9_\\-]{2,60}", s in "[A-Za-z0-9_\\-]{0,60}") {
            let jwt = format!("eyJ{h}.{p}.{s}");
            let t = redact(&format!("{before}{jwt}{after}"), &[]);
            prop_assert!(!t.contains(&jwt), "{}", t);
            let t = redact(&format!("{before} Bearer {h}{after}"), &[]);
            prop_assert!(!t.contains(&format!("Bearer {h}")), "{}", t);
            let t = redact(&format!("{before} ?token={h}{after}"), &[]);
            prop_assert!(!t.contains(&format!("token={h}")), "{}", t);
        }

        #[test]
        fn any_text_is_handled_without_panicking(text in "\\PC{0,300}", secret in "\\PC{0,20}") {
            let t = clean(&text, &[&secret]);
            prop_assert!(t.chars().count() <= MAX_DETAIL_CHARS + 1);
        }
    }
}
