//! The settings file: the workspace list, owned by the core so that the window and the
//! command-line tool read and write it the same way.
//!
//! Why not the Tauri store plugin for this file: the plugin reads a damaged file as an empty
//! store and later writes that empty store back (the owner's workspaces, and with them the ids
//! that find their keys in the keychain, are gone); it writes in place (a crash mid-write leaves
//! half a file); and it caches the file per process, so a change made by the command-line tool
//! would be overwritten by the window. So the core reads, validates and writes `settings.json`
//! itself, in the plugin's format (one JSON object, the list under `"workspaces"`, other keys
//! kept as they are), and the plugin is left for what it still suits (preferences of the window
//! alone, none today).
//!
//! What holds:
//! - A file that is empty, truncated, not JSON, or not an object is never read as "no
//!   workspaces": it is kept under a dated name, the last good copy (`settings.json.bak`,
//!   written after every successful save) is put back, and a [`SettingsNotice`] says so.
//! - A list saved by a newer Invite Desk is left alone, and nothing is written over it.
//! - Every write is atomic (temporary file, fsync, rename) and re-reads the file first, so a
//!   change made meanwhile by the other process is kept.
//! - Workspaces read from the file are validated like typed ones (an address the form would
//!   refuse is reported, and no provider is ever built for it: see [`crate::connect`]).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::desk::files::{private_file, write_atomic};
use crate::error::{Error, Result};
use crate::workspace::{WorkspaceList, WORKSPACES_VERSION};

/// The key the workspace list is stored under.
pub const WORKSPACES_KEY: &str = "workspaces";

/// Something about the settings the owner must hear about (shown as a banner).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsNotice {
    /// What happened.
    pub kind: NoticeKind,
    /// One plain paragraph for the owner.
    pub message: String,
    /// Where the damaged file was kept, when it was.
    pub kept_copy: Option<String>,
}

/// What a [`SettingsNotice`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum NoticeKind {
    /// The file was damaged; the last good copy was put back.
    Restored,
    /// The file was damaged and there was no good copy: the list starts empty.
    Reset,
    /// The file was written by a newer Invite Desk; it is not changed.
    Newer,
    /// A saved workspace has settings the form would refuse; it is not used until fixed.
    InvalidWorkspace,
}

/// What reading the file found.
enum Read {
    Missing,
    Good(Map<String, Value>, WorkspaceList),
    Newer(Error),
    Damaged(String),
}

fn read(path: &Path) -> Read {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Read::Missing,
        Err(e) => return Read::Damaged(format!("it can't be opened ({e})")),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Read::Damaged("it is empty".into());
    }
    let doc = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Read::Damaged("it does not hold settings".into()),
        Err(e) if e.is_eof() => return Read::Damaged("it is cut short".into()),
        Err(_) => return Read::Damaged("it is not a settings file any more".into()),
    };
    let stored = doc.get(WORKSPACES_KEY).cloned().unwrap_or(Value::Null);
    let version = stored
        .get("version")
        .and_then(Value::as_u64)
        .unwrap_or_default();
    match WorkspaceList::from_json(stored) {
        Ok(list) => Read::Good(doc, list),
        Err(e) if version > u64::from(WORKSPACES_VERSION) => Read::Newer(e),
        Err(e) => Read::Damaged(e.detail().unwrap_or("it can't be read").to_string()),
    }
}

/// The settings file of one data folder. Cheap to share; every method is safe to call from
/// several threads, and from two processes (see the module docs).
#[derive(Debug)]
pub struct SettingsFile {
    path: PathBuf,
    backup: PathBuf,
    /// One writer at a time in this process; also guards `blocked` and `notices`.
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Set when the file must not be written (saved by a newer version).
    blocked: Option<String>,
    notices: Vec<SettingsNotice>,
}

impl SettingsFile {
    /// The file at `path` (its backup is `path` + `.bak`). Nothing is read yet: see [`Self::load`].
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let mut backup = path.clone().into_os_string();
        backup.push(".bak");
        Self {
            path,
            backup: PathBuf::from(backup),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the last good copy is.
    pub fn backup_path(&self) -> &Path {
        &self.backup
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>> {
        self.inner
            .lock()
            .map_err(|e| Error::storage(format!("lock poisoned: {e}")))
    }

    /// Reads the workspace list, repairing a damaged file first (see the module docs). Each
    /// repair adds a notice ([`Self::notices`]).
    pub fn load(&self) -> Result<WorkspaceList> {
        let mut inner = self.lock()?;
        let (_, list) = self.current(&mut inner)?;
        let mut invalid = Vec::new();
        for w in &list.workspaces {
            if let Err(e) = w.validate() {
                invalid.push(format!("“{}”: {e}", w.name));
            }
        }
        if !invalid.is_empty() {
            let message = format!(
                "Invite Desk will not use these saved workspaces until their settings are fixed \
                 in Workspaces: {}",
                invalid.join("; ")
            );
            if !inner.notices.iter().any(|n| n.message == message) {
                inner.notices.push(SettingsNotice {
                    kind: NoticeKind::InvalidWorkspace,
                    message,
                    kept_copy: None,
                });
            }
        }
        Ok(list)
    }

    /// What the owner should hear about the settings file since it was opened.
    pub fn notices(&self) -> Vec<SettingsNotice> {
        self.lock().map(|i| i.notices.clone()).unwrap_or_default()
    }

    /// Changes the list as saved now: re-reads the file (another process may have changed it),
    /// applies `f`, and writes the result atomically along with the backup. Nothing is written
    /// when `f` fails or the file belongs to a newer version. Returns the saved list and `f`'s
    /// answer.
    pub fn modify<T>(
        &self,
        f: impl FnOnce(&mut WorkspaceList) -> Result<T>,
    ) -> Result<(WorkspaceList, T)> {
        let mut inner = self.lock()?;
        let (mut doc, mut list) = self.current(&mut inner)?;
        let out = f(&mut list)?;
        doc.insert(WORKSPACES_KEY.into(), list.to_json());
        self.write(&doc)?;
        Ok((list, out))
    }

    /// The file as it is now, repaired if it has to be. Refused when it is from a newer version.
    fn current(&self, inner: &mut Inner) -> Result<(Map<String, Value>, WorkspaceList)> {
        if let Some(why) = &inner.blocked {
            return Err(Error::storage(why.clone()));
        }
        match read(&self.path) {
            Read::Good(doc, list) => Ok((doc, list)),
            Read::Missing => match read(&self.backup) {
                // The file is gone but a good copy is here: put it back rather than start empty.
                Read::Good(doc, list) => {
                    self.write(&doc)?;
                    tracing::warn!(path = %self.path.display(), "settings file missing, last good copy restored");
                    Ok((doc, list))
                }
                _ => Ok((Map::new(), WorkspaceList::default())),
            },
            Read::Newer(e) => {
                let why = e
                    .detail()
                    .unwrap_or("saved by a newer Invite Desk")
                    .to_string();
                inner.notices.push(SettingsNotice {
                    kind: NoticeKind::Newer,
                    message: format!(
                        "Your workspace list was saved by a newer version of Invite Desk, so \
                         this one leaves it unchanged. Update Invite Desk to use it. ({why})"
                    ),
                    kept_copy: None,
                });
                inner.blocked = Some(why);
                Err(e)
            }
            Read::Damaged(why) => {
                tracing::error!(path = %self.path.display(), %why, "settings file damaged");
                let kept = self.keep_aside()?;
                let kept_s = kept.display().to_string();
                match read(&self.backup) {
                    Read::Good(doc, list) => {
                        self.write(&doc)?;
                        inner.notices.push(SettingsNotice {
                            kind: NoticeKind::Restored,
                            message: format!(
                                "Your settings file could not be read ({why}), so Invite Desk put \
                                 back the last good copy: {} workspace(s), with their keys. The \
                                 damaged file is kept at {kept_s}.",
                                list.workspaces.len()
                            ),
                            kept_copy: Some(kept_s),
                        });
                        Ok((doc, list))
                    }
                    _ => {
                        inner.notices.push(SettingsNotice {
                            kind: NoticeKind::Reset,
                            message: format!(
                                "Your settings file could not be read ({why}) and there was no \
                                 earlier copy, so the workspace list starts empty. The damaged \
                                 file is kept at {kept_s}; add your workspaces again."
                            ),
                            kept_copy: Some(kept_s),
                        });
                        Ok((Map::new(), WorkspaceList::default()))
                    }
                }
            }
        }
    }

    /// Moves the damaged file aside under a dated name; returns where it went.
    fn keep_aside(&self) -> Result<PathBuf> {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "settings.json".into());
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let mut kept = dir.join(format!("{name}.damaged-{stamp}"));
        let mut n = 2;
        while kept.exists() {
            kept = dir.join(format!("{name}.damaged-{stamp}-{n}"));
            n += 1;
        }
        std::fs::rename(&self.path, &kept)
            .map_err(|e| Error::storage(format!("{}: {e}", self.path.display())))?;
        private_file(&kept)?;
        Ok(kept)
    }

    /// Writes the file, then the backup, both atomically.
    fn write(&self, doc: &Map<String, Value>) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(doc).map_err(Error::storage)?;
        write_atomic(&self.path, &bytes)?;
        write_atomic(&self.backup, &bytes)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::model::WorkspaceKind;
    use crate::workspace::Workspace;

    fn ws(id: &str, url: &str) -> Workspace {
        Workspace {
            id: id.into(),
            name: format!("Acme {id}"),
            base_url: url.into(),
            config: crate::workspace::WorkspaceConfig::default_for(WorkspaceKind::Supabase),
            demo: false,
        }
    }

    fn saved_two(dir: &Path) -> SettingsFile {
        let s = SettingsFile::new(dir.join("settings.json"));
        s.modify(|l| l.add(ws("id-1", "https://abcdefghijklmnopqrst.supabase.co")))
            .unwrap();
        s.modify(|l| l.add(ws("id-2", "https://bcdefghijklmnopqrstu.supabase.co")))
            .unwrap();
        s
    }

    fn ids(list: &WorkspaceList) -> Vec<&str> {
        list.workspaces.iter().map(|w| w.id.as_str()).collect()
    }

    /// Each kind of damage: the last good copy comes back with the same ids (the keychain
    /// entries are found by them), the damaged bytes are kept, and the owner is told.
    #[test]
    fn damaged_files_are_kept_and_the_last_good_copy_restored() {
        let full = {
            let dir = tempfile::tempdir().unwrap();
            saved_two(dir.path());
            std::fs::read(dir.path().join("settings.json")).unwrap()
        };
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("truncated", full[..full.len() / 2].to_vec()),
            ("empty", Vec::new()),
            (
                "random bytes",
                (0..600u32).map(|i| (i * 7919 % 251) as u8).collect(),
            ),
            ("a JSON array", b"[{\"id\":\"x\"}]".to_vec()),
        ];
        for (what, bytes) in cases {
            let dir = tempfile::tempdir().unwrap();
            saved_two(dir.path());
            let path = dir.path().join("settings.json");
            std::fs::write(&path, &bytes).unwrap();
            let s = SettingsFile::new(&path);
            let list = s.load().unwrap();
            assert_eq!(ids(&list), ["id-1", "id-2"], "{what}");
            let n = s.notices();
            assert_eq!(n.len(), 1, "{what}");
            assert_eq!(n[0].kind, NoticeKind::Restored, "{what}");
            let kept = PathBuf::from(n[0].kept_copy.clone().unwrap());
            assert_eq!(
                std::fs::read(&kept).unwrap(),
                bytes,
                "{what}: damaged bytes kept"
            );
            // The restored file is on disk again, so the next start reads it without notice.
            let again = SettingsFile::new(&path);
            assert_eq!(ids(&again.load().unwrap()), ["id-1", "id-2"], "{what}");
            assert!(again.notices().is_empty(), "{what}");
        }
    }

    #[test]
    fn without_a_good_copy_the_damaged_file_is_still_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, b"{\"workspaces\": {\"version\": 1, \"workspa").unwrap();
        let s = SettingsFile::new(&path);
        assert!(s.load().unwrap().workspaces.is_empty());
        let n = s.notices();
        assert_eq!(n[0].kind, NoticeKind::Reset);
        let kept = n[0].kept_copy.clone().unwrap();
        assert!(std::fs::read_to_string(kept).unwrap().contains("workspa"));
        // Saving now writes a fresh file; the damaged one stays where it was kept.
        s.modify(|l| l.add(ws("id-3", "https://abcdefghijklmnopqrst.supabase.co")))
            .unwrap();
        assert_eq!(ids(&SettingsFile::new(&path).load().unwrap()), ["id-3"]);
    }

    #[test]
    fn a_newer_file_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let newer = br#"{"workspaces": {"version": 99, "workspaces": [{"future": true}]}}"#;
        std::fs::write(&path, newer).unwrap();
        let s = SettingsFile::new(&path);
        assert_eq!(s.load().unwrap_err().kind(), "storage");
        assert_eq!(s.notices()[0].kind, NoticeKind::Newer);
        assert!(s
            .modify(|l| l.add(ws("x", "https://abcdefghijklmnopqrst.supabase.co")))
            .is_err());
        assert_eq!(std::fs::read(&path).unwrap(), newer);
    }

    /// Two writers (the window and the command-line tool) each re-read before they change.
    #[test]
    fn a_change_by_the_other_process_is_kept_and_other_keys_survive() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, br#"{"theme": "dark"}"#).unwrap();
        let window = SettingsFile::new(&path);
        let cli = SettingsFile::new(&path);
        window.load().unwrap();
        cli.modify(|l| l.add(ws("from-cli", "https://abcdefghijklmnopqrst.supabase.co")))
            .unwrap();
        window
            .modify(|l| {
                l.add(ws(
                    "from-window",
                    "https://bcdefghijklmnopqrstu.supabase.co",
                ))
            })
            .unwrap();
        let list = SettingsFile::new(&path).load().unwrap();
        assert_eq!(ids(&list), ["from-cli", "from-window"]);
        let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(doc["theme"], "dark");
    }

    /// An address edited by hand to plain http on a public host is reported, never used.
    #[test]
    fn hand_edited_workspaces_are_validated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let mut bad = ws("id-1", "https://abcdefghijklmnopqrst.supabase.co");
        bad.base_url = "http://evil.example.com".into();
        let doc = serde_json::json!({ "workspaces": { "version": 1, "workspaces": [bad] } });
        std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
        let s = SettingsFile::new(&path);
        let list = s.load().unwrap();
        // Listed (its id still finds its keys) but reported, and no provider is built for it.
        assert_eq!(ids(&list), ["id-1"]);
        assert_eq!(s.notices()[0].kind, NoticeKind::InvalidWorkspace);
        let http = crate::http::Http::new().unwrap();
        let store = std::sync::Arc::new(crate::secret::MemoryStore::new());
        let e = crate::connect::provider_for(http, &list.workspaces[0], store).unwrap_err();
        assert_eq!(e.kind(), "invalid_url");
    }
}
