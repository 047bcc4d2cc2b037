//! Parsing a 100,000-line paste (the target is under 100 ms) and a 100,000-row CSV file.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use invite_core::parse::{parse_csv, parse_recipients};

/// A paste mixing the shapes owners paste: bare addresses, `Name <address>`, quoted
/// `"Last, First" <address>`, mailto: links, plus tags, IDN domains, invalid pieces and repeats.
fn paste(lines: usize) -> String {
    let mut s = String::with_capacity(lines * 40);
    for i in 0..lines {
        match i % 10 {
            0..=3 => s.push_str(&format!("user{i}@example.com")),
            4 => s.push_str(&format!("Jane Doe {i} <jane.doe{i}@Example.ORG>")),
            5 => s.push_str(&format!(
                "\"Doe, John {i}\" <john{i}@example.net>; bob{i}@example.io"
            )),
            6 => s.push_str(&format!("mailto:person{i}+invites@example.com?subject=hi")),
            7 => s.push_str(&format!("jörg{i}@bücher.de")),
            8 => s.push_str(&format!("broken{i}.example.com")),
            _ => s.push_str(&format!("USER{}@EXAMPLE.COM", i - 9)),
        }
        s.push('\n');
    }
    s
}

fn csv_file(rows: usize) -> Vec<u8> {
    let mut s = String::from("\u{feff}Name;Email;Team\r\n");
    for i in 0..rows {
        s.push_str(&format!("\"Doe, Jane {i}\";jane{i}@example.com;Sales\r\n"));
    }
    s.into_bytes()
}

fn bench(c: &mut Criterion) {
    let text = paste(100_000);
    let result = parse_recipients(&text);
    let counts = result.counts();
    assert_eq!(result.entries.len(), 110_000);
    assert_eq!(counts.duplicate, 10_000);
    assert_eq!(counts.invalid, 10_000);
    let mut group = c.benchmark_group("parse");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(text.len() as u64));
    // Parsing alone: the result is dropped outside the timed loop, as the app drops it only
    // after sending it to the window.
    group.bench_function("paste_100k_lines", |b| {
        b.iter_with_large_drop(|| parse_recipients(black_box(&text)))
    });
    // The same with freeing the previous result inside the loop (glibc's allocator then spends
    // much of the time consolidating the 200,000 freed strings).
    group.bench_function("paste_100k_lines_including_drop", |b| {
        b.iter(|| parse_recipients(black_box(&text)))
    });
    let file = csv_file(100_000);
    assert_eq!(parse_csv(&file).counts().valid, 100_000);
    group.throughput(Throughput::Bytes(file.len() as u64));
    group.bench_function("csv_100k_rows", |b| {
        b.iter_with_large_drop(|| parse_csv(black_box(&file)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
