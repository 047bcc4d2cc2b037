//! Keeping secrets out of logs and the support bundle.
//!
//! Every log line goes through [`redact`] (the app wraps its log file in a [`RedactingWriter`]),
//! which removes the secrets the app knows by value, in their plain and base64 forms, and
//! anything that looks like a credential whatever its value: `Authorization`/`apikey` header
//! values, JWTs, Supabase secret keys and Royalti API keys.

use std::fmt;
use std::io::{self, Write};
use std::sync::{Arc, RwLock};

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;

use crate::secret::{KeychainStatus, Sensitive};
use crate::workspace::Workspace;

/// What a secret is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Header (and log field) names whose values are always credentials.
const SENSITIVE_NAMES: [&str; 7] = [
    "authorization",
    "proxy-authorization",
    "apikey",
    "api-key",
    "x-api-key",
    "cookie",
    "set-cookie",
];

/// Prefixes of opaque API keys: Supabase secret keys and Royalti workspace / user / platform keys.
const KEY_PREFIXES: [(&str, usize); 4] = [("sb_secret_", 1), ("RWAK", 8), ("RUAK", 8), ("GODK", 8)];

/// Replaces every known secret (and its base64 forms, standard and URL-safe, with and without
/// padding, and its URL-encoded form), every `Authorization:`/`apikey:` header value, every
/// JWT-looking token and every `sb_secret_…`/`RWAK…` key in `text` with `<redacted>`.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut forms: Vec<String> = Vec::with_capacity(secrets.len() * 6);
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        forms.push(s.to_string());
        for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            forms.push(engine.encode(s.as_bytes()));
        }
        forms.push(percent_encode(s));
    }
    // Longest first, so a secret that contains another is removed whole.
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms.dedup();
    let mut out = text.to_string();
    for form in &forms {
        if out.contains(form.as_str()) {
            out = out.replace(form.as_str(), REDACTED);
        }
    }
    let out = redact_named_values(&out);
    redact_tokens(&out)
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `Authorization: Bearer …`, `"apikey": "…"`, `apikey=…`: the value goes, to the closing
/// quote when quoted, else to the end of the line.
fn redact_named_values(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let found = SENSITIVE_NAMES.iter().find(|name| {
            lower.as_bytes()[i..].starts_with(name.as_bytes())
                && (i == 0 || !is_name_byte(bytes[i - 1]))
                && bytes.get(i + name.len()).is_none_or(|b| !is_name_byte(*b))
        });
        let Some(name) = found else {
            i += 1;
            continue;
        };
        let mut j = i + name.len();
        // `"authorization": "…"` (a Debug-printed header map) or `authorization: …`.
        if matches!(bytes.get(j), Some(b'"' | b'\'')) {
            j += 1;
        }
        while matches!(bytes.get(j), Some(b' ' | b'\t')) {
            j += 1;
        }
        if !matches!(bytes.get(j), Some(b':' | b'=')) {
            i += name.len();
            continue;
        }
        j += 1;
        while matches!(bytes.get(j), Some(b' ' | b'\t')) {
            j += 1;
        }
        let value_start = j;
        let value_end = match bytes.get(j) {
            Some(&q @ (b'"' | b'\'')) => {
                let close = bytes[j + 1..]
                    .iter()
                    .position(|&b| b == q || b == b'\n')
                    .map(|p| j + 1 + p);
                match close {
                    Some(c) if bytes[c] == q => {
                        out.push_str(&text[copied..=j]);
                        out.push_str(REDACTED);
                        copied = c;
                        i = c;
                        continue;
                    }
                    _ => line_end(bytes, j),
                }
            }
            Some(_) => line_end(bytes, j),
            None => j,
        };
        if value_end > value_start {
            out.push_str(&text[copied..value_start]);
            out.push_str(REDACTED);
            copied = value_end;
        }
        i = value_end.max(i + 1);
    }
    out.push_str(&text[copied..]);
    out
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn line_end(bytes: &[u8], from: usize) -> usize {
    let end = bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| from + p);
    if end > from && bytes[end - 1] == b'\r' {
        end - 1
    } else {
        end
    }
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// JWTs (`eyJ…`.`…`.`…`) and opaque keys, found in one pass.
fn redact_tokens(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let at_boundary = i == 0 || !is_b64url(bytes[i - 1]);
        if at_boundary {
            if let Some(end) = jwt_end(bytes, i).or_else(|| key_end(bytes, i)) {
                out.push_str(&text[copied..i]);
                out.push_str(REDACTED);
                copied = end;
                i = end;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    out
}

fn run_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| !is_b64url(b))
        .map_or(bytes.len(), |p| from + p)
}

/// End of a JWT starting at `i`: three base64url segments, the first starting `eyJ` (`{"`).
fn jwt_end(bytes: &[u8], i: usize) -> Option<usize> {
    if !bytes[i..].starts_with(b"eyJ") {
        return None;
    }
    let a = run_end(bytes, i);
    if bytes.get(a) != Some(&b'.') {
        return None;
    }
    let b = run_end(bytes, a + 1);
    if b == a + 1 || bytes.get(b) != Some(&b'.') {
        return None;
    }
    // An unsigned token has an empty third segment; it still carries the claims.
    Some(run_end(bytes, b + 1))
}

fn key_end(bytes: &[u8], i: usize) -> Option<usize> {
    KEY_PREFIXES.iter().find_map(|(prefix, min_rest)| {
        if !bytes[i..].starts_with(prefix.as_bytes()) {
            return None;
        }
        let end = run_end(bytes, i + prefix.len());
        (end - (i + prefix.len()) >= *min_rest).then_some(end)
    })
}

/// The secret values a [`RedactingWriter`] removes, shared with the code that loads them: the
/// writer is made at start-up, before any secret has been read from the keychain.
#[derive(Clone, Default)]
pub struct KnownSecrets {
    values: Arc<RwLock<Vec<Sensitive<String>>>>,
}

impl fmt::Debug for KnownSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KnownSecrets({} values)", self.read().len())
    }
}

impl KnownSecrets {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Sensitive<String>>> {
        self.values.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a value to remove from now on (empty values are ignored).
    pub fn add(&self, secret: &Sensitive<String>) {
        if secret.expose().is_empty() {
            return;
        }
        let mut values = self.values.write().unwrap_or_else(|p| p.into_inner());
        if !values.contains(secret) {
            values.push(secret.clone());
        }
    }

    /// [`redact`] with the values known now.
    pub fn redact(&self, text: &str) -> String {
        let values = self.read();
        let refs: Vec<&str> = values.iter().map(|s| s.expose().as_str()).collect();
        redact(text, &refs)
    }
}

/// A writer that redacts each line before passing it on (for the log file).
///
/// Bytes are held until a newline, so a secret split across two writes is still seen whole;
/// `flush` writes out (redacted) whatever partial line is held.
pub struct RedactingWriter<W: Write> {
    inner: W,
    secrets: KnownSecrets,
    pending: Vec<u8>,
}

impl<W: Write> fmt::Debug for RedactingWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedactingWriter")
            .field("secrets", &self.secrets)
            .finish_non_exhaustive()
    }
}

impl<W: Write> RedactingWriter<W> {
    /// Wraps `inner`; `secrets` can gain values later.
    pub fn new(inner: W, secrets: KnownSecrets) -> Self {
        Self {
            inner,
            secrets,
            pending: Vec::new(),
        }
    }

    /// The wrapped writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    fn write_redacted(&mut self, upto: usize) -> io::Result<()> {
        let chunk: Vec<u8> = self.pending.drain(..upto).collect();
        let text = String::from_utf8_lossy(&chunk);
        self.inner.write_all(self.secrets.redact(&text).as_bytes())
    }
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if let Some(last_newline) = self.pending.iter().rposition(|&b| b == b'\n') {
            self.write_redacted(last_newline + 1)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            let n = self.pending.len();
            self.write_redacted(n)?;
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for RedactingWriter<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// Plain text for "Copy diagnostics": versions, keychain state, each workspace's name, kind and
/// host (no path, option or account), and the log tail passed through [`redact`] once more.
pub fn support_bundle(
    app_version: &str,
    os: &str,
    workspaces: &[Workspace],
    log_tail: &str,
    keychain: &KeychainStatus,
) -> String {
    let mut out = String::new();
    out.push_str("Invite Desk diagnostics\n");
    out.push_str(&format!("Version: {app_version}\n"));
    out.push_str(&format!("System: {os}\n"));
    match keychain {
        KeychainStatus::Available => out.push_str("Keychain: available\n"),
        KeychainStatus::Unavailable { hint, detail } => {
            out.push_str(&format!("Keychain: unavailable. {hint}\n"));
            if !detail.is_empty() {
                out.push_str(&format!("Keychain detail: {}\n", redact(detail, &[])));
            }
        }
    }
    out.push_str(&format!("Workspaces: {}\n", workspaces.len()));
    for w in workspaces {
        out.push_str(&format!(
            "- {} ({}{}) at {}\n",
            redact(&w.name, &[]),
            w.kind().label(),
            if w.demo { ", demo" } else { "" },
            w.host()
        ));
    }
    out.push_str("\nRecent log:\n");
    out.push_str(&redact(log_tail, &[]));
    if !log_tail.ends_with('\n') {
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::model::WorkspaceKind;
    use crate::workspace::{SendingOptions, SupabaseOptions, WorkspaceConfig};

    const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2lnbmF0dXJlX2J5dGVz-_x";

    #[test]
    fn known_secrets_go_in_every_encoding() {
        let secret = "s3cr3t>>?value~~"; // base64 of this differs between standard and URL-safe
        let forms = [
            secret.to_string(),
            STANDARD.encode(secret),
            STANDARD_NO_PAD.encode(secret),
            URL_SAFE.encode(secret),
            URL_SAFE_NO_PAD.encode(secret),
            "s3cr3t%3E%3E%3Fvalue~~".to_string(),
        ];
        assert_ne!(
            STANDARD.encode(secret),
            URL_SAFE.encode(secret),
            "the test needs distinct forms"
        );
        for form in &forms {
            let line = format!("sent body={form} to server");
            let red = redact(&line, &[secret]);
            assert_eq!(red, "sent body=<redacted> to server", "form {form}");
        }
        // Nothing else changes, and an empty secret does nothing.
        assert_eq!(redact("status=200 ok", &["", "zzz"]), "status=200 ok");
    }

    #[test]
    fn header_values_go_whatever_their_value() {
        let table = [
            ("Authorization: Bearer abc.def\nnext line", "Authorization: <redacted>\nnext line"),
            ("authorization=Basic dXNlcjpwYXNz status=401", "authorization=<redacted>"),
            ("headers: {\"authorization\": \"Bearer xyz\", \"apikey\": \"k-123\", \"accept\": \"*/*\"}",
             "headers: {\"authorization\": \"<redacted>\", \"apikey\": \"<redacted>\", \"accept\": \"*/*\"}"),
            ("APIKEY:   plainkey\r\n", "APIKEY:   <redacted>\r\n"),
            ("x-api-key: k; cookie: nf_jwt=abc", "x-api-key: <redacted>"),
            ("the apikey header is missing", "the apikey header is missing"),
            ("my_authorization_code: 5", "my_authorization_code: 5"),
            ("authorization:", "authorization:"),
            ("apikey: \"unterminated value", "apikey: <redacted>"),
        ];
        for (input, want) in table {
            assert_eq!(redact(input, &[]), want, "{input}");
        }
    }

    #[test]
    fn credential_shaped_tokens_go() {
        let line = format!("token {JWT} and sb_secret_AbC123-xyz_9, RWAKabcdef123456 and RUAK_12345678; keep eyJnot-a-jwt and RWAK2 and sb_publishable_abc");
        let red = redact(&line, &[]);
        assert_eq!(
            red,
            "token <redacted> and <redacted>, <redacted> and <redacted>; keep eyJnot-a-jwt and RWAK2 and sb_publishable_abc"
        );
        // An unsigned JWT (empty signature) still goes; embedded in a word it is left alone.
        assert_eq!(
            redact("a eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0. b", &[]),
            "a <redacted> b"
        );
        assert_eq!(redact("xeyJa.b.c", &[]), "xeyJa.b.c");
        assert_eq!(redact("", &[]), "");
        assert_eq!(
            redact("ünïcödé authorization: ключ\nok", &[]),
            "ünïcödé authorization: <redacted>\nok"
        );
    }

    #[test]
    fn writer_redacts_lines_even_when_split_across_writes() {
        let known = KnownSecrets::new();
        let mut w = RedactingWriter::new(Vec::new(), known.clone());
        known.add(&Sensitive::new("hunter2-secret".to_string()));
        known.add(&Sensitive::new(String::new()));
        w.write_all(b"first line with hunter2-").unwrap();
        assert!(w.get_ref().is_empty(), "a partial line is held");
        w.write_all(b"secret inside\nsecond ").unwrap();
        w.write_all(format!("{JWT}\nthird aHVudGVyMi1zZWNyZXQ=").as_bytes())
            .unwrap();
        w.flush().unwrap();
        let written = String::from_utf8(w.get_ref().clone()).unwrap();
        assert_eq!(
            written,
            "first line with <redacted> inside\nsecond <redacted>\nthird <redacted>"
        );
        assert!(!format!("{w:?} {known:?}").contains("hunter2"));
    }

    proptest::proptest! {
        #[test]
        fn redact_never_panics_and_removes_the_secret(
            before in proptest::prelude::any::<String>(),
            after in proptest::prelude::any::<String>(),
            secret in "[A-Za-z0-9_-]{8,24}",
        ) {
            let text = format!("{before}{secret}{after} {}", STANDARD.encode(&secret));
            let out = redact(&text, &[secret.as_str()]);
            proptest::prop_assert!(!out.contains(&secret), "{out}");
            proptest::prop_assert!(!out.contains(&STANDARD_NO_PAD.encode(&secret)), "{out}");
            let _ = redact(&before, &[after.as_str()]);
        }
    }

    #[test]
    fn support_bundle_has_names_kinds_hosts_and_no_secret() {
        let ws = Workspace {
            id: "8d0c6f3e".into(),
            name: "Acme staff".into(),
            base_url: "https://abcdefghij.supabase.co".into(),
            config: WorkspaceConfig::Supabase(SupabaseOptions {
                sending: SendingOptions {
                    default_redirect_url: Some("https://acme.com/welcome?token=abc".into()),
                    ..Default::default()
                },
                ..Default::default()
            }),
            demo: false,
        };
        let demo = Workspace {
            id: "d".into(),
            name: "Demo (local sandbox)".into(),
            base_url: "http://127.0.0.1:43210".into(),
            config: WorkspaceConfig::default_for(WorkspaceKind::Gotrue),
            demo: true,
        };
        let log = format!("2026-11-22 INFO invite sent\n2026-11-22 DEBUG apikey: sb_secret_live123\nresponse {JWT}");
        let status = KeychainStatus::Unavailable {
            hint: crate::secret::HINT_LOCKED.into(),
            detail: "no result found".into(),
        };
        let text = support_bundle("0.1.0", "Debian 12 (x86_64)", &[ws, demo], &log, &status);
        // The hint is this OS's own (Credential Manager on Windows, Keychain on macOS).
        let keychain = format!("Keychain: unavailable. {}", crate::secret::HINT_LOCKED);
        for want in [
            "Version: 0.1.0",
            "System: Debian 12 (x86_64)",
            keychain.as_str(),
            "Keychain detail: no result found",
            "Workspaces: 2",
            "- Acme staff (Supabase) at abcdefghij.supabase.co",
            "- Demo (local sandbox) (Self-hosted GoTrue, demo) at 127.0.0.1:43210",
            "2026-11-22 INFO invite sent",
            "apikey: <redacted>",
            "response <redacted>",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        for never in [
            "sb_secret_live123",
            "eyJ",
            "owner@acme.com",
            "token=abc",
            "8d0c6f3e",
        ] {
            assert!(!text.contains(never), "{never:?} leaked in\n{text}");
        }
        let ok = support_bundle("0.1.0", "macOS", &[], "", &KeychainStatus::Available);
        assert!(ok.contains("Keychain: available\nWorkspaces: 0\n"), "{ok}");
    }
}
