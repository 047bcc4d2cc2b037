//! The leak check (issue 6's proof): after a flow that used known secrets, no file under the
//! test's HOME (app data, settings store, logs, caches, WebKit data) and no IPC answer the web
//! view received holds a secret, in clear or base64.

use std::path::{Path, PathBuf};

use base64::Engine;

use crate::driver::Res;

/// Every form a secret could be written in.
fn forms(secret: &str) -> Vec<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let mut out = vec![secret.as_bytes().to_vec()];
    for e in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        out.push(e.encode(secret).into_bytes());
    }
    out.dedup();
    out
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            files(&e.path(), out);
        } else if ft.is_file() {
            out.push(e.path());
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Fails with every place a secret was found. Returns how many files and answers were checked.
/// The app's log files under `home` (folders named `logs`) that hold its start-up line: the
/// leak check only means something if the logs it scans were written.
pub fn logs_written(home: &Path) -> Res<usize> {
    let mut all = Vec::new();
    files(home, &mut all);
    let n = all
        .iter()
        .filter(|p| {
            p.parent()
                .and_then(Path::file_name)
                .is_some_and(|d| d == "logs")
        })
        .filter(|p| std::fs::read(p).is_ok_and(|b| contains(&b, b"Invite Desk starting")))
        .count();
    if n == 0 {
        Err(format!(
            "no log file with the start-up line under {}",
            home.display()
        ))
    } else {
        Ok(n)
    }
}

pub fn check(home: &Path, secrets: &[String], ipc: &[String]) -> Res<(usize, usize)> {
    if secrets.iter().any(|s| s.len() < 12) {
        return Err("a secret under test is too short to search for reliably".into());
    }
    let mut all = Vec::new();
    files(home, &mut all);
    let mut hits = Vec::new();
    for path in &all {
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        for s in secrets {
            for f in forms(s) {
                if contains(&bytes, &f) {
                    hits.push(format!(
                        "{} holds a secret ({} bytes form)",
                        path.display(),
                        f.len()
                    ));
                }
            }
        }
    }
    for (i, answer) in ipc.iter().enumerate() {
        for s in secrets {
            for f in forms(s) {
                if contains(answer.as_bytes(), &f) {
                    hits.push(format!(
                        "IPC answer #{i} holds a secret: {}",
                        answer.chars().take(120).collect::<String>()
                    ));
                }
            }
        }
    }
    if hits.is_empty() {
        Ok((all.len(), ipc.len()))
    } else {
        Err(format!("secrets leaked:\n  {}", hits.join("\n  ")))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn finds_clear_and_base64_forms() {
        let dir = std::env::temp_dir().join(format!("leak-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        let secret = "sb_secret_unique_0123456789";
        std::fs::write(dir.join("a/b/clean.txt"), "nothing here").unwrap();
        assert!(check(&dir, &[secret.into()], &[]).is_ok());
        let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
        std::fs::write(dir.join("a/b/leak.txt"), format!("x{b64}y")).unwrap();
        assert!(check(&dir, &[secret.into()], &[]).is_err());
        std::fs::remove_file(dir.join("a/b/leak.txt")).unwrap();
        assert!(check(&dir, &[secret.into()], &[format!("{{\"k\":\"{secret}\"}}")]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
