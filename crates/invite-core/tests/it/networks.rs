//! Networks as companies have them: proxies in the environment, a private certificate
//! authority, a server that redirects. Proxy variables and `SSL_CERT_FILE` are process-wide, so
//! the tests that need them run this test binary again as a child process with those variables
//! set (the child runs the same test, which sees `INVITE_DESK_CHILD` and does the checks).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use invite_core::http::{body_text, Http};
use invite_core::model::WorkspaceKind;
use invite_core::provider::Provider;
use invite_core::providers::supabase::SupabaseProvider;
use invite_core::secret::{names, MemoryStore, SecretStore, Sensitive};
use invite_core::workspace::Workspace;
use invite_sandbox::{Config, Flavor, Sandbox};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const CHILD: &str = "INVITE_DESK_CHILD";

/// Runs `test` (this binary's test of that name) in a child process with `env` set; fails the
/// calling test unless the child ran exactly that one test and it passed.
async fn run_child(test: &str, env: Vec<(&'static str, String)>) {
    let exe = std::env::current_exe().unwrap();
    // Test names in this program carry their module's path.
    let test = format!("networks::{test}");
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = std::process::Command::new(exe);
        cmd.args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD, "1");
        // Whatever the machine has, the child sees only the proxies and trust this test sets.
        for k in [
            "HTTP_PROXY",
            "http_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
            "NO_PROXY",
            "no_proxy",
            "SSL_CERT_FILE",
            "SSL_CERT_DIR",
        ] {
            cmd.env_remove(k);
        }
        cmd.envs(env);
        cmd.output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child failed:\n{stdout}\n{stderr}"
    );
}

fn is_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

fn supabase_provider(base_url: &str, key: &str, http: Http) -> SupabaseProvider {
    let secrets = MemoryStore::new();
    secrets
        .set("ws", names::SECRET_KEY, &Sensitive::new(key.to_string()))
        .unwrap();
    let ws = Workspace {
        id: "ws".into(),
        name: "Acme".into(),
        base_url: base_url.into(),
        config: invite_core::workspace::WorkspaceConfig::default_for(WorkspaceKind::Supabase),
        demo: false,
    };
    SupabaseProvider::new(http, &ws, Arc::new(secrets)).unwrap()
}

/// A forward proxy that answers every request itself with `200 via-proxy` and records the
/// request lines it saw.
async fn recording_proxy() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut n = 0;
                while !buf[..n].windows(4).any(|w| w == b"\r\n\r\n") && n < buf.len() {
                    match s.read(&mut buf[n..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => n += k,
                    }
                }
                let head = String::from_utf8_lossy(&buf[..n]);
                log.lock()
                    .unwrap()
                    .push(head.lines().next().unwrap_or_default().to_string());
                let _ = s
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nvia-proxy",
                    )
                    .await;
            });
        }
    });
    (addr, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_never_goes_through_a_proxy() {
    if !is_child() {
        let sandbox = Sandbox::start(Config::new(Flavor::Supabase)).await.unwrap();
        let dead = format!("http://{}", crate::common::NOTHING_LISTENS);
        run_child(
            "loopback_never_goes_through_a_proxy",
            vec![
                ("HTTP_PROXY", dead.clone()),
                ("HTTPS_PROXY", dead.clone()),
                ("ALL_PROXY", dead),
                ("TEST_SANDBOX_URL", sandbox.url()),
                (
                    "TEST_SANDBOX_KEY",
                    sandbox.credentials().service_role_key.clone(),
                ),
            ],
        )
        .await;
        assert!(
            sandbox.calls("GET /admin/users") >= 1,
            "the child reached the sandbox"
        );
        return;
    }
    // Child: every proxy variable points at a dead port.
    assert!(std::env::var("HTTP_PROXY")
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    let url = std::env::var("TEST_SANDBOX_URL").unwrap();
    let key = std::env::var("TEST_SANDBOX_KEY").unwrap();
    let http = Http::new().unwrap();
    // By address and by name, as the demo and a local server are reached.
    let by_name = url.replace("127.0.0.1", "localhost");
    for base in [url.as_str(), by_name.as_str()] {
        let p = supabase_provider(base, &key, http.clone());
        p.check_connection()
            .await
            .unwrap_or_else(|e| panic!("{base}: {e} ({:?})", e.detail()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_hosts_follow_the_proxy_settings() {
    if !is_child() {
        let sandbox = Sandbox::start(Config::new(Flavor::Supabase)).await.unwrap();
        let (proxy, seen) = recording_proxy().await;
        run_child(
            "other_hosts_follow_the_proxy_settings",
            vec![
                ("HTTP_PROXY", format!("http://{proxy}")),
                ("TEST_SANDBOX_URL", sandbox.url()),
            ],
        )
        .await;
        let seen = seen.lock().unwrap().clone();
        // The outside host went through the proxy (absolute-form request line); the sandbox
        // on loopback did not.
        assert_eq!(
            seen,
            vec!["GET http://invite-desk.invalid/health HTTP/1.1".to_string()],
        );
        return;
    }
    let http = Http::new().unwrap();
    let resp = http
        .send_read(http.client().get("http://invite-desk.invalid/health"))
        .await
        .unwrap();
    assert_eq!(body_text(resp).await.unwrap(), "via-proxy");
    let url = std::env::var("TEST_SANDBOX_URL").unwrap();
    let resp = http
        .send_read(http.client().get(format!("{url}/health")))
        .await
        .unwrap();
    assert!(body_text(resp).await.unwrap().contains("GoTrue"));
}

// ---------------------------------------------------------------------------------------------
// A private certificate authority

struct Tls {
    /// The CA's certificate, PEM, in a temporary file (what `SSL_CERT_FILE` points at).
    ca_file: tempfile::NamedTempFile,
    /// `https://localhost:<port>`: TLS in front of the sandbox.
    url: String,
}

/// Makes a CA and a certificate for `localhost`/127.0.0.1 signed by it, and serves TLS on a
/// loopback port, passing the decrypted bytes on to `upstream` (the sandbox).
async fn tls_in_front_of(upstream: SocketAddr) -> Tls {
    tls_front_on(TcpListener::bind("127.0.0.1:0").await.unwrap(), upstream).await
}

/// A sandbox with TLS in front of it, reached through the front's own port (which the sandbox's
/// `Host` check is told about, as a pass-through front on loopback).
async fn sandbox_behind_tls() -> (Sandbox, Tls) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut config = Config::new(Flavor::Supabase);
    config.front_ports = vec![l.local_addr().unwrap().port()];
    let sandbox = Sandbox::start(config).await.unwrap();
    let tls = tls_front_on(l, sandbox_addr(&sandbox)).await;
    (sandbox, tls)
}

/// TLS on the bound listener `l`, passing the decrypted bytes on to `upstream`.
async fn tls_front_on(l: TcpListener, upstream: SocketAddr) -> Tls {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // A name of its own, so another test CA is a different issuer, not a bad signature.
    ca.distinguished_name.push(
        DnType::CommonName,
        format!("Invite Desk Test Company CA {}", uuid::Uuid::new_v4()),
    );
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = ca.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca, &ca_key)
        .unwrap();

    let mut ca_file = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut ca_file, ca.pem().as_bytes()).unwrap();

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A refused handshake (the untrusted case) just ends here.
                let Ok(mut tls) = acceptor.accept(s).await else {
                    return;
                };
                let Ok(mut up) = tokio::net::TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
            });
        }
    });
    Tls {
        ca_file,
        url: format!("https://localhost:{port}"),
    }
}

fn sandbox_addr(sandbox: &Sandbox) -> SocketAddr {
    sandbox
        .url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_behind_a_company_ca_works_once_the_system_trusts_it() {
    if !is_child() {
        let (sandbox, tls) = sandbox_behind_tls().await;
        run_child(
            "a_server_behind_a_company_ca_works_once_the_system_trusts_it",
            vec![
                (
                    "SSL_CERT_FILE",
                    tls.ca_file.path().to_string_lossy().into_owned(),
                ),
                ("TEST_TLS_URL", tls.url.clone()),
                (
                    "TEST_SANDBOX_KEY",
                    sandbox.credentials().service_role_key.clone(),
                ),
            ],
        )
        .await;
        assert!(sandbox.calls("GET /admin/users") >= 1, "reached over TLS");
        return;
    }
    // Child: the company CA is in the system store (here via SSL_CERT_FILE).
    let url = std::env::var("TEST_TLS_URL").unwrap();
    let key = std::env::var("TEST_SANDBOX_KEY").unwrap();
    let p = supabase_provider(&url, &key, Http::new().unwrap());
    p.check_connection()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e} ({:?})", e.detail()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_named_plainly() {
    let sandbox = Sandbox::start(Config::new(Flavor::Supabase)).await.unwrap();
    let tls = tls_in_front_of(sandbox_addr(&sandbox)).await;
    if !is_child() {
        // The same server, but this machine's store does not hold the company CA: run in a
        // child whose SSL_CERT_FILE holds another authority, so the result does not depend on
        // the machine's own store.
        let other = tls_in_front_of(sandbox_addr(&sandbox)).await;
        run_child(
            "an_untrusted_certificate_is_named_plainly",
            vec![(
                "SSL_CERT_FILE",
                other.ca_file.path().to_string_lossy().into_owned(),
            )],
        )
        .await;
        return;
    }
    let key = sandbox.credentials().service_role_key.clone();
    let http = Http::new().unwrap();
    let e = supabase_provider(&tls.url, &key, http.clone())
        .check_connection()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "untrusted_certificate", "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("certificate is not trusted") && text.contains("localhost"),
        "{text}"
    );
    assert!(
        e.detail()
            .is_some_and(|d| d.contains("UnknownIssuer") || d.contains("issuer")),
        "{:?}",
        e.detail()
    );
    // Nothing was sent, so no request reached the server; and a read is not retried in vain.
    assert_eq!(sandbox.calls("GET /admin/users"), 0);
    // A write reports the same, not "uncertain".
    let e = http
        .send_write(http.client().post(format!("{}/invite", tls.url)))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "untrusted_certificate", "{e:?}");
}

// ---------------------------------------------------------------------------------------------
// Redirects

/// A server that answers every request with `status` and `Location: location`.
async fn redirecting(status: u16, location: &'static str) -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let _ = s.read(&mut buf).await;
                let reply = format!(
                    "HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = s.write_all(reply.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_says_where_the_server_points() {
    let http = Http::with_timeout(Duration::from_secs(10)).unwrap();
    // http:// where the server wants https://, with a token in the query that must not show.
    let base = redirecting(
        301,
        "https://auth.example.com/auth/v1/admin/users?token=s3cret-t0ken",
    )
    .await;
    let e = supabase_provider(&base, "sb_secret_abcdefabcdefabcdef", http.clone())
        .check_connection()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "redirected", "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains(&format!(
            "The server at {base} redirects to https://auth.example.com/auth/v1/admin/users"
        )),
        "{text}"
    );
    assert!(!text.contains("s3cret"), "{text}");
    assert!(
        !text.contains("Rejected") && !text.contains("refused"),
        "{text}"
    );

    // A relative Location (a path left out) is resolved against the address asked.
    let base = redirecting(308, "/auth/v1/invite").await;
    let e = http
        .send_write(http.client().post(format!("{base}/invite")))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "redirected");
    assert!(
        e.to_string()
            .contains(&format!("redirects to {base}/auth/v1/invite")),
        "{e}"
    );
}
