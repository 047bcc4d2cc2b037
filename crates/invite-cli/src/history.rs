//! `history`: what was sent from this computer (by the window or the CLI), and its export.

use std::io::Write;

use invite_core::desk::{Desk, HistoryFilter, JobResult};

use crate::cli::HistoryArgs;
use crate::error::{CliError, CliResult};
use crate::output::{table, Done, Out};

/// Runs `history`.
pub fn run(desk: &Desk, out: &Out, args: HistoryArgs) -> CliResult<Done> {
    let workspace_id = match &args.workspace {
        Some(name) => Some(crate::desk::workspace(desk, name)?.id),
        None => None,
    };
    let result = match args.result.as_deref() {
        None => None,
        Some(word) => Some(JobResult::from_word(word).ok_or_else(|| {
            CliError::usage(format!(
                "--result {word:?}: use invited, linked, updated, already_member, failed, cancelled, waiting, paused or queued"
            ))
        })?),
    };
    let q = HistoryFilter {
        workspace_id,
        result,
        search: args.search.clone(),
        offset: 0,
        limit: Some(args.limit),
    };
    if let Some(path) = &args.export {
        let csv = desk.history_csv(&q)?;
        let rows = csv.lines().count().saturating_sub(1);
        if path.as_os_str() == "-" {
            std::io::stdout()
                .lock()
                .write_all(csv.as_bytes())
                .map_err(|e| CliError::file("standard output", e))?;
            return Ok(Done::All);
        }
        std::fs::write(path, csv.as_bytes()).map_err(|e| CliError::file(path, e))?;
        if out.json {
            out.json(&serde_json::json!({ "exported": path, "rows": rows }))?;
        } else {
            println!("Wrote {rows} rows to {}.", path.display());
        }
        return Ok(Done::All);
    }
    let page = desk.history(&q)?;
    if out.json {
        out.json(&page)?;
        return Ok(Done::All);
    }
    if page.rows.is_empty() {
        println!("Nothing was sent yet.");
        return Ok(Done::All);
    }
    let rows: Vec<Vec<String>> = page
        .rows
        .iter()
        .map(|r| {
            vec![
                r.at.get(..16).unwrap_or(&r.at).replace('T', " "),
                r.workspace_name.clone(),
                r.email.clone(),
                r.result.word().to_string(),
                r.detail.clone().unwrap_or_default(),
            ]
        })
        .collect();
    println!(
        "{}",
        table(&["QUEUED AT", "WORKSPACE", "EMAIL", "RESULT", "WHY"], &rows)
    );
    if page.total > page.rows.len() {
        println!(
            "{} of {} rows shown; --limit shows more, --export writes them all.",
            page.rows.len(),
            page.total
        );
    }
    Ok(Done::All)
}
