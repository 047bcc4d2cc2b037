//! Filtering, sorting and paging a 10,000-invitation list, as the Invitations screen does on
//! every keystroke in the search box.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use chrono::{Duration, TimeZone, Utc};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use invite_core::filter::{filter_invites, mark_known, InviteFilter, SortOrder};
use invite_core::model::{Invite, InviteStatus};
use invite_core::parse::parse_recipients;

fn invites(n: usize) -> Vec<Invite> {
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    (0..n)
        .map(|i| Invite {
            id: format!("id-{i}"),
            email: format!(
                "person{:05}@{}.com",
                (i * 7919) % n,
                ["example", "acme", "globex"][i % 3]
            ),
            status: [
                InviteStatus::Pending,
                InviteStatus::Accepted,
                InviteStatus::Expired,
                InviteStatus::Cancelled,
            ][i % 4],
            invited_at: Some(start + Duration::minutes(((i * 104_729) % 500_000) as i64)),
            expires_at: None,
            accepted_at: None,
            name: (i % 2 == 0).then(|| format!("Person {i}")),
            message: None,
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let list = invites(10_000);
    let mut group = c.benchmark_group("filter_10k");
    let first_page = InviteFilter::default();
    assert_eq!(filter_invites(&list, &first_page).rows.len(), 100);
    group.bench_function("all_newest_first_page", |b| {
        b.iter(|| filter_invites(black_box(&list), &first_page))
    });
    let pending_search = InviteFilter {
        status: Some(InviteStatus::Pending),
        search: "acme".into(),
        ..Default::default()
    };
    assert!(filter_invites(&list, &pending_search).total_matching > 100);
    group.bench_function("pending_search_acme", |b| {
        b.iter(|| filter_invites(black_box(&list), &pending_search))
    });
    let by_email_last_page = InviteFilter {
        sort: SortOrder::EmailAsc,
        offset: 9_900,
        limit: 100,
        ..Default::default()
    };
    group.bench_function("email_sort_last_page", |b| {
        b.iter(|| filter_invites(black_box(&list), &by_email_last_page))
    });
    let no_match = InviteFilter {
        search: "zzzz".into(),
        ..Default::default()
    };
    group.bench_function("search_no_match", |b| {
        b.iter(|| filter_invites(black_box(&list), &no_match))
    });
    let paste: String = (0..1_000)
        .map(|i| format!("person{i:05}@example.com\n"))
        .collect();
    let parsed = parse_recipients(&paste);
    group.bench_function("mark_known_1k_paste", |b| {
        b.iter(|| {
            let mut r = parsed.clone();
            mark_known(&mut r, black_box(&list));
            r
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
