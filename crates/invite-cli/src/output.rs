//! How results reach the terminal: text for people, one JSON document for scripts, and the
//! exit code.

use std::io::{IsTerminal, Write};

use serde::Serialize;

use crate::error::{CliError, CliResult};

/// How a command that ran ended; errors are the third way (exit code 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    /// Everything asked for is done (exit code 0).
    All,
    /// Some addresses failed, wait or are paused (exit code 1).
    Partly,
}

impl Done {
    /// `All` when `ok`.
    pub fn when(ok: bool) -> Done {
        if ok {
            Done::All
        } else {
            Done::Partly
        }
    }

    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Done::All => 0,
            Done::Partly => 1,
        }
    }
}

/// Exit code of a command that did nothing (usage, connection, keychain, data folder).
pub const EXIT_ERROR: u8 = 2;

/// Where and how to print.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    /// One JSON document on stdout instead of text.
    pub json: bool,
    /// Show the server's own words behind errors.
    pub verbose: bool,
}

impl Out {
    /// Prints `value` as the command's JSON document.
    pub fn json<T: Serialize>(&self, value: &T) -> CliResult<()> {
        let text = serde_json::to_string_pretty(value).map_err(invite_core::Error::storage)?;
        println!("{text}");
        Ok(())
    }

    /// A progress bar belongs on stderr when it is a terminal and no JSON is asked for.
    pub fn interactive(&self) -> bool {
        !self.json && std::io::stderr().is_terminal()
    }

    /// Prints the error the way the output mode asks (JSON on stdout, or text on stderr).
    pub fn error(&self, e: &CliError) {
        if self.json {
            let doc = serde_json::json!({ "error": crate::error::to_json(e, self.verbose) });
            println!("{doc:#}");
            return;
        }
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "error: {e}");
        match e.detail() {
            Some(d) if self.verbose => {
                let _ = writeln!(err, "  the server said: {d}");
            }
            Some(_) => {
                let _ = writeln!(err, "  (--verbose shows the server's own words)");
            }
            None => {}
        }
    }

    /// The error words of a job or address: the message, and the server's words with --verbose.
    pub fn reason(&self, message: &str, detail: Option<&str>) -> String {
        match detail {
            Some(d) if self.verbose && !d.is_empty() => format!("{message} (server: {d})"),
            _ => message.to_string(),
        }
    }
}

/// A plain table: columns padded to the widest cell, no borders (easy to `grep` and `cut`).
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                let pad = widths[i].saturating_sub(cell.chars().count());
                s.push_str(cell);
                s.push_str(&" ".repeat(pad + 2));
            }
        }
        s.trim_end().to_string()
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push('\n');
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// "1 invitation", "3 invitations".
pub fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn tables_pad_columns_and_trim_line_ends() {
        let t = table(
            &["NAME", "KIND"],
            &[
                vec!["Acme".into(), "Supabase".into()],
                vec!["B".into(), "".into()],
            ],
        );
        assert_eq!(t, "NAME  KIND\nAcme  Supabase\nB");
    }

    #[test]
    fn exit_codes_are_distinct() {
        assert_eq!(Done::All.code(), 0);
        assert_eq!(Done::Partly.code(), 1);
        assert_eq!(EXIT_ERROR, 2);
    }
}
