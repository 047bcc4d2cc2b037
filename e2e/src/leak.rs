//! The leak check (issue 6's proof): after a flow that used known secrets, no file under the
//! test's HOME (app data, settings store, logs, caches, WebKit data, the app's captured stdout
//! and stderr), no file written during the run under /tmp or `$XDG_RUNTIME_DIR`, and no IPC
//! answer the web view received holds a secret, in clear, base64, URL-encoded or JSON-escaped.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use base64::Engine;

use crate::driver::Res;

/// Every form a secret could be written in: as is, base64 (standard and URL-safe, with and
/// without padding), percent-encoded (upper and lower hex, `+` for space as forms do) and
/// JSON-escaped (with and without `\/`).
fn forms(secret: &str) -> Vec<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let mut out = vec![secret.as_bytes().to_vec()];
    for e in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        out.push(e.encode(secret).into_bytes());
    }
    for upper in [true, false] {
        for plus in [false, true] {
            out.push(percent_encode(secret, upper, plus).into_bytes());
        }
    }
    let json = serde_json::to_string(secret).unwrap_or_default();
    let json = json.trim_matches('"').to_string();
    out.push(json.replace('/', "\\/").into_bytes());
    out.push(json.into_bytes());
    out.sort();
    out.dedup();
    out
}

fn percent_encode(s: &str, upper: bool, plus_for_space: bool) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else if b == b' ' && plus_for_space {
            out.push('+');
        } else if upper {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    files_since(dir, None, &[], out);
}

/// Regular files under `dir` (modified at or after `since`, when given), skipping `skip` trees.
fn files_since(dir: &Path, since: Option<SystemTime>, skip: &[PathBuf], out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let path = e.path();
        if skip.iter().any(|s| path.starts_with(s)) {
            continue;
        }
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            files_since(&path, since, skip, out);
        } else if ft.is_file() {
            let fresh = match since {
                None => true,
                Some(t) => e
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|m| m >= t),
            };
            // Bigger files than any the app writes are someone else's (the machine is shared).
            let small = e.metadata().is_ok_and(|m| m.len() <= 64 << 20);
            if fresh && small {
                out.push(path);
            }
        }
    }
}

/// Where, besides HOME, the app may write during a run: /tmp (or `$TMPDIR`) and
/// `$XDG_RUNTIME_DIR`. Only files written since `since` are read; others are not this run's.
#[derive(Debug, Clone)]
pub struct Scope {
    pub home: PathBuf,
    pub since: SystemTime,
}

impl Scope {
    fn all_files(&self) -> Vec<PathBuf> {
        let mut all = Vec::new();
        files(&self.home, &mut all);
        let mut extra: Vec<PathBuf> = vec![PathBuf::from("/tmp")];
        for var in ["TMPDIR", "XDG_RUNTIME_DIR"] {
            if let Some(d) = std::env::var_os(var).filter(|d| !d.is_empty()) {
                extra.push(PathBuf::from(d));
            }
        }
        extra.sort();
        extra.dedup();
        // Not the checkout the tests run from (a clone under /tmp, say): the release build
        // writes its own files there during the run, hundreds of megabytes the app never wrote.
        let mut skip = vec![self.home.clone()];
        skip.extend(std::env::current_dir().ok());
        for dir in extra {
            if dir.starts_with(&self.home) {
                continue;
            }
            files_since(&dir, Some(self.since), &skip, &mut all);
        }
        all
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

pub fn check(scope: &Scope, secrets: &[String], ipc: &[String]) -> Res<(usize, usize)> {
    if secrets.is_empty() {
        return Err("no secret to search for".into());
    }
    if secrets.iter().any(|s| s.len() < 12) {
        return Err("a secret under test is too short to search for reliably".into());
    }
    // Without answers the IPC half of the check would pass by looking at nothing.
    if ipc.is_empty() {
        return Err("no IPC answer was recorded (INVITE_DESK_RECORD_IPC)".into());
    }
    let all = scope.all_files();
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

    fn scope(home: &Path) -> Scope {
        Scope {
            home: home.to_path_buf(),
            since: SystemTime::now() - std::time::Duration::from_secs(1),
        }
    }

    #[test]
    fn finds_every_form_in_home_tmp_and_ipc() {
        let dir = std::env::temp_dir().join(format!("leak-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        let scope = scope(&dir);
        let secret = "sb_secret_unique_0123456789";
        let ipc = vec!["{\"ok\":true}".to_string()];
        std::fs::write(dir.join("a/b/clean.txt"), "nothing here").unwrap();
        assert!(check(&scope, &[secret.into()], &ipc).is_ok());
        // No answer recorded: the check refuses to pass.
        assert!(check(&scope, &[secret.into()], &[]).is_err());
        let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
        std::fs::write(dir.join("a/b/leak.txt"), format!("x{b64}y")).unwrap();
        assert!(check(&scope, &[secret.into()], &ipc).is_err());
        std::fs::remove_file(dir.join("a/b/leak.txt")).unwrap();
        assert!(check(
            &scope,
            &[secret.into()],
            &[format!("{{\"k\":\"{secret}\"}}")]
        )
        .is_err());

        // A secret with characters that encoders change: each encoded form is found.
        let odd = "pa\"ss/w0rd with space&more";
        for form in [
            "pa%22ss%2Fw0rd%20with%20space%26more",
            "pa%22ss%2fw0rd+with+space%26more",
            "pa\\\"ss/w0rd with space&more",
            "pa\\\"ss\\/w0rd with space&more",
        ] {
            std::fs::write(dir.join("a/leak.txt"), form).unwrap();
            assert!(
                check(&scope, &[odd.into()], &ipc).is_err(),
                "{form} not found"
            );
        }
        std::fs::remove_file(dir.join("a/leak.txt")).unwrap();
        assert!(check(&scope, &[odd.into()], &ipc).is_ok());

        // A file written under /tmp during the run, outside HOME, is searched too.
        let outside =
            std::env::temp_dir().join(format!("leak-test-out-{}.txt", std::process::id()));
        std::fs::write(&outside, format!("--{secret}--")).unwrap();
        let found = check(&scope, &[secret.into()], &ipc);
        std::fs::remove_file(&outside).unwrap();
        assert!(found.unwrap_err().contains("leak-test-out-"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
