//! The Tauri shell: thin commands over `invite-core`.

#[allow(clippy::expect_used)] // start-up: without a context there is no app to show an error in
pub fn run() {
    tauri::Builder::default()
        .plugin(tauri_plugin_store::Builder::new().build())
        .run(tauri::generate_context!())
        .expect("error while running Invite Desk");
}
