//! Workspaces: the non-secret description of where and how to invite.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::WorkspaceKind;

/// Which GoTrue fork a self-hosted server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GotrueFork {
    /// Detect from `/settings` and `/health`.
    #[default]
    Auto,
    /// supabase/auth.
    Supabase,
    /// netlify/gotrue.
    Netlify,
}

/// How the app authenticates to the back end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    /// The back end's natural mode: Supabase secret key, GoTrue JWT secret, Netlify/Royalti password sign-in.
    #[default]
    Default,
    /// GoTrue operator token instead of the JWT secret.
    OperatorToken,
    /// Royalti workspace API key (`RWAK…`).
    ApiKey,
}

/// Back-end options (none of them secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct WorkspaceOptions {
    /// How to authenticate.
    pub auth_mode: AuthMode,
    /// Self-hosted GoTrue: which fork (auto-detected unless set).
    pub gotrue_fork: GotrueFork,
    /// Self-hosted Supabase-fork GoTrue: the admin role put in minted tokens (default `service_role`).
    pub admin_role: Option<String>,
    /// How long an invitation link lives, in hours (GoTrue: the server's OTP lifetime; default 24).
    pub link_lifetime_hours: Option<u32>,
    /// Redirect URL used when the owner gives none.
    pub default_redirect_url: Option<String>,
    /// Netlify: path of the Invite Desk function (default `/.netlify/functions/invite-desk`).
    pub function_path: Option<String>,
    /// Royalti: the workspace id inside the account.
    pub remote_workspace_id: Option<String>,
    /// Netlify/Royalti: the address the owner signs in with (not secret, shown in the UI).
    pub account_email: Option<String>,
    /// The owner's role in the workspace as the server reported it (Royalti).
    pub role: Option<String>,
    /// Netlify/Royalti: the password is kept in the keychain for silent re-sign-in.
    pub keep_signed_in: bool,
    /// Most requests in flight at once for this workspace (default 4).
    pub concurrency: Option<u32>,
    /// Invitation emails the server sends per hour, when the owner knows it (Supabase's built-in
    /// mailer: 2; GoTrue's default: 30). The outbox never starts more; `None`: learn from 429s.
    #[serde(default)]
    pub emails_per_hour: Option<u32>,
}

/// One workspace the owner added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workspace {
    /// Local id (a UUID); the keychain entries are keyed by it.
    pub id: String,
    /// Name the owner chose.
    pub name: String,
    /// Which service.
    pub kind: WorkspaceKind,
    /// Normalised base URL (see [`normalize_url`]).
    pub base_url: String,
    /// Back-end options.
    #[serde(default)]
    pub options: WorkspaceOptions,
    /// True for the built-in demo workspace (served by the in-app sandbox).
    #[serde(default)]
    pub demo: bool,
}

/// Royalti's API when the owner leaves the address empty.
pub const ROYALTI_DEFAULT_URL: &str = "https://api.royalti.io";

/// Longest workspace name, in characters.
pub const MAX_NAME_CHARS: usize = 80;

/// Concurrency the owner may choose.
pub const CONCURRENCY_RANGE: std::ops::RangeInclusive<u32> = 1..=16;
/// Emails per hour the owner may set.
pub const EMAILS_PER_HOUR_RANGE: std::ops::RangeInclusive<u32> = 1..=100_000;

/// Link lifetimes the owner may choose, in hours (up to 30 days).
pub const LINK_LIFETIME_RANGE: std::ops::RangeInclusive<u32> = 1..=720;

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

/// Checks a workspace name: not empty, at most [`MAX_NAME_CHARS`] characters, one line.
pub fn validate_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid_input(
            "Name",
            "enter a name for this workspace",
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::invalid_input(
            "Name",
            format!("use at most {MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid_input(
            "Name",
            "use a single line without special characters",
        ));
    }
    Ok(name.to_string())
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

impl WorkspaceOptions {
    /// Checks the values the owner can type (redirect URL, concurrency, link lifetime, function path).
    pub fn validate(&self) -> Result<()> {
        if let Some(url) = &self.default_redirect_url {
            validate_redirect_url(url)?;
        }
        if let Some(n) = self.concurrency {
            if !CONCURRENCY_RANGE.contains(&n) {
                return Err(Error::invalid_input(
                    "Invitations sent at once",
                    format!(
                        "choose a number from {} to {}",
                        CONCURRENCY_RANGE.start(),
                        CONCURRENCY_RANGE.end()
                    ),
                ));
            }
        }
        if let Some(n) = self.emails_per_hour {
            if !EMAILS_PER_HOUR_RANGE.contains(&n) {
                return Err(Error::invalid_input(
                    "Emails per hour",
                    format!(
                        "choose a number from {} to {}, or leave it empty",
                        EMAILS_PER_HOUR_RANGE.start(),
                        EMAILS_PER_HOUR_RANGE.end()
                    ),
                ));
            }
        }
        if let Some(h) = self.link_lifetime_hours {
            if !LINK_LIFETIME_RANGE.contains(&h) {
                return Err(Error::invalid_input(
                    "Link lifetime",
                    format!(
                        "choose from {} to {} hours (30 days)",
                        LINK_LIFETIME_RANGE.start(),
                        LINK_LIFETIME_RANGE.end()
                    ),
                ));
            }
        }
        if let Some(path) = &self.function_path {
            if !path.starts_with('/')
                || path
                    .chars()
                    .any(|c| c.is_whitespace() || c == '?' || c == '#')
            {
                return Err(Error::invalid_input(
                    "Function path",
                    "use a path starting with / (for example /.netlify/functions/invite-desk)",
                ));
            }
        }
        if let Some(role) = &self.admin_role {
            if role.trim().is_empty() {
                return Err(Error::invalid_input(
                    "Admin role",
                    "enter a role or leave the default",
                ));
            }
        }
        Ok(())
    }
}

/// What the owner may change on a saved workspace without touching its address or credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkspaceSettings {
    /// Redirect URL used when the owner gives none (blank: none).
    #[serde(default)]
    pub default_redirect_url: Option<String>,
    /// How long an invitation link lives, in hours (GoTrue), to show expiry.
    #[serde(default)]
    pub link_lifetime_hours: Option<u32>,
    /// Most requests in flight at once (default 4).
    #[serde(default)]
    pub concurrency: Option<u32>,
    /// Emails the server sends per hour (blank: not known).
    #[serde(default)]
    pub emails_per_hour: Option<u32>,
}

/// Where and how a saved workspace reaches its server: what the owner may correct after saving
/// (a moved address, a renamed function, another admin role) without entering the key again. A
/// change is checked against the server with the keys already kept before it is saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectionSettings {
    /// The address, as typed (normalised like a new workspace's).
    pub base_url: String,
    /// Self-hosted GoTrue: the admin role put in minted tokens (blank: the default).
    #[serde(default)]
    pub admin_role: Option<String>,
    /// Self-hosted GoTrue: which fork (`auto` detects it).
    #[serde(default)]
    pub gotrue_fork: Option<GotrueFork>,
    /// Netlify: the path of the Invite Desk function (blank: the default).
    #[serde(default)]
    pub function_path: Option<String>,
}

impl Workspace {
    /// Applies `c` (blank text means "the default"); options of another kind of service are
    /// refused. On an error the workspace is unchanged.
    pub fn apply_connection(&mut self, c: &ConnectionSettings) -> Result<()> {
        let blank = |o: &Option<String>| {
            o.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let gotrue = self.kind == WorkspaceKind::Gotrue;
        if !gotrue && (blank(&c.admin_role).is_some() || c.gotrue_fork.is_some()) {
            return Err(Error::invalid_input(
                "Admin role and fork",
                "only a self-hosted GoTrue workspace has them",
            ));
        }
        if self.kind != WorkspaceKind::Netlify && blank(&c.function_path).is_some() {
            return Err(Error::invalid_input(
                "Function path",
                "only a Netlify workspace has one",
            ));
        }
        let mut next = self.clone();
        next.base_url = normalize_url(self.kind, &c.base_url)?;
        if gotrue {
            next.options.admin_role = blank(&c.admin_role);
            next.options.gotrue_fork = c.gotrue_fork.unwrap_or_default();
        }
        if self.kind == WorkspaceKind::Netlify {
            next.options.function_path = blank(&c.function_path);
        }
        next.validate()?;
        *self = next;
        Ok(())
    }

    /// Applies `settings` (blank text means "not set"), refusing values out of range; on an
    /// error the workspace is unchanged.
    pub fn apply_settings(&mut self, settings: &WorkspaceSettings) -> Result<()> {
        let mut options = self.options.clone();
        options.default_redirect_url = settings
            .default_redirect_url
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        options.link_lifetime_hours = settings.link_lifetime_hours;
        options.concurrency = settings.concurrency;
        options.emails_per_hour = settings.emails_per_hour;
        options.validate()?;
        self.options = options;
        Ok(())
    }

    /// Checks id, name, base URL (already normalised) and options.
    pub fn validate(&self) -> Result<()> {
        if self.id.trim().is_empty() {
            return Err(Error::invalid_input("Workspace", "has no id"));
        }
        validate_name(&self.name)?;
        let normalized = normalize_url(self.kind, &self.base_url)?;
        if normalized != self.base_url {
            return Err(Error::InvalidUrl {
                reason: format!("use {normalized}"),
            });
        }
        self.options.validate()
    }

    /// The server name of the base URL (what diagnostics may show).
    pub fn host(&self) -> String {
        url::Url::parse(&self.base_url)
            .ok()
            .and_then(|u| {
                u.host_str().map(|h| match u.port() {
                    Some(p) => format!("{h}:{p}"),
                    None => h.to_string(),
                })
            })
            .unwrap_or_else(|| "(invalid address)".to_string())
    }
}

/// Current format of [`WorkspaceList`] as stored.
pub const WORKSPACES_VERSION: u32 = 1;

/// Every workspace, as stored under one key of the app's settings store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceList {
    /// Format version ([`WORKSPACES_VERSION`] when written by this build).
    pub version: u32,
    /// The workspaces in the order the owner added them.
    pub workspaces: Vec<Workspace>,
    /// Id of the current workspace.
    pub current: Option<String>,
}

impl Default for WorkspaceList {
    fn default() -> Self {
        Self {
            version: WORKSPACES_VERSION,
            workspaces: Vec::new(),
            current: None,
        }
    }
}

impl WorkspaceList {
    /// Reads the stored value, migrating older shapes: nothing stored (`null`) is an empty list,
    /// version 0 was a bare array of workspaces, and an object without `version` is version 1.
    /// A list saved by a newer Invite Desk is refused rather than half-read and overwritten.
    pub fn from_json(value: serde_json::Value) -> Result<WorkspaceList> {
        use serde_json::Value;
        let read_items = |items: Vec<Value>| -> Result<Vec<Workspace>> {
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| {
                    serde_json::from_value::<Workspace>(v).map_err(|e| {
                        Error::storage(format!(
                            "workspace {} in the saved list can't be read: {e}",
                            i + 1
                        ))
                    })
                })
                .collect()
        };
        let mut list = match value {
            Value::Null => WorkspaceList::default(),
            Value::Array(items) => WorkspaceList {
                version: 0,
                workspaces: read_items(items)?,
                current: None,
            },
            Value::Object(mut map) => {
                let version = match map.get("version") {
                    None | Some(Value::Null) => WORKSPACES_VERSION,
                    Some(v) => v
                        .as_u64()
                        .and_then(|v| u32::try_from(v).ok())
                        .ok_or_else(|| {
                            Error::storage("the saved workspace list has an unreadable version")
                        })?,
                };
                if version > WORKSPACES_VERSION {
                    return Err(Error::storage(format!(
                        "the workspace list was saved by a newer Invite Desk (format {version}); update Invite Desk"
                    )));
                }
                let workspaces = match map.remove("workspaces") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(items)) => read_items(items)?,
                    Some(_) => {
                        return Err(Error::storage("the saved workspace list is not a list"))
                    }
                };
                let current = map
                    .remove("current")
                    .and_then(|v| v.as_str().map(str::to_string));
                WorkspaceList {
                    version,
                    workspaces,
                    current,
                }
            }
            _ => {
                return Err(Error::storage(
                    "the saved workspace list has an unknown shape",
                ))
            }
        };
        list.version = WORKSPACES_VERSION;
        // A duplicated id would make two workspaces share keychain entries: keep the first.
        let mut seen = std::collections::HashSet::new();
        list.workspaces.retain(|w| seen.insert(w.id.clone()));
        if list
            .current
            .as_deref()
            .is_none_or(|c| list.get(c).is_none())
        {
            list.current = list.workspaces.first().map(|w| w.id.clone());
        }
        Ok(list)
    }

    /// The value to store.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// The workspace with this id.
    pub fn get(&self, id: &str) -> Option<&Workspace> {
        self.workspaces.iter().find(|w| w.id == id)
    }

    /// The current workspace, if any.
    pub fn current_workspace(&self) -> Option<&Workspace> {
        self.current.as_deref().and_then(|id| self.get(id))
    }

    fn position(&self, id: &str) -> Result<usize> {
        self.workspaces
            .iter()
            .position(|w| w.id == id)
            .ok_or_else(|| Error::UnknownWorkspace { id: id.to_string() })
    }

    /// Adds a workspace (validated; the id must be new). The first one becomes current.
    pub fn add(&mut self, mut workspace: Workspace) -> Result<()> {
        workspace.name = validate_name(&workspace.name)?;
        workspace.validate()?;
        if self.get(&workspace.id).is_some() {
            return Err(Error::invalid_input(
                "Workspace",
                "a workspace with this id already exists",
            ));
        }
        if self.current.is_none() {
            self.current = Some(workspace.id.clone());
        }
        self.workspaces.push(workspace);
        Ok(())
    }

    /// Renames a workspace.
    pub fn rename(&mut self, id: &str, name: &str) -> Result<()> {
        let name = validate_name(name)?;
        let i = self.position(id)?;
        self.workspaces[i].name = name;
        Ok(())
    }

    /// Replaces the workspace with the same id (validated).
    pub fn update(&mut self, mut workspace: Workspace) -> Result<()> {
        workspace.name = validate_name(&workspace.name)?;
        workspace.validate()?;
        let i = self.position(&workspace.id)?;
        self.workspaces[i] = workspace;
        Ok(())
    }

    /// Removes a workspace and returns it (the caller deletes its secrets). If it was current,
    /// the first remaining one becomes current.
    pub fn remove(&mut self, id: &str) -> Result<Workspace> {
        let i = self.position(id)?;
        let removed = self.workspaces.remove(i);
        if self.current.as_deref() == Some(id) {
            self.current = self.workspaces.first().map(|w| w.id.clone());
        }
        Ok(removed)
    }

    /// Chooses the current workspace.
    pub fn set_current(&mut self, id: &str) -> Result<()> {
        self.position(id)?;
        self.current = Some(id.to_string());
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use WorkspaceKind::*;

    #[test]
    fn settings_apply_only_when_every_value_is_in_range() {
        let mut ws = Workspace {
            id: "w".into(),
            name: "Acme".into(),
            kind: Supabase,
            base_url: "https://abcdefghijklmnopqrst.supabase.co".into(),
            options: WorkspaceOptions::default(),
            demo: false,
        };
        ws.apply_settings(&WorkspaceSettings {
            default_redirect_url: Some(" https://app.example.com/welcome ".into()),
            link_lifetime_hours: Some(48),
            concurrency: Some(8),
            emails_per_hour: Some(2),
        })
        .unwrap();
        assert_eq!(
            ws.options.default_redirect_url.as_deref(),
            Some("https://app.example.com/welcome")
        );
        assert_eq!(
            (
                ws.options.link_lifetime_hours,
                ws.options.concurrency,
                ws.options.emails_per_hour
            ),
            (Some(48), Some(8), Some(2))
        );
        let before = ws.clone();
        for bad in [
            WorkspaceSettings {
                concurrency: Some(0),
                ..Default::default()
            },
            WorkspaceSettings {
                emails_per_hour: Some(0),
                ..Default::default()
            },
            WorkspaceSettings {
                link_lifetime_hours: Some(10_000),
                ..Default::default()
            },
            WorkspaceSettings {
                default_redirect_url: Some("javascript:alert(1)".into()),
                ..Default::default()
            },
        ] {
            assert!(ws.apply_settings(&bad).is_err(), "{bad:?}");
            assert_eq!(ws, before, "a refused edit changes nothing");
        }
        // Blank clears.
        ws.apply_settings(&WorkspaceSettings {
            default_redirect_url: Some("  ".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(ws.options.default_redirect_url, None);
    }

    #[test]
    fn connection_settings_apply_to_their_own_kind_only() {
        let ws = |kind, url: &str| Workspace {
            id: "w".into(),
            name: "Acme".into(),
            kind,
            base_url: url.into(),
            options: WorkspaceOptions::default(),
            demo: false,
        };
        let mut g = ws(Gotrue, "https://auth.acme.io");
        g.apply_connection(&ConnectionSettings {
            base_url: "https://login.acme.io/".into(),
            admin_role: Some(" supabase_admin ".into()),
            gotrue_fork: Some(GotrueFork::Supabase),
            function_path: None,
        })
        .unwrap();
        assert_eq!(g.base_url, "https://login.acme.io");
        assert_eq!(g.options.admin_role.as_deref(), Some("supabase_admin"));
        assert_eq!(g.options.gotrue_fork, GotrueFork::Supabase);
        // Blank is the default again.
        g.apply_connection(&ConnectionSettings {
            base_url: "https://login.acme.io".into(),
            admin_role: Some("  ".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            (g.options.admin_role.clone(), g.options.gotrue_fork),
            (None, GotrueFork::Auto)
        );

        let mut n = ws(Netlify, "https://acme.netlify.app");
        n.apply_connection(&ConnectionSettings {
            base_url: "https://acme.netlify.app".into(),
            function_path: Some("/.netlify/functions/invites".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            n.options.function_path.as_deref(),
            Some("/.netlify/functions/invites")
        );
        let before = n.clone();
        for bad in [
            ConnectionSettings {
                base_url: "http://acme.netlify.app".into(),
                ..Default::default()
            },
            ConnectionSettings {
                base_url: "https://acme.netlify.app".into(),
                function_path: Some("no-slash".into()),
                ..Default::default()
            },
            ConnectionSettings {
                base_url: "https://acme.netlify.app".into(),
                admin_role: Some("service_role".into()),
                ..Default::default()
            },
        ] {
            assert!(n.apply_connection(&bad).is_err(), "{bad:?}");
            assert_eq!(n, before, "a refused edit changes nothing");
        }
        let mut s = ws(Supabase, "https://abcdefghijklmnopqrst.supabase.co");
        assert!(s
            .apply_connection(&ConnectionSettings {
                base_url: "https://abcdefghijklmnopqrst.supabase.co".into(),
                function_path: Some("/x".into()),
                ..Default::default()
            })
            .is_err());
    }

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

    fn ws(id: &str, name: &str) -> Workspace {
        Workspace {
            id: id.into(),
            name: name.into(),
            kind: Gotrue,
            base_url: "http://127.0.0.1:9999".into(),
            options: WorkspaceOptions::default(),
            demo: false,
        }
    }

    #[test]
    fn options_are_validated() {
        let ok = WorkspaceOptions {
            default_redirect_url: Some("https://app.example.com/welcome".into()),
            concurrency: Some(16),
            link_lifetime_hours: Some(720),
            function_path: Some("/.netlify/functions/invite-desk".into()),
            ..Default::default()
        };
        ok.validate().unwrap();
        let bad = [
            WorkspaceOptions {
                default_redirect_url: Some("javascript:alert(1)".into()),
                ..Default::default()
            },
            WorkspaceOptions {
                default_redirect_url: Some("app.example.com".into()),
                ..Default::default()
            },
            WorkspaceOptions {
                concurrency: Some(0),
                ..Default::default()
            },
            WorkspaceOptions {
                concurrency: Some(17),
                ..Default::default()
            },
            WorkspaceOptions {
                link_lifetime_hours: Some(0),
                ..Default::default()
            },
            WorkspaceOptions {
                link_lifetime_hours: Some(721),
                ..Default::default()
            },
            WorkspaceOptions {
                function_path: Some("functions/x".into()),
                ..Default::default()
            },
            WorkspaceOptions {
                admin_role: Some(" ".into()),
                ..Default::default()
            },
        ];
        for o in bad {
            let e = o.validate().unwrap_err();
            assert_eq!(e.kind(), "invalid_input", "{o:?}");
        }
        WorkspaceOptions {
            concurrency: Some(1),
            link_lifetime_hours: Some(1),
            ..Default::default()
        }
        .validate()
        .unwrap();
    }

    #[test]
    fn list_add_rename_update_remove_current() {
        let mut list = WorkspaceList::default();
        list.add(ws("a", "  Acme  ")).unwrap();
        assert_eq!(list.get("a").unwrap().name, "Acme");
        assert_eq!(
            list.current.as_deref(),
            Some("a"),
            "the first workspace becomes current"
        );
        list.add(ws("b", "Beta")).unwrap();
        assert_eq!(list.current.as_deref(), Some("a"));
        assert_eq!(
            list.add(ws("b", "Again")).unwrap_err().kind(),
            "invalid_input"
        );
        assert_eq!(list.add(ws("c", "")).unwrap_err().kind(), "invalid_input");
        assert_eq!(
            list.add(ws("c", &"x".repeat(81))).unwrap_err().kind(),
            "invalid_input"
        );
        list.add(ws("c", &"é".repeat(80))).unwrap();
        let mut bad_url = ws("d", "D");
        bad_url.base_url = "http://example.com".into();
        assert_eq!(list.add(bad_url).unwrap_err().kind(), "invalid_url");
        let mut unnormalised = ws("d", "D");
        unnormalised.base_url = "http://127.0.0.1:9999/".into();
        assert_eq!(list.add(unnormalised).unwrap_err().kind(), "invalid_url");

        list.rename("b", "Beta team").unwrap();
        assert_eq!(list.get("b").unwrap().name, "Beta team");
        assert_eq!(
            list.rename("b", " \n ").unwrap_err().kind(),
            "invalid_input"
        );
        assert_eq!(
            list.rename("zz", "x").unwrap_err().kind(),
            "unknown_workspace"
        );

        let mut changed = list.get("b").unwrap().clone();
        changed.options.concurrency = Some(8);
        list.update(changed).unwrap();
        assert_eq!(list.get("b").unwrap().options.concurrency, Some(8));
        let mut invalid = list.get("b").unwrap().clone();
        invalid.options.concurrency = Some(99);
        assert!(list.update(invalid).is_err());
        assert_eq!(
            list.get("b").unwrap().options.concurrency,
            Some(8),
            "a refused update changes nothing"
        );

        list.set_current("b").unwrap();
        assert_eq!(list.current_workspace().unwrap().id, "b");
        assert_eq!(
            list.set_current("nope").unwrap_err().kind(),
            "unknown_workspace"
        );
        let removed = list.remove("b").unwrap();
        assert_eq!(removed.id, "b");
        assert_eq!(
            list.current.as_deref(),
            Some("a"),
            "removing the current one picks another"
        );
        list.remove("a").unwrap();
        list.remove("c").unwrap();
        assert_eq!(list.current, None);
        assert_eq!(list.remove("a").unwrap_err().kind(), "unknown_workspace");
    }

    #[test]
    fn json_round_trip_and_migrations() {
        let mut list = WorkspaceList::default();
        list.add(ws("a", "Acme")).unwrap();
        list.add(ws("b", "Beta")).unwrap();
        list.set_current("b").unwrap();
        let json = list.to_json();
        assert_eq!(json["version"], 1);
        assert_eq!(json["current"], "b");
        assert_eq!(json["workspaces"][0]["baseUrl"], "http://127.0.0.1:9999");
        assert_eq!(WorkspaceList::from_json(json).unwrap(), list);

        // v0: a bare array.
        let v0 = serde_json::json!([
            {"id": "x", "name": "Old", "kind": "supabase", "baseUrl": "https://abc.supabase.co"},
            {"id": "x", "name": "Duplicate id", "kind": "gotrue", "baseUrl": "http://127.0.0.1:1"},
            {"id": "y", "name": "Other", "kind": "royalti", "baseUrl": "https://api.royalti.io", "options": {"concurrency": 2}}
        ]);
        let migrated = WorkspaceList::from_json(v0).unwrap();
        assert_eq!(migrated.version, WORKSPACES_VERSION);
        assert_eq!(migrated.workspaces.len(), 2);
        assert_eq!(migrated.workspaces[0].name, "Old");
        assert_eq!(migrated.workspaces[1].options.concurrency, Some(2));
        assert_eq!(migrated.current.as_deref(), Some("x"));

        assert_eq!(
            WorkspaceList::from_json(serde_json::Value::Null).unwrap(),
            WorkspaceList::default()
        );
        let no_version = serde_json::json!({"workspaces": [], "current": "gone"});
        let l = WorkspaceList::from_json(no_version).unwrap();
        assert_eq!((l.version, l.current), (1, None));
        let newer = serde_json::json!({"version": 7, "workspaces": []});
        assert!(WorkspaceList::from_json(newer)
            .unwrap_err()
            .detail()
            .unwrap()
            .contains("newer"));
        assert!(WorkspaceList::from_json(serde_json::json!("text")).is_err());
        assert!(WorkspaceList::from_json(serde_json::json!([{"id": 1}])).is_err());
    }

    #[test]
    fn host_for_diagnostics() {
        assert_eq!(ws("a", "A").host(), "127.0.0.1:9999");
        let mut w = ws("a", "A");
        w.base_url = "https://abc.supabase.co".into();
        assert_eq!(w.host(), "abc.supabase.co");
    }
}
