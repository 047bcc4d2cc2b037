//! Desktop notifications: "Invitations sent for Acme" when a batch finishes while the owner is
//! elsewhere. What to say, and when, is the core's ([`BatchSummary::completion_notice`]); this
//! only hands it to the OS.

use invite_core::desk::Desk;
use invite_core::outbox::BatchSummary;
use tauri::{AppHandle, Manager, Runtime};

/// Shows the notification for `batch` if it has just finished and the owner would want one.
pub fn batch_changed<R: Runtime>(app: &AppHandle<R>, desk: &Desk, batch: &str) {
    let watching = || {
        app.get_webview_window("main")
            .is_some_and(|w| w.is_focused().unwrap_or(false) && !w.is_minimized().unwrap_or(false))
    };
    if let Ok(Some((summary, notice))) = desk.finished_batch_notice(batch, watching) {
        show(app, &summary, notice);
    }
}

fn show<R: Runtime>(
    app: &AppHandle<R>,
    summary: &BatchSummary,
    notice: invite_core::outbox::Notice,
) {
    let product = app
        .config()
        .product_name
        .clone()
        .unwrap_or_else(|| "Invite Desk".into());
    #[cfg(any(target_os = "windows", target_os = "macos"))]
    let identifier = app.config().identifier.clone();
    let batch = summary.id.clone();
    // The D-Bus call blocks (up to its timeout when no notification server answers).
    tauri::async_runtime::spawn_blocking(move || {
        #[cfg(target_os = "macos")]
        let _ = notify_rust::set_application(&identifier);
        let mut n = notify_rust::Notification::new();
        n.appname(&product)
            .summary(&notice.title)
            .body(&notice.body);
        // Toasts need the installer's AppUserModelID; a dev build has none and uses the default.
        #[cfg(target_os = "windows")]
        if !cfg!(debug_assertions) {
            n.app_id(&identifier);
        }
        match n.show() {
            Ok(_) => tracing::info!(batch = %batch, "finished batch notified"),
            // A desktop without a notification server is normal: the app still shows the result.
            Err(e) => tracing::info!(batch = %batch, error = %e, "no desktop notification"),
        }
    });
}
