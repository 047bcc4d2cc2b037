//! The shell's commands through Tauri's IPC, with `tauri::test::mock_builder()` (no display):
//! every command's argument checks answer with a clear error and never panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use invite_core::secret::{MemoryStore, SecretStore};
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{
    get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY,
};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindow;

use crate::state::AppConfig;

mod demo;
mod invitations;
mod storage;
mod workspaces;

pub(crate) struct TestApp {
    _app: tauri::App<MockRuntime>,
    pub webview: WebviewWindow<MockRuntime>,
    pub secrets: MemoryStore,
    pub dir: tempfile::TempDir,
}

pub(crate) fn app() -> TestApp {
    let secrets = MemoryStore::new();
    app_with(secrets.clone(), Arc::new(secrets))
}

/// An app whose secrets go to `store` (`secrets` is what the test reads back, when it can).
pub(crate) fn app_with(secrets: MemoryStore, store: Arc<dyn SecretStore>) -> TestApp {
    app_at(tempfile::tempdir().unwrap(), secrets, store)
}

/// An app on an existing data folder (as a restart finds it).
pub(crate) fn app_at(
    dir: tempfile::TempDir,
    secrets: MemoryStore,
    store: Arc<dyn SecretStore>,
) -> TestApp {
    let config = AppConfig {
        data_dir: Some(dir.path().to_path_buf()),
        theme: None,
        record_ipc: false,
        secrets: Some(store),
    };
    let app = crate::build(mock_builder(), config.clone())
        .build(mock_context(noop_assets()))
        .unwrap();
    crate::init_state(app.handle(), &config).unwrap();
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    TestApp {
        _app: app,
        webview,
        secrets,
        dir,
    }
}

impl TestApp {
    /// Calls a command as the web view does; `Err` holds the error value.
    pub fn call(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        let req = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        get_ipc_response(&self.webview, req).map(|b| b.deserialize::<Value>().unwrap())
    }

    /// Calls a command that must fail with our error shape; returns its kind.
    pub fn kind_of(&self, cmd: &str, args: Value) -> String {
        let e = self.call(cmd, args).expect_err(cmd);
        assert!(
            e["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{cmd}: no message in {e}"
        );
        e["kind"]
            .as_str()
            .unwrap_or_else(|| panic!("{cmd}: not our error shape: {e}"))
            .to_string()
    }
}

fn draft(kind: &str, url: &str) -> Value {
    json!({"name": "Acme", "kind": kind, "baseUrl": url, "options": {}})
}

/// Lists a workspace directly, as a save in an earlier run left it.
fn saved_workspace(t: &TestApp, id: &str) {
    use invite_core::model::WorkspaceKind;
    use invite_core::workspace::Workspace;
    use tauri::Manager;
    let state = t.webview.state::<crate::state::AppState>();
    state
        .desk
        .edit_workspaces(|list| {
            list.add(Workspace {
                id: id.into(),
                name: format!("Acme {id}"),
                base_url: "https://abc.supabase.co".into(),
                config: invite_core::workspace::WorkspaceConfig::default_for(
                    WorkspaceKind::Supabase,
                ),
                demo: false,
            })
        })
        .unwrap();
}

fn listed(t: &TestApp) -> Vec<String> {
    let r = t.call("list_workspaces", json!({})).unwrap();
    r["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap().to_string())
        .collect()
}

/// An outbox file whose format version is beyond this build's: one written by this build, with
/// the version in its header (`user_version`, bytes 60..64, big-endian) raised as a newer
/// build's migration would.
fn newer_outbox(path: &std::path::Path) {
    drop(invite_core::outbox::Outbox::open(path).unwrap());
    let mut bytes = std::fs::read(path).unwrap();
    bytes[60..64].copy_from_slice(&999u32.to_be_bytes());
    std::fs::write(path, bytes).unwrap();
}

/// Sends one raw HTTP/1.1 request to `addr` and returns the status (0 when nothing answers).
fn raw_status(addr: &str, method: &str, path: &str, headers: &str, body: &str) -> u16 {
    use std::io::{Read, Write};
    let Ok(mut c) = std::net::TcpStream::connect(addr) else {
        return 0;
    };
    c.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if c.write_all(req.as_bytes()).is_err() {
        return 0;
    }
    let mut out = String::new();
    let _ = c.read_to_string(&mut out);
    out.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}
