//! The result as it is built: entries in order, and repeats found without copying each address.

use std::collections::hash_map::Entry as Entry_;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::*;

#[derive(Default)]
pub(super) struct Builder {
    pub(super) entries: Vec<Entry>,
    pub(super) seen: Seen,
}

/// Addresses seen so far, ignoring case, without a lower-cased copy of each: a hash of the
/// case-folded address points at its first entry; the rare different address with the same
/// hash goes to `overflow`, keyed by the folded text.
#[derive(Default)]
pub(super) struct Seen {
    pub(super) first: HashMap<u64, usize, BuildHasherDefault<PreHashed>>,
    pub(super) overflow: HashMap<String, usize>,
}

/// The keys of `Seen::first` are hashes already: use them as they are.
#[derive(Default)]
pub(super) struct PreHashed(u64);

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
    pub(super) fn with_capacity(n: usize) -> Self {
        Self {
            first: HashMap::with_capacity_and_hasher(n, BuildHasherDefault::default()),
            overflow: HashMap::new(),
        }
    }

    /// The index of the first entry with this address, or `None` after recording `index` as it.
    pub(super) fn first_index(
        &mut self,
        email: &str,
        index: usize,
        entries: &[Entry],
    ) -> Option<usize> {
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

pub(super) fn fold(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase()
    }
}

pub(super) fn same_ignoring_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        fold(a) == fold(b)
    }
}

/// A hash of the lower-cased address: eight bytes per step for ASCII (all but a few
/// addresses), FNV-1a over the lower-cased characters otherwise.
pub(super) fn fold_hash(s: &str) -> u64 {
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
    pub(super) fn with_capacity(text: &str) -> Self {
        // About one entry per '@'; capped so a pathological paste can't reserve gigabytes.
        let guess = text.bytes().filter(|&b| b == b'@').count().min(200_000);
        Self {
            entries: Vec::with_capacity(guess),
            seen: Seen::with_capacity(guess),
        }
    }

    pub(super) fn finish(self) -> ParseResult {
        ParseResult {
            entries: self.entries,
        }
    }

    pub(super) fn push_invalid(&mut self, input: String, name: Option<String>, reason: &str) {
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
    pub(super) fn push_address(&mut self, input: &str, candidate: &str, name: Option<String>) {
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
