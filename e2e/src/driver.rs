//! tauri-driver in a child process and a WebDriver session on the real app, with the small
//! helpers the flows use (wait, click, type, screenshot).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

pub type Res<T> = Result<T, String>;

/// Adds context to any error.
pub trait Ctx<T> {
    fn ctx(self, what: &str) -> Res<T>;
}
impl<T, E: std::fmt::Display> Ctx<T> for Result<T, E> {
    fn ctx(self, what: &str) -> Res<T> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}

fn free_port() -> Res<u16> {
    let l = TcpListener::bind("127.0.0.1:0").ctx("binding a free port")?;
    Ok(l.local_addr().ctx("reading the port")?.port())
}

/// One tauri-driver process; dropped = killed.
pub struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    /// Starts tauri-driver on free ports with extra environment for the app it will launch.
    pub fn start(env: &[(&str, String)]) -> Res<Self> {
        let port = free_port()?;
        let native = free_port()?;
        let bin = std::env::var("TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into());
        let mut cmd = Command::new(&bin);
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        // Its own process group, so that Drop also stops the WebKitWebDriver it starts (killing
        // tauri-driver alone left one running per flow).
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd.spawn().ctx(&format!(
            "starting {bin} (cargo install tauri-driver --version ^2 --locked)"
        ))?;
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err("tauri-driver did not open its port in 15 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Self { child, port })
    }

    /// Opens a session on the app (retried: the native driver may not be ready at once).
    pub async fn session(&self, app: &Path, shots: &Shots) -> Res<Session> {
        let caps =
            json!({"browserName": "wry", "tauri:options": {"application": app.to_string_lossy()}});
        let Value::Object(caps) = caps else {
            return Err("capabilities".into());
        };
        let mut last = String::new();
        for _ in 0..5 {
            let mut b = ClientBuilder::new(HttpConnector::new());
            b.capabilities(caps.clone());
            // An app that dies at start leaves WebKitWebDriver waiting for it for ever: fail
            // the flow, with the app's own words above on stderr, instead of the whole run.
            let url = format!("http://127.0.0.1:{}", self.port);
            let connect = b.connect(&url);
            let Ok(connected) = tokio::time::timeout(Duration::from_secs(60), connect).await else {
                return Err("the app did not open a WebDriver session in 60 s (did it start? its output is above)".into());
            };
            match connected {
                Ok(client) => {
                    let s = Session {
                        client,
                        shots: shots.clone(),
                    };
                    s.wait_js(
                        "return document.body && document.body.dataset.ready === 'true'",
                        20,
                    )
                    .await?;
                    // The first paint of a fresh WebKit process lags behind the DOM.
                    tokio::time::sleep(Duration::from_millis(600)).await;
                    return Ok(s);
                }
                Err(e) => {
                    last = e.to_string();
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
        Err(format!("could not open a WebDriver session: {last}"))
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        #[cfg(unix)]
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where screenshots go, numbered in the order taken.
#[derive(Clone, Debug)]
pub struct Shots {
    pub dir: PathBuf,
    pub counter: std::sync::Arc<std::sync::atomic::AtomicU32>,
}

/// A WebDriver session on the app window.
pub struct Session {
    pub client: Client,
    shots: Shots,
}

impl Session {
    /// Runs a script and returns its value.
    pub async fn js(&self, script: &str) -> Res<Value> {
        self.client
            .execute(script, vec![])
            .await
            .ctx(&format!("script `{}`", short(script)))
    }

    /// Waits until the script returns something truthy; returns it.
    pub async fn wait_js(&self, script: &str, secs: u64) -> Res<Value> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut last;
        loop {
            match self.client.execute(script, vec![]).await {
                Ok(v) if truthy(&v) => return Ok(v),
                Ok(v) => last = v,
                Err(e) => last = Value::String(e.to_string()),
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "timed out after {secs} s waiting for `{}` (last: {last})",
                    short(script)
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for a visible element matching `css`.
    pub async fn wait_visible(&self, css: &str, secs: u64) -> Res<()> {
        let script = format!(
            "const e = document.querySelector({}); return !!e && !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);",
            serde_json::to_string(css).unwrap_or_default()
        );
        self.wait_js(&script, secs)
            .await
            .map(|_| ())
            .map_err(|e| format!("{css} never became visible: {e}"))
    }

    /// Waits until the text of `css` contains `needle`; returns the text.
    pub async fn wait_text(&self, css: &str, needle: &str, secs: u64) -> Res<String> {
        let script = format!(
            "const e = document.querySelector({}); return e && e.innerText.includes({}) ? e.innerText : false;",
            serde_json::to_string(css).unwrap_or_default(),
            serde_json::to_string(needle).unwrap_or_default()
        );
        match self.wait_js(&script, secs).await {
            Ok(v) => Ok(v.as_str().unwrap_or_default().to_string()),
            Err(e) => {
                // Say what was there instead, and keep a picture of it.
                let seen = self
                    .js(&format!(
                        "const e = document.querySelector({}); return e ? e.innerText : '(no element)';",
                        serde_json::to_string(css).unwrap_or_default()
                    ))
                    .await
                    .unwrap_or_default();
                let errors = self
                    .js("return (window.__inviteDeskErrors || []).join(' | ')")
                    .await
                    .unwrap_or_default();
                let _ = self.shot("failure").await;
                Err(format!(
                    "`{css}` never showed {needle:?} (it shows {seen}; page errors: {errors}): {e}"
                ))
            }
        }
    }

    /// A real WebDriver click on `css` (after waiting for it).
    pub async fn click(&self, css: &str) -> Res<()> {
        // A view may re-render between finding the element and clicking it (the list refreshes
        // itself, a button is put back in its slot); find it again then, a few times, as a
        // person's second click would. WebKitWebDriver's error for a detached element can come
        // with no words at all, so any error is tried again.
        let mut last = String::new();
        for _ in 0..5 {
            let e = self.element(css).await?;
            match e.click().await {
                Ok(()) => return Ok(()),
                Err(err) => {
                    last = err.to_string();
                    tokio::time::sleep(Duration::from_millis(150)).await;
                }
            }
        }
        Err(format!("clicking {css}: {last}"))
    }

    /// Clicks `css` and waits for the toast that says the click was acted on. WebKitWebDriver
    /// can report a click done that never reached the page: once in CI a row's Resume was
    /// "clicked" and the row stayed paused for 30 s, with no sign in the page that the click
    /// came. A person whose click did nothing clicks again, and so does this, at most twice more,
    /// saying so. Only for buttons whose action is idempotent.
    pub async fn click_confirmed(&self, css: &str, toast: &str) -> Res<()> {
        let mut tries = 0;
        loop {
            // Only a toast shown after this click counts, even one with the same words as before.
            // The pointer events the page sees are kept, to say where a lost click went.
            self.js(
                "const t = document.getElementById('toast'); if (t) t.textContent = ''; \
                 window.__e2eSeen = []; \
                 if (!window.__e2eSeenOn) { window.__e2eSeenOn = true; \
                   for (const type of ['pointerdown', 'mousedown', 'mouseup', 'click']) \
                     document.addEventListener(type, (e) => window.__e2eSeen.push( \
                       `${type} ${e.target.id || e.target.className || e.target.tagName} at ${e.clientX},${e.clientY} ${Math.round(e.timeStamp)}`), true); } \
                 return true",
            )
            .await?;
            self.click(css).await?;
            tries += 1;
            let script = format!(
                "const t = document.getElementById('toast'); \
                 return t !== null && t.textContent.includes({})",
                serde_json::to_string(toast).unwrap_or_default()
            );
            match self.wait_js(&script, 5).await {
                Ok(_) => return Ok(()),
                Err(_) if tries < 3 => {
                    // Gone means the click was acted on after all (the row moved on): what
                    // follows in the flow judges the result.
                    let still = self
                        .js(&format!(
                            "return document.querySelector({}) !== null",
                            serde_json::to_string(css).unwrap_or_default()
                        ))
                        .await?;
                    if still != json!(true) {
                        return Ok(());
                    }
                    let seen = self
                        .js(&format!(
                            "const r = document.querySelector({}).getBoundingClientRect(); \
                             return `the page saw [${{window.__e2eSeen.join('; ')}}]; the button is at \
                               ${{Math.round(r.left)}}-${{Math.round(r.right)}},${{Math.round(r.top)}}-${{Math.round(r.bottom)}}, \
                               scrolled ${{document.querySelector('main').scrollTop}}`",
                            serde_json::to_string(css).unwrap_or_default()
                        ))
                        .await
                        .unwrap_or_default();
                    println!(
                        "    a click on {css} brought no toast ({}); clicking again",
                        seen.as_str().unwrap_or_default()
                    );
                }
                Err(_) => {
                    return self.wait_text("#toast", toast, 1).await.map(|_| ());
                }
            }
        }
    }

    /// The element matching `css`, once visible and at rest; in a dialog, scrolled to the middle
    /// of it as a person scrolls to what they click. (WebDriver's own scrolling puts an element
    /// at the bottom edge, under the dialog's sticky action bar, and then finds it covered.)
    async fn element(&self, css: &str) -> Res<fantoccini::elements::Element> {
        self.wait_visible(css, 10).await?;
        self.js(&format!(
            "const e = document.querySelector({}); \
             if (e && e.closest('dialog') && !e.closest('.dialog-actions')) e.scrollIntoView({{ block: 'center', inline: 'nearest' }}); \
             return true",
            serde_json::to_string(css).unwrap_or_default()
        ))
        .await?;
        // The view scrolls smoothly (to the results after Send or Stop): a click computed while
        // the element moves lands beside it, and the click reports success all the same. A
        // smooth scroll may begin a frame or two after it was asked for, so wait until the
        // element has kept its place for six frames running, about 100 ms (at most two seconds).
        let _ = self
            .client
            .execute_async(
                "const [css, done] = arguments; let last = null, still = 0, frames = 0; \
                 const tick = () => { const e = document.querySelector(css); \
                   const top = e ? e.getBoundingClientRect().top : null; \
                   still = top === last ? still + 1 : 0; last = top; \
                   if (still >= 6 || ++frames > 120) done(true); else requestAnimationFrame(tick); }; \
                 requestAnimationFrame(tick);",
                vec![json!(css)],
            )
            .await;
        self.client
            .find(Locator::Css(css))
            .await
            .ctx(&format!("finding {css}"))
    }

    /// Types into `css` with real key events (after clearing it).
    pub async fn type_into(&self, css: &str, text: &str) -> Res<()> {
        let e = self.element(css).await?;
        e.clear().await.ctx(&format!("clearing {css}"))?;
        // WebKitWebDriver drops a literal "\n"; the Enter key types the line break.
        e.send_keys(&text.replace('\n', "\u{E007}"))
            .await
            .ctx(&format!("typing into {css}"))
    }

    /// Chooses `path` in the file input `css`, as the OS file dialog would.
    pub async fn choose_file(&self, css: &str, path: &Path) -> Res<()> {
        let e = self.element(css).await?;
        e.send_keys(&path.display().to_string())
            .await
            .ctx(&format!("choosing {} in {css}", path.display()))
    }

    /// Drops a file named `name` holding `contents` on `css`, as a drag from the desktop arrives.
    pub async fn drop_file(&self, css: &str, name: &str, contents: &str) -> Res<()> {
        let script = format!(
            "const dt = new DataTransfer();
             dt.items.add(new File([{contents}], {name}, {{ type: 'text/csv' }}));
             const target = document.querySelector({css});
             for (const type of ['dragenter', 'dragover', 'drop'])
               target.dispatchEvent(new DragEvent(type, {{ dataTransfer: dt, bubbles: true, cancelable: true }}));
             return true;",
            contents = json!(contents),
            name = json!(name),
            css = json!(css),
        );
        self.js(&script).await.map(|_| ())
    }

    /// Saves a PNG of the window as `NN-name.png`.
    pub async fn shot(&self, name: &str) -> Res<PathBuf> {
        // Let the page paint the state just asserted: two animation frames, then a short pause
        // (WebKit's compositor can hand out the previous frame right after a change).
        let _ = self
            .client
            .execute_async("const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));", vec![])
            .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        // Only the view scrolls, never the window itself: a scrolled window shows a blank band
        // under the view, and clicks in it land on nothing (a live region positioned from the
        // page once stretched it, and a click's scrolling moved the whole window).
        let scrolled = self
            .js("return Math.round(window.scrollY)")
            .await?
            .as_i64()
            .unwrap_or(0);
        if scrolled != 0 {
            return Err(format!(
                "{name}: the window itself is scrolled by {scrolled} px (the page is taller than the window)"
            ));
        }
        let png = self.client.screenshot().await.ctx("screenshot")?;
        let n = self
            .shots
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        let path = self.shots.dir.join(format!("{n:02}-{name}.png"));
        std::fs::write(&path, png).ctx(&format!("writing {}", path.display()))?;
        println!("    screenshot {}", path.display());
        Ok(path)
    }

    /// Every IPC answer the web view recorded (INVITE_DESK_RECORD_IPC=1).
    pub async fn ipc_log(&self) -> Res<Vec<String>> {
        let v = self.js("return window.__inviteDeskIpcLog || []").await?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }

    pub async fn close(self) -> Res<()> {
        self.client.close().await.ctx("closing the session")
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

fn short(s: &str) -> String {
    s.chars().take(90).collect()
}
