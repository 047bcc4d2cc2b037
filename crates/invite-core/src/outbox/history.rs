//! What was sent, to whom and with what result: the History screen and its CSV export.

use super::*;

/// What the History screen asks for; the CSV export takes the same filter (without paging).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HistoryQuery {
    /// One workspace, or every one.
    pub workspace_id: Option<String>,
    /// One [`Job::result`] word, or every result.
    pub result: Option<String>,
    /// Part of the address or of the workspace name, any case.
    pub search: Option<String>,
    /// Rows to skip.
    pub offset: usize,
    /// Rows to return (100 when not given).
    pub limit: Option<usize>,
}

/// One row of the history: one address of one batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryRow {
    /// The job.
    pub job_id: i64,
    /// When the owner clicked Invite.
    pub at: String,
    /// The workspace's id.
    pub workspace_id: String,
    /// The workspace's name at the time.
    pub workspace_name: String,
    /// The address.
    pub email: String,
    /// [`Job::result`].
    pub result: &'static str,
    /// The last error, in plain words.
    pub detail: Option<String>,
}

/// A page of history, newest batch first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryPage {
    /// The rows asked for.
    pub rows: Vec<HistoryRow>,
    /// Rows matching the filter in all.
    pub total: usize,
}

impl Outbox {
    /// Every history row matching `q` (paging ignored), newest batch first.
    fn history_rows(&self, q: &HistoryQuery) -> Result<Vec<HistoryRow>> {
        let given = |o: &Option<String>| {
            o.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let (ws, result) = (given(&q.workspace_id), given(&q.result));
        let needle = given(&q.search).map(|s| s.to_lowercase());
        let conn = self.lock()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {cols}, b.created_at, b.workspace_name FROM jobs j JOIN batches b ON b.id=j.batch_id
             WHERE (?1 IS NULL OR j.workspace_id=?1)
               AND (?2 IS NULL OR instr(lower(j.email), ?2) > 0 OR instr(lower(b.workspace_name), ?2) > 0)
             ORDER BY b.created_at DESC, j.id",
            cols = JOB_COLS.split(',').map(|c| format!("j.{}", c.trim())).collect::<Vec<_>>().join(", ")
        ))?;
        let rows = stmt.query_map(params![ws, needle], |r| {
            Ok((
                job_from_row(r)?,
                r.get::<_, String>(15)?,
                r.get::<_, String>(16)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (job, at, workspace_name) = row?;
            let word = job.result();
            if result.as_deref().is_some_and(|r| r != word) {
                continue;
            }
            out.push(HistoryRow {
                job_id: job.id,
                at,
                workspace_id: job.workspace_id,
                workspace_name,
                email: job.email,
                result: word,
                detail: job.last_error.map(|e| e.message),
            });
        }
        Ok(out)
    }

    /// What this app sent, to whom, when, from which workspace and with what result: one page.
    pub fn history(&self, q: &HistoryQuery) -> Result<HistoryPage> {
        let rows = self.history_rows(q)?;
        let total = rows.len();
        let rows = rows
            .into_iter()
            .skip(q.offset)
            .take(q.limit.unwrap_or(100))
            .collect();
        Ok(HistoryPage { rows, total })
    }

    /// The history matching `q` (every page) as CSV; cells that a spreadsheet would run as a
    /// formula are escaped.
    pub fn export_csv(&self, q: &HistoryQuery) -> Result<String> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let header = ["sent_at", "workspace", "email", "result", "error"];
        w.write_record(header).map_err(Error::storage)?;
        for r in self.history_rows(q)? {
            let cells = [
                r.at.as_str(),
                &r.workspace_name,
                &r.email,
                r.result,
                r.detail.as_deref().unwrap_or(""),
            ];
            w.write_record(cells.map(escape_cell))
                .map_err(Error::storage)?;
        }
        let bytes = w.into_inner().map_err(Error::storage)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// Spreadsheets run cells starting with these as formulas; a leading `'` makes them text.
pub fn escape_cell(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}
