//! Searching, sorting and paging the invitation list, and marking pasted addresses that are
//! already members or already invited.
//!
//! The Invitations screen asks for one window of rows at a time, so it stays fast with 10,000
//! invitations: the work here is one pass to match and count, a sort of the matching indices,
//! and cloning only the rows on screen.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::model::{Invite, InviteStatus};
use crate::parse::{EntryStatus, ParseResult};

/// Rows per window when the caller does not say.
pub const DEFAULT_LIMIT: usize = 100;

/// How rows are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum SortOrder {
    /// Most recently sent first; never-sent (unknown date) last.
    #[default]
    NewestFirst,
    /// Oldest first; unknown dates last.
    OldestFirst,
    /// By address, A to Z (ignoring case).
    EmailAsc,
}

/// What the Invitations screen asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InviteFilter {
    /// Only this status (the tab); `None` for all.
    pub status: Option<InviteStatus>,
    /// Words that must all appear in the address or the name (ignoring case); empty for all.
    pub search: String,
    /// Order of the rows.
    pub sort: SortOrder,
    /// Index of the first row of the window.
    pub offset: usize,
    /// Rows in the window (0 returns only the counts).
    pub limit: usize,
}

impl Default for InviteFilter {
    fn default() -> Self {
        Self {
            status: None,
            search: String::new(),
            sort: SortOrder::default(),
            offset: 0,
            limit: DEFAULT_LIMIT,
        }
    }
}

/// How many invitations have each status, among those matching the search (whatever the
/// status tab), so every tab can show its count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct StatusCounts {
    /// Pending.
    pub pending: usize,
    /// Accepted.
    pub accepted: usize,
    /// Expired.
    pub expired: usize,
    /// Cancelled.
    pub cancelled: usize,
    /// All of them.
    pub all: usize,
}

/// One window of the filtered list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct FilteredInvites {
    /// The requested window only.
    pub rows: Vec<Invite>,
    /// How many invitations match the status and the search (for the pager).
    pub total_matching: usize,
    /// Counts per status among the search matches.
    pub counts: StatusCounts,
}

/// Filters, sorts and pages `invites`.
pub fn filter_invites(invites: &[Invite], query: &InviteFilter) -> FilteredInvites {
    let terms: Vec<Needle> = query.search.split_whitespace().map(Needle::new).collect();
    let mut counts = StatusCounts::default();
    let mut matching: Vec<usize> = Vec::new();
    for (i, invite) in invites.iter().enumerate() {
        if !terms.iter().all(|t| {
            t.found_in(&invite.email) || invite.name.as_deref().is_some_and(|n| t.found_in(n))
        }) {
            continue;
        }
        counts.all += 1;
        match invite.status {
            InviteStatus::Pending => counts.pending += 1,
            InviteStatus::Accepted => counts.accepted += 1,
            InviteStatus::Expired => counts.expired += 1,
            InviteStatus::Cancelled => counts.cancelled += 1,
        }
        if query.status.is_none_or(|s| s == invite.status) {
            matching.push(i);
        }
    }
    let total_matching = matching.len();
    // The index breaks ties, so the order is total and pages never overlap or skip a row.
    let by = |a: &usize, b: &usize| compare(&invites[*a], &invites[*b], query.sort).then(a.cmp(b));
    let start = query.offset.min(total_matching);
    let end = start.saturating_add(query.limit).min(total_matching);
    if end > start {
        // Only the window needs to be in order: move it to the front, then sort just that.
        if end < total_matching {
            matching.select_nth_unstable_by(end - 1, by);
            matching.truncate(end);
        }
        matching.sort_unstable_by(by);
    }
    let rows = if end > start {
        matching[start..end]
            .iter()
            .map(|&i| invites[i].clone())
            .collect()
    } else {
        Vec::new()
    };
    FilteredInvites {
        rows,
        total_matching,
        counts,
    }
}

fn compare(a: &Invite, b: &Invite, sort: SortOrder) -> Ordering {
    let by_email = || cmp_ignore_case(&a.email, &b.email).then_with(|| a.id.cmp(&b.id));
    match sort {
        SortOrder::NewestFirst => match (a.invited_at, b.invited_at) {
            (Some(x), Some(y)) => y.cmp(&x),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
        .then_with(by_email),
        SortOrder::OldestFirst => match (a.invited_at, b.invited_at) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
        .then_with(by_email),
        SortOrder::EmailAsc => by_email(),
    }
}

fn cmp_ignore_case(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// One search word, lower-cased once.
struct Needle {
    lower: String,
}

impl Needle {
    fn new(word: &str) -> Self {
        Self {
            lower: word.to_lowercase(),
        }
    }

    fn found_in(&self, hay: &str) -> bool {
        if self.lower.is_ascii() {
            let n = self.lower.as_bytes();
            hay.as_bytes()
                .windows(n.len())
                .any(|w| w.eq_ignore_ascii_case(n))
        } else {
            hay.to_lowercase().contains(&self.lower)
        }
    }
}

/// Tags the pasted addresses this workspace already knows: an accepted invitation makes the
/// address [`EntryStatus::AlreadyMember`], a pending or expired one
/// [`EntryStatus::AlreadyInvited`] (the owner resends those from the Invitations screen). A
/// cancelled invitation changes nothing: inviting again is what the owner wants.
pub fn mark_known(result: &mut ParseResult, existing: &[Invite]) {
    let mut known: HashMap<String, EntryStatus> = HashMap::with_capacity(existing.len());
    for invite in existing {
        let status = match invite.status {
            InviteStatus::Accepted => EntryStatus::AlreadyMember,
            InviteStatus::Pending | InviteStatus::Expired => EntryStatus::AlreadyInvited,
            InviteStatus::Cancelled => continue,
        };
        let key = invite.email.trim().to_lowercase();
        match known.get(&key) {
            Some(EntryStatus::AlreadyMember) => {}
            _ => {
                known.insert(key, status);
            }
        }
    }
    for entry in &mut result.entries {
        if entry.status != EntryStatus::Valid {
            continue;
        }
        if let Some(status) = entry
            .email
            .as_deref()
            .and_then(|e| known.get(&e.to_lowercase()))
        {
            entry.status = status.clone();
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::*;
    use crate::parse::parse_recipients;

    fn invite(i: i64, email: &str, status: InviteStatus, name: Option<&str>) -> Invite {
        Invite {
            id: format!("id-{i}"),
            email: email.to_string(),
            status,
            invited_at: (i >= 0)
                .then(|| Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::hours(i)),
            expires_at: None,
            accepted_at: None,
            name: name.map(str::to_string),
            message: None,
        }
    }

    fn sample() -> Vec<Invite> {
        use InviteStatus::*;
        vec![
            invite(3, "carol@example.com", Pending, Some("Carol Jones")),
            invite(1, "alice@example.com", Accepted, None),
            invite(5, "bob@acme.io", Expired, Some("Bob Smith")),
            invite(-1, "dave@acme.io", Pending, None),
            invite(4, "Erin@Example.com", Cancelled, Some("Erin")),
            invite(2, "frank@example.org", Pending, Some("Frank Müller")),
        ]
    }

    fn emails(f: &FilteredInvites) -> Vec<&str> {
        f.rows.iter().map(|r| r.email.as_str()).collect()
    }

    #[test]
    fn sorts_filters_and_counts() {
        let list = sample();
        let all = filter_invites(&list, &InviteFilter::default());
        assert_eq!(
            emails(&all),
            [
                "bob@acme.io",
                "Erin@Example.com",
                "carol@example.com",
                "frank@example.org",
                "alice@example.com",
                "dave@acme.io"
            ]
        );
        assert_eq!(all.total_matching, 6);
        assert_eq!(
            all.counts,
            StatusCounts {
                pending: 3,
                accepted: 1,
                expired: 1,
                cancelled: 1,
                all: 6
            }
        );

        let oldest = filter_invites(
            &list,
            &InviteFilter {
                sort: SortOrder::OldestFirst,
                ..Default::default()
            },
        );
        assert_eq!(emails(&oldest)[0], "alice@example.com");
        assert_eq!(emails(&oldest)[5], "dave@acme.io", "unknown dates last");
        let by_email = filter_invites(
            &list,
            &InviteFilter {
                sort: SortOrder::EmailAsc,
                ..Default::default()
            },
        );
        assert_eq!(
            emails(&by_email),
            [
                "alice@example.com",
                "bob@acme.io",
                "carol@example.com",
                "dave@acme.io",
                "Erin@Example.com",
                "frank@example.org"
            ]
        );

        let pending = filter_invites(
            &list,
            &InviteFilter {
                status: Some(InviteStatus::Pending),
                ..Default::default()
            },
        );
        assert_eq!(
            emails(&pending),
            ["carol@example.com", "frank@example.org", "dave@acme.io"]
        );
        assert_eq!(pending.total_matching, 3);
        assert_eq!(pending.counts.all, 6, "counts ignore the status tab");

        let search = filter_invites(
            &list,
            &InviteFilter {
                search: "  EXAMPLE ".into(),
                ..Default::default()
            },
        );
        assert_eq!(search.total_matching, 4);
        assert_eq!(
            search.counts,
            StatusCounts {
                pending: 2,
                accepted: 1,
                expired: 0,
                cancelled: 1,
                all: 4
            }
        );
        let by_name = filter_invites(
            &list,
            &InviteFilter {
                search: "smith acme".into(),
                ..Default::default()
            },
        );
        assert_eq!(emails(&by_name), ["bob@acme.io"]);
        let unicode = filter_invites(
            &list,
            &InviteFilter {
                search: "MÜLLER".into(),
                ..Default::default()
            },
        );
        assert_eq!(emails(&unicode), ["frank@example.org"]);
        let none = filter_invites(
            &list,
            &InviteFilter {
                search: "zzz".into(),
                ..Default::default()
            },
        );
        assert_eq!(
            (none.rows.len(), none.total_matching, none.counts.all),
            (0, 0, 0)
        );
    }

    #[test]
    fn pages_are_windows_of_the_sorted_list() {
        let list: Vec<Invite> = (0..250)
            .map(|i| {
                invite(
                    i,
                    &format!("user{i:03}@example.com"),
                    InviteStatus::Pending,
                    None,
                )
            })
            .collect();
        let full = filter_invites(
            &list,
            &InviteFilter {
                limit: 1000,
                ..Default::default()
            },
        );
        assert_eq!(full.rows.len(), 250);
        let mut paged = Vec::new();
        for page in 0..3 {
            let f = filter_invites(
                &list,
                &InviteFilter {
                    offset: page * 100,
                    limit: 100,
                    ..Default::default()
                },
            );
            assert_eq!(f.total_matching, 250);
            paged.extend(f.rows);
        }
        assert_eq!(paged, full.rows);
        assert_eq!(paged[0].email, "user249@example.com");
        let past_end = filter_invites(
            &list,
            &InviteFilter {
                offset: 999,
                ..Default::default()
            },
        );
        assert!(past_end.rows.is_empty());
        assert_eq!(past_end.total_matching, 250);
        let counts_only = filter_invites(
            &list,
            &InviteFilter {
                limit: 0,
                ..Default::default()
            },
        );
        assert!(counts_only.rows.is_empty());
        assert_eq!(counts_only.counts.pending, 250);
        let huge = filter_invites(
            &list,
            &InviteFilter {
                offset: usize::MAX,
                limit: usize::MAX,
                ..Default::default()
            },
        );
        assert!(huge.rows.is_empty());
    }

    #[test]
    fn filter_deserializes_with_defaults() {
        let f: InviteFilter =
            serde_json::from_value(serde_json::json!({"status": "pending", "sort": "emailAsc"}))
                .unwrap();
        assert_eq!(f.status, Some(InviteStatus::Pending));
        assert_eq!(f.sort, SortOrder::EmailAsc);
        assert_eq!(f.limit, DEFAULT_LIMIT);
    }

    #[test]
    fn known_addresses_are_marked() {
        use InviteStatus::*;
        let existing = vec![
            invite(1, "member@example.com", Accepted, None),
            invite(2, "pending@example.com", Pending, None),
            invite(3, "expired@example.com", Expired, None),
            invite(4, "cancelled@example.com", Cancelled, None),
            invite(5, "both@example.com", Accepted, None),
            invite(6, "both@example.com", Pending, None),
        ];
        let mut r = parse_recipients(
            "MEMBER@example.com, pending@EXAMPLE.com, expired@example.com, cancelled@example.com, both@example.com, new@example.com, member@example.com, broken@",
        );
        mark_known(&mut r, &existing);
        let statuses: Vec<EntryStatus> = r.entries.iter().map(|e| e.status.clone()).collect();
        assert_eq!(
            statuses,
            vec![
                EntryStatus::AlreadyMember,
                EntryStatus::AlreadyInvited,
                EntryStatus::AlreadyInvited,
                EntryStatus::Valid,
                EntryStatus::AlreadyMember,
                EntryStatus::Valid,
                EntryStatus::Duplicate { of: 0 },
                EntryStatus::Invalid {
                    reason: "nothing after the @".into()
                },
            ]
        );
        assert_eq!(
            r.valid_emails(),
            vec!["cancelled@example.com", "new@example.com"]
        );
        assert_eq!(r.counts().already_member, 2);
    }
}
