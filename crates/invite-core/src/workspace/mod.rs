//! Workspaces: the non-secret description of where and how to invite.
//!
//! Split by what it does: [`address`] turns what the owner typed into the address the app talks to,
//! [`options`] holds the back-end options and the settings the owner may change, [`list`] is the
//! stored list. Everything is re-exported here, so `crate::workspace::X` names each item.

mod address;
mod list;
mod options;

pub use address::{normalize_url, validate_redirect_url, ROYALTI_DEFAULT_URL};
pub use list::{WorkspaceList, WORKSPACES_VERSION};
pub use options::{
    AuthMode, ConnectionSettings, GotrueFork, WorkspaceOptions, WorkspaceSettings,
    CONCURRENCY_RANGE, EMAILS_PER_HOUR_RANGE, LINK_LIFETIME_RANGE,
};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::WorkspaceKind;

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

/// Longest workspace name, in characters.
pub const MAX_NAME_CHARS: usize = 80;

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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use WorkspaceKind::*;

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
    fn host_for_diagnostics() {
        assert_eq!(ws("a", "A").host(), "127.0.0.1:9999");
        let mut w = ws("a", "A");
        w.base_url = "https://abc.supabase.co".into();
        assert_eq!(w.host(), "abc.supabase.co");
    }
}
