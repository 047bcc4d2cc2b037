//! Desktop manners: clipboard, window size and place, notifications, files.

use super::*;

/// Reads the X clipboard as another program would (xclip, under the test's Xvfb).
pub(super) fn read_clipboard() -> Res<String> {
    let out = std::process::Command::new("xclip")
        .args(["-o", "-selection", "clipboard"])
        .output()
        .ctx("running xclip (scripts/install-deps.sh installs it)")?;
    if !out.status.success() {
        return Err(format!(
            "xclip could not read the clipboard: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The window's outer size as the page sees it.
pub(super) async fn window_size(s: &Session) -> Res<(u64, u64)> {
    let v = s
        .js("return [window.outerWidth, window.outerHeight]")
        .await?;
    Ok((
        v[0].as_u64().unwrap_or_default(),
        v[1].as_u64().unwrap_or_default(),
    ))
}

/// The app behaves like a desktop app: its size is remembered across a restart, a second launch
/// hands over to the running window and exits, "Copy link" puts a working link on the system
/// clipboard, an export goes through the Save dialog (answered by the debug-build seam, as a
/// native dialog can't be driven through WebDriver) and "Show in folder" asks the desktop's file
/// manager to reveal the file, a UTF-16 "Unicode Text" file imports with its accents, and an
/// error's next step speaks of the workspace's own service.
pub async fn desktop(env: &Env) -> Res<()> {
    let revealed = crate::filemanager::serve()?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .ctx("http client")?;
    let data = env.home.join("invite-desk-e2e").join("desktop");

    // 0. Opened the moment a copy on the same folder was closing: that copy holds the
    // single-instance lock and leaves without taking the hand-over. The new launch starts anyway.
    let stderr_log = env.home.join("app-output/stderr.log");
    let relaunches = || {
        std::fs::read_to_string(&stderr_log)
            .unwrap_or_default()
            .matches("the copy that was open was closing; starting again")
            .count()
    };
    let relaunched_before = relaunches();
    let closing = crate::lockholder::hold_closing(&data)?;
    let (driver, s) = open(env, "desktop", &[]).await?;
    if closing.count() != 1 || relaunches() != relaunched_before + 1 {
        return Err(format!(
            "opened beside a closing copy: it was asked to take over {} times and the app said it started again {} times (want 1 and 1)",
            closing.count(),
            relaunches() - relaunched_before
        ));
    }

    // 1. Size remembered: resize, and the saved state follows without waiting for an exit.
    s.client
        .set_window_size(900, 640)
        .await
        .ctx("resizing the window")?;
    let state_file = data.join("window-state.json");
    let mut saved = Value::Null;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if let Ok(text) = std::fs::read_to_string(&state_file) {
            saved = serde_json::from_str(&text).unwrap_or(Value::Null);
            if saved["main"]["width"].as_u64() == Some(900) {
                break;
            }
        }
    }
    if saved["main"]["width"].as_u64() != Some(900) || saved["main"]["height"].as_u64() != Some(640)
    {
        return Err(format!(
            "after resizing to 900×640 the window state file holds {saved}"
        ));
    }
    let before = window_size(&s).await?;
    s.close().await?;
    drop(driver);
    let (driver, s) = reopen(env, "desktop").await?;
    let after = window_size(&s).await?;
    s.shot("desktop-size-remembered").await?;
    if after != before || after.0 == 1100 {
        return Err(format!(
            "the window was {before:?} before the restart and {after:?} after"
        ));
    }

    // 2. A second launch on the same session hands over and exits; the first window is brought
    // to the front and keeps working.
    let mut second = std::process::Command::new(&env.app)
        .env("INVITE_DESK_DATA_DIR", &data)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ctx("starting a second copy")?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(st) = second.try_wait().ctx("waiting for the second copy")? {
            break st;
        }
        if std::time::Instant::now() > deadline {
            let _ = second.kill();
            let _ = second.wait();
            return Err("a second launch was still running after 20 s (two copies open)".into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    if !status.success() {
        return Err(format!("the second launch ended with {status}"));
    }
    let logs = data.join("logs");
    let mut handed_over = false;
    for _ in 0..50 {
        let text: String = std::fs::read_dir(&logs)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .collect();
        if text.contains("second launch: bringing the window to the front") {
            handed_over = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    if !handed_over {
        return Err("the running copy never heard of the second launch".into());
    }
    s.wait_js(
        "return document.hasFocus() && document.visibilityState === 'visible'",
        5,
    )
    .await
    .map_err(|e| format!("the window is not in front after a second launch: {e}"))?;

    // 3. Copy link: Rust fetches the link and writes the clipboard; another program reads it
    // and the server accepts it.
    s.wait_visible("#view-empty", 5).await?;
    s.click("#empty-demo").await?;
    s.wait_visible("#invite-title", 20).await?;
    // At 900 px the header keeps the workspace picker whole, inside the window.
    s.wait_visible("#workspace-select", 5).await?;
    let fits = s
        .js("const h = document.querySelector('.app-header'); const p = document.getElementById('workspace-select').getBoundingClientRect(); \
             const tabs = [...document.querySelectorAll('.nav-tab')].map(t => t.getBoundingClientRect()); \
             return [window.innerWidth, h.scrollWidth <= h.clientWidth, p.left >= 0 && p.right <= window.innerWidth && p.width >= 120, \
                     tabs.every(t => t.right <= p.left || t.top >= p.bottom || t.bottom <= p.top)]")
        .await?;
    s.shot("desktop-header-900").await?;
    if fits[0].as_u64().is_none_or(|w| w > 900)
        || fits[1] != true
        || fits[2] != true
        || fits[3] != true
    {
        return Err(format!(
            "at 900 px the header clips or overlaps the workspace picker: [width, no overflow, picker inside, tabs clear] = {fits}"
        ));
    }
    s.type_into("#invite-text", "lin@example.com").await?;
    s.wait_text("#invite-send", "Invite 1 person", 10).await?;
    s.click("#invite-send").await?;
    wait_count(&s, "#results li[data-state=invited]", 1, 30).await?;
    s.click("#nav-invitations").await?;
    s.wait_visible("tr[data-email='lin@example.com'] [data-action=link]", 15)
        .await?;
    s.click("tr[data-email='lin@example.com'] [data-action=link]")
        .await?;
    s.wait_text("#toast", "Link for lin@example.com copied", 15)
        .await?;
    let link = read_clipboard()?;
    if !link.starts_with("http") || !link.contains("/verify?token=") {
        return Err(format!(
            "the clipboard holds {link:?}, not an invitation link"
        ));
    }
    let answer = http
        .get(link.trim())
        .send()
        .await
        .ctx("opening the copied link")?;
    let location = answer
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if !location.contains("access_token=") {
        return Err(format!(
            "the copied link was refused: {} → {location}",
            answer.status()
        ));
    }

    // 4. Export through the Save dialog: a dated name, UTF-8 with a BOM, and "Show in folder"
    // asks the file manager for exactly that file.
    s.click("#nav-history").await?;
    s.wait_js(
        "return document.querySelectorAll('#hist-table tbody tr').length > 0",
        15,
    )
    .await?;
    s.click("#hist-export").await?;
    s.wait_visible("#toast .toast-action", 10).await?;
    s.shot("desktop-export-toast").await?;
    // The list refreshing in the background (an outbox event, a filter) keeps the line saying
    // where the file went: it once wiped it.
    set_value(&s, "hist-result", "").await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let shown = s.wait_text("#hist-status", "Saved ", 10).await?;
    let path = std::path::PathBuf::from(shown.trim().trim_start_matches("Saved ").trim());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.starts_with("invite-desk-history-20") || !name.ends_with(".csv") {
        return Err(format!("the Save dialog suggested {name:?}"));
    }
    let bytes = std::fs::read(&path).ctx("reading the export")?;
    if !bytes.starts_with(&[0xEF, 0xBB, 0xBF])
        || !String::from_utf8_lossy(&bytes).contains("lin@example.com")
    {
        return Err(format!(
            "the export is not UTF-8 with a BOM holding lin: {:?}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(80)])
        ));
    }
    s.click("#toast .toast-action").await?;
    revealed
        .wait_for(&format!("file://{}", path.display()), 10)
        .await?;

    // 5. Excel's "Unicode Text" (UTF-16 LE, tabs) imports with its accents.
    s.click("#nav-invite").await?;
    s.wait_visible("#invite-title", 10).await?;
    let fixture = crate::root().join("crates/invite-core/tests/fixtures/encodings/utf16le-bom.txt");
    s.choose_file("#invite-file", &fixture).await?;
    s.wait_text("#toast", "4 addresses", 10).await?;
    s.wait_js(
        "return document.getElementById('invite-text').value.includes('Renée O’Brien <renee@example.com>')",
        5,
    )
    .await?;
    s.shot("desktop-utf16-import").await?;

    // 6. The next step under an error speaks of the workspace's service.
    let hints = s
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             import('./js/errors.js').then(m => done([
               m.explain({kind: 'not_admin', message: 'x'}, 'netlify').next,
               m.explain({kind: 'not_admin', message: 'x'}, 'supabase').next,
               m.explain({kind: 'not_admin', message: 'x'}, 'royalti').next,
             ])).catch(e => done(['failed: ' + e]));",
            vec![],
        )
        .await
        .ctx("loading errors.js")?;
    let hint = |i: usize| hints[i].as_str().unwrap_or_default().to_string();
    if hint(0).contains("Supabase")
        || hint(0).contains("service_role")
        || !hint(0).contains("Identity")
        || !hint(1).contains("service_role")
        || hint(2).contains("service_role")
    {
        return Err(format!("the next steps per service are {hints}"));
    }
    no_page_errors(&s).await?;
    s.close().await?;
    drop(driver);
    Ok(())
}
