//! The demo workspace, end to end: invite, links, the outbox, resend, cancel, history.

use super::*;

/// Issue 7's proof flow: nothing → demo workspace → paste 6 (one invalid, one duplicate) →
/// 4 invited → 4 pending → resend → cancel → accept → Accepted → 503 fault, plain error, retry
/// → add a Supabase sandbox by hand, wrong key then right key. Ends with the leak check.
pub async fn demo(env: &Env) -> Res<()> {
    // The demo's control routes answer only with its token: this run gives the app its own.
    let token = invite_sandbox::random_control_token();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        invite_sandbox::CONTROL_TOKEN_HEADER,
        token.parse().ctx("the control token")?,
    );
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .ctx("an HTTP client")?;
    let (_driver, s) = open(env, "demo", &[("INVITE_DESK_DEMO_TOKEN", token.clone())]).await?;
    let mut secrets: Vec<String> = Vec::new();
    let notified_before = env.notifications.all().len();

    // 1. Nothing → demo workspace.
    s.wait_visible("#view-empty", 5).await?;
    s.click("#empty-demo").await?;
    s.wait_visible("#invite-title", 20).await?;
    s.wait_visible("#switcher", 5).await?;
    s.wait_text("#invite-sub", "Demo", 5).await?;
    let (demo_url, demo_id) = demo_workspace(&s).await?;
    // Without the token the demo's control routes (its keys, its mailbox) are refused.
    let r = reqwest::Client::new()
        .get(format!("{}/__sandbox/credentials", sandbox_root(&demo_url)))
        .send()
        .await
        .ctx("asking the demo for its keys without the token")?;
    if r.status() != reqwest::StatusCode::UNAUTHORIZED {
        return Err(format!(
            "the demo answered {} to a request without its token",
            r.status()
        ));
    }
    // The demo's own server key: the app holds it in the keychain, and it must not leak either.
    secrets.extend(demo_secrets(env, &demo_id)?);
    s.shot("demo-invite-screen").await?;

    // 2. Paste six: one invalid, one duplicate.
    let paste = "ann@example.com, bob@example.com\nCarol Jones <carol@example.com>; dave@example.com\nnot-an-address\nANN@example.com";
    s.type_into("#invite-text", paste).await?;
    s.wait_text("#chip-summary", "4 addresses to invite", 10)
        .await?;
    wait_count(&s, "#chips .chip", 6, 5).await?;
    wait_count(&s, "#chips .chip.invalid", 1, 2).await?;
    wait_count(&s, "#chips .chip.duplicate", 1, 2).await?;
    s.wait_text("#invite-send", "Invite 4 people", 2).await?;
    s.shot("demo-chips").await?;

    // 3. Ctrl+Enter sends; four results.
    let e = s
        .client
        .find(Locator::Css("#invite-text"))
        .await
        .ctx("textarea")?;
    e.send_keys("\u{E009}\u{E007}\u{E000}")
        .await
        .ctx("Ctrl+Enter")?;
    s.wait_visible("#results", 10).await?;
    wait_count(&s, "#results li[data-state=invited]", 4, 30).await?;
    s.wait_text("#progress-counts", "4 of 4 done", 10).await?;
    s.shot("demo-results").await?;

    // 4. Invitations shows four pending.
    s.click("#nav-invitations").await?;
    s.wait_js(
        "return document.querySelector('[data-count=pending]')?.textContent === '4'",
        15,
    )
    .await?;
    wait_count(&s, "#inv-table tbody tr[data-status=pending]", 4, 5).await?;
    s.shot("demo-invitations-pending").await?;
    // Search as you type; sort by address.
    s.type_into("#inv-search", "bo").await?;
    s.wait_js("const r = document.querySelectorAll('#inv-table tbody tr'); return r.length === 1 && r[0].dataset.email === 'bob@example.com'", 5).await?;
    // The same for Invitations: the answer for "ca", held, must not draw over the one for "".
    hold_next_answer(&s, "query_invitations").await?;
    set_value(&s, "inv-search", "ca").await?;
    s.wait_js("return window.__heldAnswer === 'holding'", 10)
        .await?;
    set_value(&s, "inv-search", "").await?;
    newest_stays(
        &s,
        "return document.querySelectorAll('#inv-table tbody tr').length === 4",
        "Invitations",
    )
    .await?;
    set_value(&s, "inv-sort", "emailAsc").await?;
    s.wait_js("const r = [...document.querySelectorAll('#inv-table tbody tr')].map(t => t.dataset.email); return r.join() === 'ann@example.com,bob@example.com,carol@example.com,dave@example.com'", 5).await?;
    set_value(&s, "inv-sort", "newestFirst").await?;

    // 5. Resend one: the mailbox holds a second email for it.
    let before = mail_for(&http, &demo_url, "bob@example.com").await?.len();
    s.click("tr[data-email='bob@example.com'] [data-action=resend]")
        .await?;
    s.wait_text(
        "#inv-status",
        "Sent the invitation to bob@example.com again",
        15,
    )
    .await?;
    let after = mail_for(&http, &demo_url, "bob@example.com").await?.len();
    if after != before + 1 || after < 2 {
        return Err(format!(
            "bob's mailbox had {before} emails before the resend and {after} after"
        ));
    }
    s.shot("demo-resent").await?;

    // 6. Cancel one (confirm names the address): gone on the server.
    s.click("tr[data-email='carol@example.com'] [data-action=cancel]")
        .await?;
    s.wait_text("#confirm-dialog", "carol@example.com", 5)
        .await?;
    s.shot("demo-cancel-confirm").await?;
    s.click("#confirm-ok").await?;
    s.wait_text(
        "#inv-status",
        "Cancelled the invitation to carol@example.com",
        15,
    )
    .await?;
    s.click("#inv-refresh").await?;
    s.click("#inv-tab-all").await?;
    s.wait_js(
        "return document.querySelector('[data-count=all]')?.textContent === '3'",
        15,
    )
    .await?;
    if count(&s, "#inv-table tr[data-email='carol@example.com']").await? != 0 {
        return Err("carol is still listed after a refresh from the server".into());
    }
    // ...and gone on the server itself, asked with the server's own admin API.
    let users = server_users(&http, &demo_url).await?;
    if users.iter().any(|u| u == "carol@example.com")
        || !users.iter().any(|u| u == "bob@example.com")
    {
        return Err(format!("after cancelling carol the server has: {users:?}"));
    }

    // 7. Accept one through its mailbox link → Accepted.
    s.click("#nav-workspaces").await?;
    s.wait_visible(
        "[data-mailbox] li[data-to='dave@example.com'] [data-action=accept]",
        10,
    )
    .await?;
    s.shot("demo-mailbox").await?;
    s.click("[data-mailbox] li[data-to='dave@example.com'] [data-action=accept]")
        .await?;
    s.wait_text("#toast", "accepted", 15).await?;
    s.click("#nav-invitations").await?;
    s.click("#inv-refresh").await?;
    s.click("#inv-tab-accepted").await?;
    s.wait_js("return document.querySelector('#inv-table tr[data-email=\"dave@example.com\"][data-status=accepted]') !== null", 15).await?;
    s.shot("demo-accepted").await?;
    // Pasting them again: who is already invited or a member is marked, not counted again.
    s.click("#nav-invite").await?;
    s.type_into(
        "#invite-text",
        "ann@example.com, dave@example.com, newbie@example.com",
    )
    .await?;
    wait_count(&s, "#chips .chip.invited", 1, 10).await?;
    wait_count(&s, "#chips .chip.member", 1, 2).await?;
    s.wait_text("#chip-summary", "1 address to invite", 5)
        .await?;
    s.shot("demo-chips-known").await?;
    set_value(&s, "invite-text", "").await?;
    s.click("#nav-invitations").await?;

    // 8. A 503 fault: the plain error, then Try again succeeds.
    let fault = serde_json::json!({"count": 3, "action": {"type": "status", "status": 503}});
    let r = http
        .post(format!("{}/__sandbox/faults", sandbox_root(&demo_url)))
        .json(&fault)
        .send()
        .await
        .ctx("injecting a fault")?;
    if !r.status().is_success() {
        return Err(format!("the sandbox refused the fault: {}", r.status()));
    }
    s.click("#inv-refresh").await?;
    s.wait_js(
        "return document.querySelector('#inv-status .error-box[data-kind=server]') !== null",
        20,
    )
    .await?;
    s.wait_text("#inv-status", "The server had a problem", 2)
        .await?;
    s.shot("demo-fault-503").await?;
    s.click("#inv-status [data-action=retry]").await?;
    s.wait_js("return document.querySelector('#inv-status .error-box') === null && document.querySelector('[data-count=all]')?.textContent === '3'", 20).await?;
    s.shot("demo-fault-retried").await?;

    // 9. Add a Supabase-flavor sandbox by hand: wrong key (plain error), then the right one.
    let other = start_supabase_sandbox().await?;
    secrets.push(other.key.clone());
    s.click("#nav-workspaces").await?;
    s.click("#ws-add").await?;
    s.click("#svc-supabase").await?;
    s.click("#add-next").await?;
    s.type_into("#ws-name", "Acme").await?;
    s.type_into("#ws-url", &other.url).await?;
    s.type_into("#secret-secret_key", &other.wrong_key).await?;
    s.click("#add-test").await?;
    s.wait_js(
        "return document.querySelector('#add-answer .error-box[data-kind=wrong_key]') !== null",
        20,
    )
    .await?;
    // The plain sentence and the next step, not a status code.
    s.wait_text("#add-answer", "anon (public) key, which can't invite", 2)
        .await?;
    s.wait_text("#add-answer", "service_role key", 2).await?;
    s.shot("add-wrong-key").await?;
    s.type_into("#secret-secret_key", &other.key).await?;
    s.click("#add-test").await?;
    s.wait_visible("#add-ok", 20).await?;
    s.shot("add-right-key-tested").await?;
    // 9b. The passed test stands for the connection, not the whole form: another address drops
    // it (the key is asked again), the same address brings it back, and a new name and a default
    // redirect keep it: Save goes without the key typed again.
    let kept_js = "const f = document.getElementById('add-form'); \
                   const k = document.getElementById('secret-secret_key'); \
                   return f.dataset.checked === 'kept' && k.value === '' && !k.required \
                     && k.placeholder.startsWith('Checked and kept') && !!document.getElementById('add-ok')";
    s.type_into("#ws-url", "https://elsewhere.supabase.co")
        .await?;
    s.wait_js(
        "const f = document.getElementById('add-form'); \
         const k = document.getElementById('secret-secret_key'); \
         return f.dataset.checked === 'changed' && k.required && !k.placeholder.startsWith('Checked') \
           && !!document.getElementById('add-changed')",
        10,
    )
    .await
    .map_err(|e| format!("another address kept the passed test: {e}"))?;
    s.shot("add-test-dropped-by-new-address").await?;
    s.type_into("#ws-url", &other.url).await?;
    s.wait_js(kept_js, 10).await?;
    s.type_into("#ws-name", "Acme (sandbox)").await?;
    s.click("#add-form details summary").await?;
    s.type_into("#opt-redirect", "https://app.example.com/welcome")
        .await?;
    // Every answer to the edits is in (each edit asks Rust), and the check still stands.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    s.wait_js(kept_js, 5)
        .await
        .map_err(|e| format!("a rename dropped the passed test: {e}"))?;
    s.shot("add-renamed-after-test").await?;
    s.click("#add-save").await?;
    s.wait_js("return !document.getElementById('add-dialog').open", 20)
        .await
        .map_err(|e| format!("Save after a rename did not go through: {e}"))?;
    let added = s
        .js("return window.__TAURI__.core.invoke('list_workspaces').then(r => JSON.stringify(r.workspaces.find(w => !w.demo)))")
        .await?;
    let added: Value =
        serde_json::from_str(added.as_str().unwrap_or("null")).ctx("the added workspace")?;
    if added["name"] != "Acme (sandbox)"
        || added["options"]["defaultRedirectUrl"] != "https://app.example.com/welcome"
    {
        return Err(format!("saved after the rename as {added}"));
    }
    s.wait_js(
        "return document.querySelectorAll('#workspace-select option').length === 2",
        10,
    )
    .await?;
    s.wait_text("#ws-list-box", "Acme (sandbox)", 5).await?;
    s.shot("workspaces-two").await?;

    // 10. Invite someone to the new workspace (now the current one): the key in the keychain works.
    s.click("#nav-invite").await?;
    s.wait_text("#invite-sub", "Acme (sandbox)", 10).await?;
    s.type_into("#invite-text", "zoe@example.com").await?;
    s.wait_text("#invite-send", "Invite 1 person", 10).await?;
    s.click("#invite-send").await?;
    wait_count(&s, "#results li[data-state=invited]", 1, 30).await?;
    if other.mail_to("zoe@example.com") != 1 {
        return Err("zoe did not get exactly one email from the added workspace".into());
    }

    // 11. Replace its key: a wrong one is refused (and changes nothing), the right one works.
    s.click("#nav-workspaces").await?;
    let acme = "[data-action=credentials]"; // the demo has no key to replace
    s.wait_visible(acme, 10).await?;
    s.click(acme).await?;
    s.type_into("#prompt-input", &other.wrong_key).await?;
    s.shot("replace-key-dialog").await?;
    s.click("#prompt-ok").await?;
    s.wait_js(
        "return document.querySelector('#ws-status .error-box') !== null",
        20,
    )
    .await?;
    s.shot("replace-key-refused").await?;
    s.click(acme).await?;
    s.type_into("#prompt-input", &other.key).await?;
    s.click("#prompt-ok").await?;
    s.wait_text("#toast", "works again", 20).await?;

    // 11b. Its queue paused (as a sign-out pauses it): an invitation waits, and says so.
    let acme_id = s
        .js("return window.__TAURI__.core.invoke('list_workspaces').then(r => r.workspaces.find(w => !w.demo).id)")
        .await?
        .as_str()
        .unwrap_or_default()
        .to_string();
    s.js(&format!(
        "return window.__TAURI__.core.invoke('pause_workspace', {{ workspaceId: '{acme_id}' }})"
    ))
    .await?;
    s.click("#nav-invite").await?;
    s.type_into("#invite-text", "yan@example.com").await?;
    s.wait_text("#invite-send", "Invite 1 person", 10).await?;
    s.click("#invite-send").await?;
    let paused_at = std::time::Instant::now();
    wait_count(&s, "#results li[data-state=paused]", 1, 20).await?;
    s.wait_text("#banners", "Paused: 1 invitation for Acme (sandbox)", 10)
        .await?;
    s.shot("paused-invitation").await?;
    if other.mail_to("yan@example.com") != 0 {
        return Err("a paused invitation was sent".into());
    }

    // 11c. Rename the demo, and switch workspaces from the header (then back).
    s.click("#nav-workspaces").await?;
    s.click(&format!("li[data-ws='{demo_id}'] [data-action=rename]"))
        .await?;
    s.type_into("#prompt-input", "Demo for Acme").await?;
    s.click("#prompt-ok").await?;
    s.wait_js("return [...document.querySelectorAll('#workspace-select option')].some(o => o.textContent === 'Demo for Acme')", 10).await?;
    set_value(&s, "workspace-select", &demo_id).await?;
    s.click("#nav-invite").await?;
    s.wait_text("#invite-sub", "Demo for Acme", 10).await?;
    set_value(&s, "workspace-select", &acme_id).await?;
    s.wait_text("#invite-sub", "Acme (sandbox)", 10).await?;

    // 12. History lists what was sent.
    s.click("#nav-history").await?;
    s.wait_js(
        "return document.querySelectorAll('#hist-table tbody tr').length >= 5",
        10,
    )
    .await?;
    s.shot("history").await?;
    // The filters are the core's: one result, then one workspace; the export takes the filter.
    let choose = |id: &str, pick: &str| {
        format!(
            "const s = document.getElementById('{id}'); \
             s.value = [...s.options].find(o => {pick}).value; \
             s.dispatchEvent(new Event('change')); return s.value"
        )
    };
    s.js(&choose("hist-result", "o.value === 'paused'")).await?;
    s.wait_js("const r = document.querySelectorAll('#hist-table tbody tr'); return r.length === 1 && r[0].dataset.email === 'yan@example.com'", 10).await?;
    // Answers can come back in any order (CI once saw it). Hold the answer to the older question
    // (every result, every workspace) until after the newer one (the Demo workspace) has drawn:
    // the newer must stay on screen.
    hold_next_answer(&s, "history").await?;
    s.js(&choose("hist-result", "o.value === ''")).await?;
    s.wait_js("return window.__heldAnswer === 'holding'", 10)
        .await?;
    s.js(&choose("hist-ws", "o.textContent.startsWith('Demo')"))
        .await?;
    newest_stays(
        &s,
        "const r = [...document.querySelectorAll('#hist-table tbody tr')]; return r.length === 4 && r.every(t => t.textContent.includes('Demo'))",
        "History",
    )
    .await?;
    s.shot("history-filtered").await?;
    // The native Save dialog (answered by the debug build's test seam) replaces the name prompt.
    s.click("#hist-export").await?;
    let saved = s.wait_text("#hist-status", "Saved ", 10).await?;
    let path = saved.trim().trim_start_matches("Saved ").trim();
    let csv = std::fs::read_to_string(path).ctx("reading the exported CSV")?;
    // UTF-8 with a BOM, so Excel shows accented names.
    let csv = csv
        .strip_prefix('\u{FEFF}')
        .ok_or("the export does not start with a UTF-8 BOM")?;
    let lines: Vec<&str> = csv.lines().collect();
    if lines.len() != 5
        || !lines[0].starts_with("sent_at,workspace,email,result")
        || csv.contains("yan@example.com")
    {
        return Err(format!("the export of the Demo filter holds:\n{csv}"));
    }
    // Diagnostics for support: its answer goes through the leak check below.
    s.click("#nav-workspaces").await?;
    s.click("#ws-diagnostics").await?;
    s.wait_js("return document.querySelector('#toast')?.textContent.includes('Diagnostics') || document.querySelector('#ws-status')?.textContent.includes('clipboard')", 10).await?;
    no_page_errors(&s).await?;
    let ipc = s.ipc_log().await?;
    s.close().await?;
    drop(_driver);

    // 13. Restart the app on the same data: the workspace is still there and still works, its
    // key read back from the keychain (a second process, secret-tool, finds it too).
    let account = format!("{acme_id}/secret_key");
    if keychain_lookup(env, &account)?.as_deref() != Some(other.key.as_str()) {
        return Err(format!(
            "secret-tool does not find {account} in the keychain"
        ));
    }
    let (driver, s) = reopen(env, "demo").await?;
    s.wait_js(
        "return document.querySelectorAll('#workspace-select option').length === 2",
        10,
    )
    .await?;
    // A restart gives the demo a fresh server with fresh keys: search for those too.
    let (_, revived_id) = demo_workspace(&s).await?;
    secrets.extend(demo_secrets(env, &revived_id)?);
    s.click("#nav-invitations").await?;
    s.wait_text("#view-invitations", "zoe@example.com", 20)
        .await?;
    s.shot("after-restart-invitations").await?;

    // 13b. The paused invitation survived the restart; Resume on the banner sends it, once.
    s.wait_text("#banners", "Paused: 1 invitation for Acme (sandbox)", 15)
        .await?;
    s.shot("after-restart-paused-banner").await?;
    // A batch that outlasts the core's NOTICE_AFTER (20 s) is announced on the desktop even
    // while the window is in front: by then the owner has turned to something else.
    let waited = paused_at.elapsed();
    if waited < std::time::Duration::from_secs(21) {
        tokio::time::sleep(std::time::Duration::from_secs(21) - waited).await;
    }
    s.click("#banners .banner[data-batch] .banner-actions button:first-child")
        .await?;
    s.wait_js(
        "return !document.querySelector('#banners .banner[data-batch]')",
        20,
    )
    .await?;
    if other.mail_to("yan@example.com") != 1 {
        return Err("the resumed invitation was not sent exactly once".into());
    }
    let shown = env
        .notifications
        .wait_for("Invitations sent for Acme (sandbox)", 15)
        .await?;
    if (shown.app_name.as_str(), shown.body.as_str()) != ("Invite Desk", "The invitation is done.")
    {
        return Err(format!("unexpected desktop notification {shown:?}"));
    }
    // The quick batches before it finished in front of the owner (the window has the focus):
    // no notification for those.
    let during = env.notifications.all().split_off(notified_before);
    if during != [shown] {
        return Err(format!("expected one desktop notification, got {during:?}"));
    }

    // 13c. Acme moves to another server (another port: another origin). The kept key is never
    // sent there: Save asks for the key in a required field, refuses without it in plain words
    // and changes nothing; with the new server's own key, it saves.
    let third = start_supabase_sandbox().await?;
    secrets.push(third.key.clone());
    let acme_url = format!(
        "return window.__TAURI__.core.invoke('list_workspaces').then(r => r.workspaces.find(w => w.id === '{acme_id}').baseUrl)"
    );
    s.click("#nav-workspaces").await?;
    s.click(&format!("[data-ws='{acme_id}'] [data-action=settings]"))
        .await?;
    s.type_into("#set-url", &third.url).await?;
    s.click("#settings-save").await?;
    s.wait_js(
        "return document.querySelector('#settings-dialog .error-box[data-kind=secret_needed]') !== null",
        20,
    )
    .await?;
    s.wait_visible("#set-secret", 5).await?;
    s.wait_js("return document.getElementById('set-secret').required", 2)
        .await
        .map_err(|e| format!("the key for the new address is not a required field: {e}"))?;
    error_in_sight(&s, "#settings-dialog").await?;
    s.shot("settings-new-address-asks-key").await?;
    // Save again with the field empty: the same plain refusal.
    s.js("document.querySelector('#settings-dialog .error-box').remove()")
        .await?;
    s.click("#settings-save").await?;
    s.wait_js(
        "return document.querySelector('#settings-dialog .error-box[data-kind=secret_needed]') !== null",
        20,
    )
    .await?;
    s.wait_text("#settings-dialog", "another server", 2).await?;
    error_in_sight(&s, "#settings-dialog").await?;
    s.shot("settings-new-address-refused").await?;
    let url_now = s.js(&acme_url).await?;
    if url_now.as_str().map(|u| u.trim_end_matches('/')) != Some(other.url.trim_end_matches('/')) {
        return Err(format!("a refused move changed the address to {url_now}"));
    }
    if keychain_lookup(env, &account)?.as_deref() != Some(other.key.as_str()) {
        return Err("a refused move changed the key in the keychain".into());
    }
    if credential_calls(&third.sandbox) != 0 {
        return Err("the kept key was sent to the new address".into());
    }
    // With the new server's key: checked there, then saved with the address.
    s.type_into("#set-secret", &third.key).await?;
    s.click("#settings-save").await?;
    s.wait_js("return !document.getElementById('settings-dialog')", 20)
        .await?;
    let url_now = s.js(&acme_url).await?;
    if url_now.as_str().map(|u| u.trim_end_matches('/')) != Some(third.url.trim_end_matches('/')) {
        return Err(format!(
            "the move with the new key left the address at {url_now}"
        ));
    }
    if keychain_lookup(env, &account)?.as_deref() != Some(third.key.as_str()) {
        return Err("the new server's key did not replace the kept one".into());
    }

    // 14. Remove it: gone from the list and from the keychain.
    s.click("#nav-workspaces").await?;
    s.click(&format!("[data-ws='{acme_id}'] [data-action=remove]"))
        .await?;
    s.wait_text("#confirm-dialog", "Acme (sandbox)", 5).await?;
    s.click("#confirm-ok").await?;
    s.wait_js(
        "return document.querySelectorAll('#workspace-select option').length === 1",
        10,
    )
    .await?;
    s.shot("after-remove").await?;
    if keychain_lookup(env, &account)?.is_some() {
        return Err(format!("{account} is still in the keychain after removal"));
    }
    // 15. The leak check over everything both runs wrote and every IPC answer.
    close_and_check_leaks(env, s, driver, &secrets, ipc).await?;
    drop(other);
    drop(third);
    Ok(())
}

/// Holds the page's next answer to `command` until 0.5 s after a later answer to it was delivered
/// (`window.__heldAnswer` goes "holding", then "released"), as a slow database read or server
/// would. Tauri's own functions are read-only, but its IPC goes through `fetch`
/// (`ipc://localhost/<command>`), which a page can wrap.
async fn hold_next_answer(s: &Session, command: &str) -> Res<()> {
    let script = format!(
        "const real = window.fetch; const tail = '/' + {cmd}; let held = null; \
         window.__heldAnswer = 'armed'; \
         window.fetch = (url, opts) => {{ \
           const p = real(url, opts); \
           if (!String(url).endsWith(tail)) return p; \
           if (held === null) {{ \
             held = new Promise(release => {{ window.__releaseHeld = release; }}); \
             window.__heldAnswer = 'holding'; \
             return held.then(() => p).finally(() => {{ window.fetch = real; window.__heldAnswer = 'released'; }}); \
           }} \
           return p.finally(() => setTimeout(() => window.__releaseHeld(), 500)); \
         }}; \
         return window.fetch !== real",
        cmd = serde_json::to_string(command).unwrap_or_default()
    );
    if s.js(&script).await? != serde_json::Value::Bool(true) {
        return Err(format!("could not hold the page's next {command} answer"));
    }
    Ok(())
}

/// Waits for the newer answer (`drawn`) on screen, then for the held older one to be released
/// and given frames to draw: the newer must still be there.
async fn newest_stays(s: &Session, drawn: &str, view: &str) -> Res<()> {
    s.wait_js(drawn, 10).await?;
    s.wait_js("return window.__heldAnswer === 'released'", 10)
        .await?;
    // The released answer reaches the view in a microtask; two frames give it time to draw.
    s.wait_js(
        "return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))",
        5,
    )
    .await?;
    if s.js(drawn).await? != serde_json::Value::Bool(true) {
        s.shot(&format!("{}-stale-answer", view.to_lowercase()))
            .await?;
        return Err(format!(
            "{view}: an older answer, arriving late, drew over the newer question"
        ));
    }
    Ok(())
}
