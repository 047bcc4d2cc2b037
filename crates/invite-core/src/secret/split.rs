//! Secrets longer than one keychain entry can hold, split across several entries.
//!
//! Windows' Credential Manager keeps at most 2,560 bytes per credential, and keyring stores text
//! there as UTF-16: 1,280 characters. Some servers hand out access tokens longer than that (a JWT
//! with many claims). Such a value is written as parts `<name>~<generation>~<i>` plus a head
//! entry under `<name>` that says how many parts of which generation to read. The parts of a new
//! value are written under a fresh generation before the head switches to them, so a crash
//! half-way leaves the previous value whole; stale parts are removed afterwards.

use super::{SecretStore, Sensitive};
use crate::error::{Error, Result};

/// The most a Windows credential holds, in bytes (`CRED_MAX_CREDENTIAL_BLOB_SIZE`).
pub const CREDENTIAL_BLOB_LIMIT: usize = 2560;

/// The longest value one keychain entry takes on this system, in UTF-16 code units: Windows
/// Credential Manager stores UTF-16 text in at most [`CREDENTIAL_BLOB_LIMIT`] bytes; the macOS
/// Keychain and the Secret Service have no limit a secret of ours comes near.
pub const ENTRY_LIMIT: usize = if cfg!(windows) {
    CREDENTIAL_BLOB_LIMIT / 2
} else {
    usize::MAX
};

/// Starts a head entry. A control character no key, password or token contains.
const HEAD: &str = "\u{1}invite-desk-split:v1:";

/// At most this many parts (a 1,280-character part × 64 = 80 KB: far beyond any real token).
const MAX_PARTS: usize = 64;

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

fn part_name(name: &str, generation: &str, i: usize) -> String {
    format!("{name}~{generation}~{i}")
}

/// `(generation, parts)` when `value` is a head entry.
fn parse_head(value: &str) -> Option<(String, usize)> {
    let rest = value.strip_prefix(HEAD)?;
    let (generation, count) = rest.split_once(':')?;
    let count: usize = count.parse().ok()?;
    ((2..=MAX_PARTS).contains(&count) && !generation.is_empty())
        .then(|| (generation.to_string(), count))
}

/// Splits `value` into pieces of at most `limit` UTF-16 units, never inside a character.
fn pieces(value: &str, limit: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut units = 0;
    for (i, c) in value.char_indices() {
        let n = c.len_utf16();
        if units + n > limit {
            out.push(&value[start..i]);
            start = i;
            units = 0;
        }
        units += n;
    }
    out.push(&value[start..]);
    out
}

/// Reads a secret from `inner`, putting a split value back together.
pub(crate) fn get(
    inner: &dyn SecretStore,
    workspace: &str,
    name: &str,
) -> Result<Option<Sensitive<String>>> {
    let Some(head) = inner.get(workspace, name)? else {
        return Ok(None);
    };
    let Some((generation, count)) = parse_head(head.expose()) else {
        return Ok(Some(head));
    };
    let mut whole = String::new();
    for i in 0..count {
        let part = inner
            .get(workspace, &part_name(name, &generation, i))?
            .ok_or_else(|| {
                Error::storage(format!(
                    "part {} of {count} of the keychain entry {name} is missing",
                    i + 1
                ))
            })?;
        whole.push_str(part.expose());
    }
    Ok(Some(Sensitive::new(whole)))
}

/// Writes a secret into `inner`, split into parts when it is longer than `limit` UTF-16 units.
pub(crate) fn set(
    inner: &dyn SecretStore,
    limit: usize,
    workspace: &str,
    name: &str,
    value: &Sensitive<String>,
) -> Result<()> {
    let old = old_head(inner, limit, workspace, name)?;
    if utf16_len(value.expose()) <= limit {
        inner.set(workspace, name, value)?;
    } else {
        let parts = pieces(value.expose(), limit);
        if parts.len() > MAX_PARTS {
            return Err(Error::invalid_input(
                name,
                "is too long for the system keychain",
            ));
        }
        let generation = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
        for (i, part) in parts.iter().enumerate() {
            inner.set(
                workspace,
                &part_name(name, &generation, i),
                &Sensitive::new((*part).to_string()),
            )?;
        }
        let head = format!("{HEAD}{generation}:{}", parts.len());
        // The head is far shorter than any limit; it switches readers to the new parts at once.
        inner.set(workspace, name, &Sensitive::new(head))?;
    }
    if let Some((generation, count)) = old {
        remove_parts(inner, workspace, name, &generation, count)?;
    }
    Ok(())
}

/// Deletes a secret and, when it was split, its parts.
pub(crate) fn delete(
    inner: &dyn SecretStore,
    limit: usize,
    workspace: &str,
    name: &str,
) -> Result<()> {
    let old = old_head(inner, limit, workspace, name)?;
    inner.delete(workspace, name)?;
    if let Some((generation, count)) = old {
        remove_parts(inner, workspace, name, &generation, count)?;
    }
    Ok(())
}

/// The split value `name` holds now, if any. Where nothing is ever split (no limit), no extra
/// keychain read is made.
fn old_head(
    inner: &dyn SecretStore,
    limit: usize,
    workspace: &str,
    name: &str,
) -> Result<Option<(String, usize)>> {
    if limit == usize::MAX {
        return Ok(None);
    }
    Ok(inner
        .get(workspace, name)?
        .and_then(|h| parse_head(h.expose())))
}

fn remove_parts(
    inner: &dyn SecretStore,
    workspace: &str,
    name: &str,
    generation: &str,
    count: usize,
) -> Result<()> {
    for i in 0..count {
        inner.delete(workspace, &part_name(name, generation, i))?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::secret::{names, MemoryStore};

    /// A store that refuses what Windows' Credential Manager refuses: a value over 2,560 bytes
    /// once encoded as UTF-16 (keyring's own check, with keyring's error mapped as ours is).
    #[derive(Debug, Default, Clone)]
    struct CredentialManagerLimit(MemoryStore);

    impl SecretStore for CredentialManagerLimit {
        fn get(&self, w: &str, n: &str) -> Result<Option<Sensitive<String>>> {
            self.0.get(w, n)
        }
        fn set(&self, w: &str, n: &str, v: &Sensitive<String>) -> Result<()> {
            if utf16_len(v.expose()) * 2 > CREDENTIAL_BLOB_LIMIT {
                return Err(super::super::map_keyring_error(keyring::Error::TooLong(
                    "password encoded as UTF-16".into(),
                    CREDENTIAL_BLOB_LIMIT as u32,
                )));
            }
            self.0.set(w, n, v)
        }
        fn delete(&self, w: &str, n: &str) -> Result<()> {
            self.0.delete(w, n)
        }
    }

    const LIMIT: usize = CREDENTIAL_BLOB_LIMIT / 2;

    /// A JWT-shaped access token of `len` characters.
    fn token(len: usize) -> String {
        let body: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
        format!("eyJ{}", &body[3..])
    }

    #[test]
    fn the_limited_store_refuses_a_long_token_as_windows_does() {
        let store = CredentialManagerLimit::default();
        let long = Sensitive::new(token(4000));
        let e = store.set("w", names::ACCESS_TOKEN, &long).unwrap_err();
        assert_eq!(e.kind(), "storage");
        assert!(!e.to_string().contains("eyJ"));
        store
            .set("w", names::ACCESS_TOKEN, &Sensitive::new(token(LIMIT)))
            .unwrap();
    }

    #[test]
    fn long_tokens_are_split_and_read_back_whole() {
        let store = CredentialManagerLimit::default();
        for len in [LIMIT, LIMIT + 1, 2 * LIMIT, 4000, 9000] {
            let value = Sensitive::new(token(len));
            set(&store, LIMIT, "w", names::ACCESS_TOKEN, &value).unwrap();
            assert_eq!(get(&store, "w", names::ACCESS_TOKEN).unwrap(), Some(value));
        }
        // Replacing a 9,000-character token by a short one leaves only the short one.
        let short = Sensitive::from("short-token");
        set(&store, LIMIT, "w", names::ACCESS_TOKEN, &short).unwrap();
        assert_eq!(store.0.len(), 1, "{:?}", store.0.names("w"));
        assert_eq!(get(&store, "w", names::ACCESS_TOKEN).unwrap(), Some(short));
    }

    #[test]
    fn replacing_and_deleting_a_split_token_leaves_nothing_behind() {
        let store = CredentialManagerLimit::default();
        set(
            &store,
            LIMIT,
            "w",
            names::ACCESS_TOKEN,
            &Sensitive::new(token(5000)),
        )
        .unwrap();
        assert_eq!(store.0.len(), 1 + 4);
        set(
            &store,
            LIMIT,
            "w",
            names::ACCESS_TOKEN,
            &Sensitive::new(token(3000)),
        )
        .unwrap();
        assert_eq!(store.0.len(), 1 + 3, "old parts removed");
        set(
            &store,
            LIMIT,
            "w",
            names::REFRESH_TOKEN,
            &Sensitive::from("r"),
        )
        .unwrap();
        delete(&store, LIMIT, "w", names::ACCESS_TOKEN).unwrap();
        assert_eq!(store.0.names("w"), vec![names::REFRESH_TOKEN.to_string()]);
        assert_eq!(get(&store, "w", names::ACCESS_TOKEN).unwrap(), None);
    }

    #[test]
    fn parts_never_cut_a_character_in_two() {
        // 3-byte and 4-byte (surrogate pair) characters right at the limit.
        let value: String = "€😀".repeat(1500);
        let parts = pieces(&value, LIMIT);
        assert!(parts.iter().all(|p| utf16_len(p) <= LIMIT));
        assert_eq!(parts.concat(), value);
        let store = CredentialManagerLimit::default();
        let v = Sensitive::new(value);
        set(&store, LIMIT, "w", names::PASSWORD, &v).unwrap();
        assert_eq!(get(&store, "w", names::PASSWORD).unwrap(), Some(v));
    }

    #[test]
    fn a_missing_part_is_an_error_not_a_truncated_token() {
        let store = CredentialManagerLimit::default();
        set(
            &store,
            LIMIT,
            "w",
            names::ACCESS_TOKEN,
            &Sensitive::new(token(3000)),
        )
        .unwrap();
        let part = store
            .0
            .names("w")
            .into_iter()
            .find(|n| n.ends_with("~1"))
            .unwrap();
        store.0.delete("w", &part).unwrap();
        let e = get(&store, "w", names::ACCESS_TOKEN).unwrap_err();
        assert_eq!(e.kind(), "storage");
        assert!(
            e.to_string().contains("part 2 of 3")
                || format!("{:?}", e.detail()).contains("part 2 of 3")
        );
    }

    #[test]
    fn only_windows_splits() {
        if cfg!(windows) {
            assert_eq!(ENTRY_LIMIT, 1280);
        } else {
            assert_eq!(ENTRY_LIMIT, usize::MAX);
        }
    }
}
