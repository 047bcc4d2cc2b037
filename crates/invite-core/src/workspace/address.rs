//! Where a workspace's server is: the address the owner typed or pasted (a dashboard link, an
//! endpoint URL), turned into the one the app talks to, and the redirect addresses it accepts.

use std::net::IpAddr;

use crate::error::{Error, Result};
use crate::model::WorkspaceKind;

/// Royalti's API when the owner leaves the address empty.
pub const ROYALTI_DEFAULT_URL: &str = "https://api.royalti.io";

/// Supabase's per-service path prefixes; a pasted endpoint URL is cut back to the project root.
const SUPABASE_SERVICES: [&str; 6] = [
    "auth",
    "rest",
    "storage",
    "realtime",
    "functions",
    "graphql",
];

/// Normalises and validates a base URL for a workspace of `kind`: https required (plain http
/// only for loopback), query, fragment and trailing slashes removed, and pasted dashboard or
/// endpoint URLs turned into the address the app talks to:
///
/// - `https://supabase.com/dashboard/project/<ref>/…` → `https://<ref>.supabase.co`
/// - `https://<ref>.supabase.co/auth/v1/…` (or `/rest/v1`…) → `https://<ref>.supabase.co`
/// - `https://app.netlify.com/sites/<name>/…` → `https://<name>.netlify.app`
/// - `https://site/.netlify/identity` → `https://site`
/// - Royalti: empty → [`ROYALTI_DEFAULT_URL`]
pub fn normalize_url(kind: WorkspaceKind, input: &str) -> Result<String> {
    let input = input.trim();
    if input.is_empty() {
        if kind == WorkspaceKind::Royalti {
            return Ok(ROYALTI_DEFAULT_URL.to_string());
        }
        return Err(bad_url(
            "enter the address of your workspace (it starts with https://)",
        ));
    }
    if input.chars().any(char::is_whitespace) {
        return Err(bad_url("a web address has no spaces"));
    }
    let with_scheme = if input.contains("://") {
        input.to_string()
    } else if looks_like_loopback(input) {
        format!("http://{input}")
    } else {
        format!("https://{input}")
    };
    let mut url = url::Url::parse(&with_scheme).map_err(|_| {
        bad_url("this is not a web address (it should look like https://example.com)")
    })?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(bad_url(
                "use https:// (plain http:// is only allowed for this computer: localhost or 127.0.0.1)",
            ))
        }
        _ => return Err(bad_url("the address must start with https://")),
    }
    if url.host().is_none() {
        return Err(bad_url("the address has no server name"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad_url(
            "remove the user name and password from the address",
        ));
    }
    url.set_query(None);
    url.set_fragment(None);

    let host = url
        .host_str()
        .unwrap_or_default()
        .trim_end_matches('.')
        .to_string();
    let segments: Vec<String> = url
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).map(str::to_string).collect())
        .unwrap_or_default();
    let keep = match kind {
        WorkspaceKind::Supabase => {
            if matches!(
                host.as_str(),
                "supabase.com" | "www.supabase.com" | "app.supabase.com"
            ) {
                return supabase_dashboard(&segments);
            }
            if host.ends_with(".supabase.co") {
                0
            } else {
                cut_before_service(&segments)
            }
        }
        WorkspaceKind::Gotrue => gotrue_root(&segments),
        WorkspaceKind::Netlify => {
            if host == "app.netlify.com" {
                return netlify_dashboard(&segments);
            }
            0
        }
        WorkspaceKind::Royalti => {
            if host == "app.royalti.io" || host == "royalti.io" || host == "www.royalti.io" {
                return Ok(ROYALTI_DEFAULT_URL.to_string());
            }
            0
        }
    };
    let path = segments[..keep.min(segments.len())].join("/");
    url.set_path(&path);
    Ok(url.as_str().trim_end_matches('/').to_string())
}

fn bad_url(reason: &str) -> Error {
    Error::InvalidUrl {
        reason: reason.to_string(),
    }
}

fn looks_like_loopback(input: &str) -> bool {
    let lower = input.to_ascii_lowercase();
    lower.starts_with("localhost") || lower.starts_with("127.") || lower.starts_with("[::1]")
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.trim_end_matches('.').eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Where a Supabase dashboard URL points: `/dashboard/project/<ref>` or the old `/project/<ref>`.
fn supabase_dashboard(segments: &[String]) -> Result<String> {
    let rest = match segments {
        [d, p, rest @ ..] if d == "dashboard" && p == "project" => rest,
        [p, rest @ ..] if p == "project" => rest,
        _ => &[],
    };
    match rest.first() {
        Some(r) if !r.is_empty() && r.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            Ok(format!("https://{}.supabase.co", r.to_ascii_lowercase()))
        }
        _ => Err(bad_url(
            "this is the Supabase dashboard, not a project: open your project and copy the Project URL from Project Settings → API",
        )),
    }
}

fn netlify_dashboard(segments: &[String]) -> Result<String> {
    match segments {
        [s, name, ..] if (s == "sites" || s == "projects") && is_dns_label(name) => {
            Ok(format!("https://{}.netlify.app", name.to_ascii_lowercase()))
        }
        _ => Err(bad_url(
            "this is the Netlify dashboard, not a site: open your site and copy its address (for example https://my-site.netlify.app)",
        )),
    }
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty() && s.len() <= 63 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// How many path segments of a self-hosted Supabase URL to keep: everything before `/auth/v1`.
fn cut_before_service(segments: &[String]) -> usize {
    segments
        .windows(2)
        .position(|w| SUPABASE_SERVICES.contains(&w[0].as_str()) && w[1] == "v1")
        .unwrap_or(segments.len())
}

/// A GoTrue server may live under a path (`/auth/v1` behind Supabase's gateway,
/// `/.netlify/identity` on Netlify); keep that, and drop a pasted endpoint after it.
fn gotrue_root(segments: &[String]) -> usize {
    if let Some(i) = segments
        .windows(2)
        .position(|w| w[0] == ".netlify" && w[1] == "identity")
    {
        return i + 2;
    }
    if let Some(i) = segments
        .windows(2)
        .position(|w| w[0] == "auth" && w[1] == "v1")
    {
        return i + 2;
    }
    if let Some(i) = segments.iter().position(|s| s == "admin") {
        return i;
    }
    const ENDPOINTS: [&str; 7] = [
        "settings", "health", "invite", "token", "user", "verify", "otp",
    ];
    match segments.last() {
        Some(last) if ENDPOINTS.contains(&last.as_str()) => segments.len() - 1,
        _ => segments.len(),
    }
}

/// Checks a redirect URL: an http(s) address with a server name.
pub fn validate_redirect_url(input: &str) -> Result<()> {
    let bad = || {
        Error::invalid_input(
            "Redirect URL",
            "use a web address starting with https:// or http://",
        )
    };
    let url = url::Url::parse(input.trim()).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(bad());
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use WorkspaceKind::*;

    #[test]
    fn good_urls_normalise() {
        let table: &[(WorkspaceKind, &str, &str)] = &[
            (
                Supabase,
                "https://abcdefghijklmnopqrst.supabase.co",
                "https://abcdefghijklmnopqrst.supabase.co",
            ),
            (
                Supabase,
                "  https://abcdefghijklmnopqrst.supabase.co///  ",
                "https://abcdefghijklmnopqrst.supabase.co",
            ),
            (
                Supabase,
                "abcdefghijklmnopqrst.supabase.co",
                "https://abcdefghijklmnopqrst.supabase.co",
            ),
            (
                Supabase,
                "https://ABCdefghijklmnopqrst.Supabase.CO/",
                "https://abcdefghijklmnopqrst.supabase.co",
            ),
            (
                Supabase,
                "https://supabase.com/dashboard/project/abcdefghijklmnopqrst/settings/api?x=1",
                "https://abcdefghijklmnopqrst.supabase.co",
            ),
            (
                Supabase,
                "https://supabase.com/dashboard/project/abcdefghijklmnopqrst",
                "https://abcdefghijklmnopqrst.supabase.co",
            ),
            (
                Supabase,
                "https://app.supabase.com/project/abcdefghijklmnopqrst/auth/users",
                "https://abcdefghijklmnopqrst.supabase.co",
            ),
            (
                Supabase,
                "https://abcdefghijklmnopqrst.supabase.co/auth/v1/admin/users?page=2",
                "https://abcdefghijklmnopqrst.supabase.co",
            ),
            (
                Supabase,
                "https://abcdefghijklmnopqrst.supabase.co/rest/v1/",
                "https://abcdefghijklmnopqrst.supabase.co",
            ),
            (
                Supabase,
                "https://abcdefghijklmnopqrst.supabase.co/#/anything",
                "https://abcdefghijklmnopqrst.supabase.co",
            ),
            (
                Supabase,
                "https://db.example.com/auth/v1/settings",
                "https://db.example.com",
            ),
            (
                Supabase,
                "https://example.com/supabase/rest/v1",
                "https://example.com/supabase",
            ),
            (Supabase, "http://localhost:8000", "http://localhost:8000"),
            (
                Supabase,
                "http://127.0.0.1:54321/auth/v1",
                "http://127.0.0.1:54321",
            ),
            (Supabase, "localhost:54321", "http://localhost:54321"),
            (Gotrue, "http://[::1]:9999/", "http://[::1]:9999"),
            (Gotrue, "http://127.8.9.10:9999", "http://127.8.9.10:9999"),
            (
                Gotrue,
                "https://auth.example.com:8443/",
                "https://auth.example.com:8443",
            ),
            (
                Gotrue,
                "https://auth.example.com:443/",
                "https://auth.example.com",
            ),
            (
                Gotrue,
                "https://example.com/auth/v1/admin/users",
                "https://example.com/auth/v1",
            ),
            (
                Gotrue,
                "https://gotrue.example.com/settings",
                "https://gotrue.example.com",
            ),
            (
                Gotrue,
                "https://gotrue.example.com/prefix/admin/users/123",
                "https://gotrue.example.com/prefix",
            ),
            (
                Gotrue,
                "https://my-site.netlify.app/.netlify/identity/admin/users",
                "https://my-site.netlify.app/.netlify/identity",
            ),
            (
                Netlify,
                "https://app.netlify.com/sites/my-site/overview",
                "https://my-site.netlify.app",
            ),
            (
                Netlify,
                "https://app.netlify.com/projects/My-Site/identity",
                "https://my-site.netlify.app",
            ),
            (
                Netlify,
                "https://my-site.netlify.app/.netlify/identity",
                "https://my-site.netlify.app",
            ),
            (
                Netlify,
                "https://www.example.org/.netlify/identity/settings?x#y",
                "https://www.example.org",
            ),
            (
                Netlify,
                "my-site.netlify.app/",
                "https://my-site.netlify.app",
            ),
            (Royalti, "", "https://api.royalti.io"),
            (Royalti, "   ", "https://api.royalti.io"),
            (Royalti, "https://api.royalti.io/", "https://api.royalti.io"),
            (
                Royalti,
                "https://app.royalti.io/dashboard",
                "https://api.royalti.io",
            ),
            (
                Royalti,
                "https://server26-dot-royalti-project.uc.r.appspot.com/auth/login",
                "https://server26-dot-royalti-project.uc.r.appspot.com",
            ),
            (Royalti, "http://127.0.0.1:4000", "http://127.0.0.1:4000"),
            (
                Gotrue,
                "https://bücher.example/",
                "https://xn--bcher-kva.example",
            ),
        ];
        for (kind, input, want) in table {
            let got = normalize_url(*kind, input);
            assert_eq!(
                got.as_deref().ok(),
                Some(*want),
                "{kind:?} {input:?} gave {got:?}"
            );
            // Normalising twice changes nothing.
            assert_eq!(
                normalize_url(*kind, want).unwrap(),
                *want,
                "{kind:?} {want:?} is not stable"
            );
        }
    }

    #[test]
    fn bad_urls_are_refused_with_a_reason() {
        let table: &[(WorkspaceKind, &str, &str)] = &[
            (Supabase, "", "enter the address"),
            (Gotrue, "   ", "enter the address"),
            (
                Supabase,
                "http://abcdefghijklmnopqrst.supabase.co",
                "use https://",
            ),
            (Gotrue, "http://192.168.1.10:9999", "use https://"),
            (Gotrue, "http://10.0.0.1", "use https://"),
            (Gotrue, "http://localhost.evil.com", "use https://"),
            (Gotrue, "http://[::2]:9999", "use https://"),
            (Gotrue, "ftp://example.com", "must start with https://"),
            (Gotrue, "javascript:alert(1)", "not a web address"),
            (Gotrue, "https://", "not a web address"),
            (Gotrue, "https://exa mple.com", "no spaces"),
            (
                Gotrue,
                "https://user:pw@example.com",
                "user name and password",
            ),
            (
                Supabase,
                "https://supabase.com/dashboard/projects",
                "Supabase dashboard",
            ),
            (
                Supabase,
                "https://supabase.com/dashboard/project/_/settings/api",
                "Supabase dashboard",
            ),
            (
                Netlify,
                "https://app.netlify.com/teams/acme/overview",
                "Netlify dashboard",
            ),
            (Netlify, "", "enter the address"),
        ];
        for (kind, input, want) in table {
            match normalize_url(*kind, input) {
                Err(e @ Error::InvalidUrl { .. }) => {
                    assert!(e.to_string().contains(want), "{kind:?} {input:?}: {e}");
                    assert_eq!(e.kind(), "invalid_url");
                }
                other => panic!("{kind:?} {input:?} should be refused, got {other:?}"),
            }
        }
    }
}
