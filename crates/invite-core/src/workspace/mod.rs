//! Workspaces: the non-secret description of where and how to invite.
//!
//! Split by what it does: [`address`] turns what the owner typed into the address the app talks to,
//! [`config`] gathers each back end's typed options by kind, [`options`] holds the settings the
//! owner may change, [`list`] is the stored list (and [`v1`] reads its older format).
//! Everything is re-exported here, so `crate::workspace::X` names each item.

mod address;
mod config;
mod list;
mod options;
mod v1;

pub use crate::providers::gotrue_form::{GotrueFork, GotrueOptions, GotrueSignIn};
pub use crate::providers::netlify_form::NetlifyOptions;
pub use crate::providers::royalti_form::{RoyaltiOptions, RoyaltiSignIn};
pub use crate::providers::supabase_form::SupabaseOptions;
pub use address::{normalize_url, validate_redirect_url, ROYALTI_DEFAULT_URL};
pub(crate) use config::{blank_is_none, refuse_foreign, validate_link_lifetime};
pub use config::{AuthMode, BackendOptions, SendingOptions, WorkspaceConfig};
pub use list::{WorkspaceList, WORKSPACES_VERSION};
pub use options::{
    ConnectionSettings, WorkspaceSettings, CONCURRENCY_RANGE, EMAILS_PER_HOUR_RANGE,
    LINK_LIFETIME_RANGE,
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
    /// Normalised base URL (see [`normalize_url`]).
    pub base_url: String,
    /// Which service, and its options (stored as `kind` and `options`).
    #[serde(flatten)]
    pub config: WorkspaceConfig,
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
    /// Which service.
    pub fn kind(&self) -> WorkspaceKind {
        self.config.kind()
    }

    /// How invitations go out.
    pub fn sending(&self) -> &SendingOptions {
        self.config.sending()
    }

    /// How invitations go out, to change.
    pub fn sending_mut(&mut self) -> &mut SendingOptions {
        self.config.sending_mut()
    }

    /// Applies `c` (blank text means "the default"); options of another kind of service are
    /// refused. On an error the workspace is unchanged.
    pub fn apply_connection(&mut self, c: &ConnectionSettings) -> Result<()> {
        let mut next = self.clone();
        next.config.apply_connection(c)?;
        next.base_url = normalize_url(self.kind(), &c.base_url)?;
        next.validate()?;
        *self = next;
        Ok(())
    }

    /// Applies `settings` (blank text means "not set"), refusing values out of range and a
    /// link lifetime for a back end without one; on an error the workspace is unchanged.
    pub fn apply_settings(&mut self, settings: &WorkspaceSettings) -> Result<()> {
        let mut config = self.config.clone();
        let sending = config.sending_mut();
        sending.default_redirect_url = blank_is_none(settings.default_redirect_url.clone());
        sending.concurrency = settings.concurrency;
        sending.emails_per_hour = settings.emails_per_hour;
        config.set_link_lifetime_hours(settings.link_lifetime_hours)?;
        config.validate()?;
        self.config = config;
        Ok(())
    }

    /// Checks id, name, base URL (already normalised) and options.
    pub fn validate(&self) -> Result<()> {
        if self.id.trim().is_empty() {
            return Err(Error::invalid_input("Workspace", "has no id"));
        }
        validate_name(&self.name)?;
        let normalized = normalize_url(self.kind(), &self.base_url)?;
        if normalized != self.base_url {
            return Err(Error::InvalidUrl {
                reason: format!("use {normalized}"),
            });
        }
        self.config.validate()
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

    fn of(kind: WorkspaceKind, url: &str) -> Workspace {
        Workspace {
            id: "w".into(),
            name: "Acme".into(),
            base_url: url.into(),
            config: WorkspaceConfig::default_for(kind),
            demo: false,
        }
    }

    #[test]
    fn settings_apply_only_when_every_value_is_in_range() {
        let mut ws = of(Supabase, "https://abcdefghijklmnopqrst.supabase.co");
        ws.apply_settings(&WorkspaceSettings {
            default_redirect_url: Some(" https://app.example.com/welcome ".into()),
            link_lifetime_hours: Some(48),
            concurrency: Some(8),
            emails_per_hour: Some(2),
        })
        .unwrap();
        assert_eq!(
            ws.sending().default_redirect_url.as_deref(),
            Some("https://app.example.com/welcome")
        );
        assert_eq!(
            (
                ws.config.link_lifetime_hours(),
                ws.sending().concurrency,
                ws.sending().emails_per_hour
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
        assert_eq!(ws.sending().default_redirect_url, None);

        // A back end whose links the owner does not time takes no lifetime.
        let mut n = of(Netlify, "https://acme.netlify.app");
        let before = n.clone();
        assert!(n
            .apply_settings(&WorkspaceSettings {
                link_lifetime_hours: Some(24),
                concurrency: Some(2),
                ..Default::default()
            })
            .is_err());
        assert_eq!(n, before);
        n.apply_settings(&WorkspaceSettings {
            concurrency: Some(2),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(n.sending().concurrency, Some(2));
    }

    #[test]
    fn connection_settings_apply_to_their_own_kind_only() {
        let mut g = of(Gotrue, "https://auth.acme.io");
        g.apply_connection(&ConnectionSettings {
            base_url: "https://login.acme.io/".into(),
            admin_role: Some(" supabase_admin ".into()),
            gotrue_fork: Some(GotrueFork::Supabase),
            function_path: None,
        })
        .unwrap();
        assert_eq!(g.base_url, "https://login.acme.io");
        let WorkspaceConfig::Gotrue(o) = &g.config else {
            panic!("{g:?}")
        };
        assert_eq!(o.admin_role.as_deref(), Some("supabase_admin"));
        assert_eq!(o.gotrue_fork, GotrueFork::Supabase);
        // Blank is the default again.
        g.apply_connection(&ConnectionSettings {
            base_url: "https://login.acme.io".into(),
            admin_role: Some("  ".into()),
            ..Default::default()
        })
        .unwrap();
        let WorkspaceConfig::Gotrue(o) = &g.config else {
            panic!("{g:?}")
        };
        assert_eq!(
            (o.admin_role.clone(), o.gotrue_fork),
            (None, GotrueFork::Auto)
        );

        let mut n = of(Netlify, "https://acme.netlify.app");
        n.apply_connection(&ConnectionSettings {
            base_url: "https://acme.netlify.app".into(),
            function_path: Some("/.netlify/functions/invites".into()),
            ..Default::default()
        })
        .unwrap();
        assert!(matches!(&n.config, WorkspaceConfig::Netlify(o)
            if o.function_path.as_deref() == Some("/.netlify/functions/invites")));
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
        let mut s = of(Supabase, "https://abcdefghijklmnopqrst.supabase.co");
        assert!(s
            .apply_connection(&ConnectionSettings {
                base_url: "https://abcdefghijklmnopqrst.supabase.co".into(),
                function_path: Some("/x".into()),
                ..Default::default()
            })
            .is_err());
        let mut r = of(Royalti, "https://api.royalti.io");
        assert!(r
            .apply_connection(&ConnectionSettings {
                base_url: "https://api.royalti.io".into(),
                gotrue_fork: Some(GotrueFork::Auto),
                ..Default::default()
            })
            .is_err());
    }

    /// The window reads `kind` and `options` where the flat options stood.
    #[test]
    fn the_window_gets_kind_and_options_beside_the_other_fields() {
        let mut n = of(Netlify, "https://acme.netlify.app");
        n.sending_mut().concurrency = Some(3);
        let j = serde_json::to_value(&n).unwrap();
        assert_eq!(j["kind"], "netlify");
        assert_eq!(j["baseUrl"], "https://acme.netlify.app");
        assert_eq!(j["options"]["concurrency"], 3);
        assert_eq!(j["options"]["keepSignedIn"], false);
        assert!(j["options"].get("adminRole").is_none(), "{j}");
        assert_eq!(serde_json::from_value::<Workspace>(j).unwrap(), n);
    }

    #[test]
    fn host_for_diagnostics() {
        let mut w = of(Gotrue, "http://127.0.0.1:9999");
        assert_eq!(w.host(), "127.0.0.1:9999");
        w.base_url = "https://abc.supabase.co".into();
        assert_eq!(w.host(), "abc.supabase.co");
    }
}
