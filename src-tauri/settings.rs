//! Settings on disk through tauri-plugin-store: the workspace list under one key, `"workspaces"`.
//! Secrets are never here (they live in the [`invite_core::secret::SecretStore`]).

use serde_json::Value;

/// The store key holding the versioned workspace list.
pub const WORKSPACES_KEY: &str = "workspaces";

/// A settings file: the plugin's store in the app, a map in tests.
pub trait SettingsFile: Send + Sync {
    /// The value under `key`.
    fn get(&self, key: &str) -> Option<Value>;
    /// Sets `key` and writes the file now (an owner who adds a workspace and quits keeps it).
    fn set(&self, key: &str, value: Value) -> Result<(), String>;
}

impl<R: tauri::Runtime> SettingsFile for tauri_plugin_store::Store<R> {
    fn get(&self, key: &str) -> Option<Value> {
        tauri_plugin_store::Store::get(self, key)
    }
    fn set(&self, key: &str, value: Value) -> Result<(), String> {
        tauri_plugin_store::Store::set(self, key, value);
        self.save().map_err(|e| e.to_string())
    }
}

/// In-memory settings, for tests.
#[derive(Debug, Default)]
pub struct MemorySettings(std::sync::Mutex<serde_json::Map<String, Value>>);

impl SettingsFile for MemorySettings {
    fn get(&self, key: &str) -> Option<Value> {
        self.0.lock().ok()?.get(key).cloned()
    }
    fn set(&self, key: &str, value: Value) -> Result<(), String> {
        self.0
            .lock()
            .map_err(|e| e.to_string())?
            .insert(key.to_string(), value);
        Ok(())
    }
}
