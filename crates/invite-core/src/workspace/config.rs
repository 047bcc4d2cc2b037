//! A workspace's typed configuration: one options struct per back end, each kept with its back
//! end (`providers/<kind>_form.rs`, beside the form that fills it in), gathered in
//! [`WorkspaceConfig`], tagged by kind.
//!
//! Stored and sent to the window as `{"kind": "netlify", "options": {…}}`: the shape the one flat
//! bag of options had (format 1 of the saved list), so the window reads it unchanged. A kind's
//! options hold only its own keys and the [`SendingOptions`] every kind shares; another kind's
//! key is refused when read, so a workspace of one kind cannot carry another kind's options.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::WorkspaceKind;
use crate::providers::gotrue_form::GotrueOptions;
use crate::providers::netlify_form::NetlifyOptions;
use crate::providers::royalti_form::RoyaltiOptions;
use crate::providers::supabase_form::SupabaseOptions;

use super::options::{
    check_range, ConnectionSettings, CONCURRENCY_RANGE, EMAILS_PER_HOUR_RANGE, LINK_LIFETIME_RANGE,
};
use super::validate_redirect_url;

/// A way of signing in, as the forms name it: each back end's own sign-in choice maps to one
/// of these (a back end with one way has [`AuthMode::Default`] only).
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

/// How invitations go out, whatever the back end: the settings the owner may change later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct SendingOptions {
    /// Redirect URL used when the owner gives none.
    pub default_redirect_url: Option<String>,
    /// Most requests in flight at once for this workspace (default 4).
    pub concurrency: Option<u32>,
    /// Invitation emails the server sends per hour, when the owner knows it (Supabase's built-in
    /// mailer: 2; GoTrue's default: 30). The outbox never starts more; `None`: learn from 429s.
    pub emails_per_hour: Option<u32>,
}

impl SendingOptions {
    /// Checks the values the owner can type (redirect URL, concurrency, emails per hour).
    pub fn validate(&self) -> Result<()> {
        if let Some(url) = &self.default_redirect_url {
            validate_redirect_url(url)?;
        }
        if let Some(n) = self.concurrency {
            check_range(n, &CONCURRENCY_RANGE, "Invitations sent at once", "")?;
        }
        if let Some(n) = self.emails_per_hour {
            check_range(
                n,
                &EMAILS_PER_HOUR_RANGE,
                "Emails per hour",
                ", or leave it empty",
            )?;
        }
        Ok(())
    }

    /// Blank text from a form means "not set".
    pub fn tidy(&mut self) {
        self.default_redirect_url = blank_is_none(self.default_redirect_url.take());
    }
}

/// Text trimmed, and `None` when nothing is left.
pub(crate) fn blank_is_none(text: Option<String>) -> Option<String> {
    text.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Checks a link lifetime the owner typed.
pub(crate) fn validate_link_lifetime(hours: Option<u32>) -> Result<()> {
    if let Some(h) = hours {
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
    Ok(())
}

/// Refuses a connection setting that belongs to another kind of service.
pub(crate) fn refuse_foreign(c: &ConnectionSettings, own: &[&str]) -> Result<()> {
    let set = |o: &Option<String>| blank_is_none(o.clone()).is_some();
    if !own.contains(&"adminRole") && (set(&c.admin_role) || c.gotrue_fork.is_some()) {
        return Err(Error::invalid_input(
            "Admin role and fork",
            "only a self-hosted GoTrue workspace has them",
        ));
    }
    if !own.contains(&"functionPath") && set(&c.function_path) {
        return Err(Error::invalid_input(
            "Function path",
            "only a Netlify workspace has one",
        ));
    }
    Ok(())
}

/// What every back end's options struct provides. Each back end implements it next to its form;
/// [`WorkspaceConfig`] forwards to the one its variant holds.
pub trait BackendOptions: Sized {
    /// The kind these options belong to.
    const KIND: WorkspaceKind;

    /// How invitations go out.
    fn sending(&self) -> &SendingOptions;

    /// How invitations go out, to change.
    fn sending_mut(&mut self) -> &mut SendingOptions;

    /// The way of signing in, as the forms name it.
    fn auth_mode(&self) -> AuthMode {
        AuthMode::Default
    }

    /// How long an invitation link lives, in hours, where the back end lets the owner say.
    fn link_lifetime_hours(&self) -> Option<u32> {
        None
    }

    /// Sets the link lifetime; a back end without one refuses a value.
    fn set_link_lifetime_hours(&mut self, hours: Option<u32>) -> Result<()> {
        match hours {
            None => Ok(()),
            Some(_) => Err(Error::invalid_input(
                "Link lifetime",
                format!("{} does not let Invite Desk set it", Self::KIND.label()),
            )),
        }
    }

    /// Blank text from a form means "not set" (and typed addresses lose stray spaces).
    fn tidy(&mut self);

    /// Checks the values the owner can type.
    fn validate(&self) -> Result<()>;

    /// Only what a connection test depends on (the sending settings and the link lifetime
    /// cleared, text tidied): two options with the same connection reach the same server in
    /// the same way.
    fn connection(&self) -> Self;

    /// Applies the connection part of the settings dialog (blank text means "the default");
    /// another kind's settings are refused. The address is applied by the caller.
    fn apply_connection(&mut self, c: &ConnectionSettings) -> Result<()>;
}

/// A workspace's kind and its typed options: the one place saying which options belong to which
/// back end. (De)serialized as `"kind"` and `"options"` beside the workspace's other fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "options", rename_all = "snake_case")]
pub enum WorkspaceConfig {
    /// Supabase Auth.
    Supabase(SupabaseOptions),
    /// A self-hosted GoTrue server.
    Gotrue(GotrueOptions),
    /// Netlify Identity, through the Invite Desk function.
    Netlify(NetlifyOptions),
    /// A Royalti workspace.
    Royalti(RoyaltiOptions),
}

/// Runs `$body` with `$o` bound to the options of whichever kind `$config` is.
macro_rules! each {
    ($config:expr, $o:ident => $body:expr) => {
        match $config {
            WorkspaceConfig::Supabase($o) => $body,
            WorkspaceConfig::Gotrue($o) => $body,
            WorkspaceConfig::Netlify($o) => $body,
            WorkspaceConfig::Royalti($o) => $body,
        }
    };
}

impl WorkspaceConfig {
    /// The default options of `kind`.
    pub fn default_for(kind: WorkspaceKind) -> WorkspaceConfig {
        match kind {
            WorkspaceKind::Supabase => WorkspaceConfig::Supabase(Default::default()),
            WorkspaceKind::Gotrue => WorkspaceConfig::Gotrue(Default::default()),
            WorkspaceKind::Netlify => WorkspaceConfig::Netlify(Default::default()),
            WorkspaceKind::Royalti => WorkspaceConfig::Royalti(Default::default()),
        }
    }

    /// Which service.
    pub fn kind(&self) -> WorkspaceKind {
        fn of<T: BackendOptions>(_: &T) -> WorkspaceKind {
            T::KIND
        }
        each!(self, o => of(o))
    }

    /// How invitations go out.
    pub fn sending(&self) -> &SendingOptions {
        each!(self, o => o.sending())
    }

    /// How invitations go out, to change.
    pub fn sending_mut(&mut self) -> &mut SendingOptions {
        each!(self, o => o.sending_mut())
    }

    /// The way of signing in, as the forms name it.
    pub fn auth_mode(&self) -> AuthMode {
        each!(self, o => o.auth_mode())
    }

    /// How long an invitation link lives, in hours, where the owner said.
    pub fn link_lifetime_hours(&self) -> Option<u32> {
        each!(self, o => o.link_lifetime_hours())
    }

    /// Sets the link lifetime (refused by a back end without one).
    pub fn set_link_lifetime_hours(&mut self, hours: Option<u32>) -> Result<()> {
        each!(self, o => o.set_link_lifetime_hours(hours))
    }

    /// Blank text from a form means "not set".
    pub fn tidy(&mut self) {
        each!(self, o => o.tidy())
    }

    /// Checks the values the owner can type, the sending settings included.
    pub fn validate(&self) -> Result<()> {
        self.sending().validate()?;
        each!(self, o => o.validate())
    }

    /// Only what a connection test depends on (see [`BackendOptions::connection`]).
    pub fn connection(&self) -> WorkspaceConfig {
        match self {
            WorkspaceConfig::Supabase(o) => WorkspaceConfig::Supabase(o.connection()),
            WorkspaceConfig::Gotrue(o) => WorkspaceConfig::Gotrue(o.connection()),
            WorkspaceConfig::Netlify(o) => WorkspaceConfig::Netlify(o.connection()),
            WorkspaceConfig::Royalti(o) => WorkspaceConfig::Royalti(o.connection()),
        }
    }

    /// Applies the connection part of the settings dialog (see
    /// [`BackendOptions::apply_connection`]).
    pub fn apply_connection(&mut self, c: &ConnectionSettings) -> Result<()> {
        each!(self, o => o.apply_connection(c))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::providers::gotrue_form::{GotrueFork, GotrueSignIn};
    use crate::providers::royalti_form::RoyaltiSignIn;
    use serde_json::json;

    #[test]
    fn every_kind_has_its_own_default_options() {
        for kind in [
            WorkspaceKind::Supabase,
            WorkspaceKind::Gotrue,
            WorkspaceKind::Netlify,
            WorkspaceKind::Royalti,
        ] {
            let c = WorkspaceConfig::default_for(kind);
            assert_eq!(c.kind(), kind);
            assert_eq!(c.auth_mode(), AuthMode::Default);
            let j = serde_json::to_value(&c).unwrap();
            assert_eq!(j["kind"], serde_json::to_value(kind).unwrap());
            assert!(j["options"].is_object(), "{j}");
            assert_eq!(serde_json::from_value::<WorkspaceConfig>(j).unwrap(), c);
        }
    }

    /// The type holds no option of another kind, and the JSON of one is refused, never
    /// silently dropped (a hand-edited list, a window sending the wrong form).
    #[test]
    fn a_kind_cannot_carry_another_kinds_options() {
        let cases = [
            json!({"kind": "supabase", "options": {"functionPath": "/x"}}),
            json!({"kind": "supabase", "options": {"authMode": "default"}}),
            json!({"kind": "netlify", "options": {"adminRole": "service_role"}}),
            json!({"kind": "netlify", "options": {"linkLifetimeHours": 24}}),
            json!({"kind": "gotrue", "options": {"authMode": "api_key"}}),
            json!({"kind": "gotrue", "options": {"accountEmail": "a@b.co"}}),
            json!({"kind": "royalti", "options": {"authMode": "operator_token"}}),
            json!({"kind": "royalti", "options": {"gotrueFork": "auto"}}),
            json!({"kind": "royalti", "options": {"functionPath": "/x"}}),
        ];
        for case in cases {
            assert!(
                serde_json::from_value::<WorkspaceConfig>(case.clone()).is_err(),
                "{case}"
            );
        }
        // Each kind's own keys, and the shared sending settings, are read.
        let ok = [
            json!({"kind": "supabase", "options": {"linkLifetimeHours": 48, "concurrency": 2}}),
            json!({"kind": "gotrue", "options": {"authMode": "operator_token", "gotrueFork": "netlify", "adminRole": "x", "emailsPerHour": 30}}),
            json!({"kind": "netlify", "options": {"accountEmail": "a@b.co", "keepSignedIn": true, "functionPath": "/f", "defaultRedirectUrl": "https://a.b/c"}}),
            json!({"kind": "royalti", "options": {"authMode": "api_key", "remoteWorkspaceId": "w", "role": "owner"}}),
        ];
        for case in ok {
            let c: WorkspaceConfig = serde_json::from_value(case.clone()).unwrap();
            assert_eq!(serde_json::to_value(&c).unwrap()["kind"], case["kind"]);
        }
        let g: WorkspaceConfig = serde_json::from_value(json!({"kind": "gotrue", "options": {"authMode": "operator_token", "gotrueFork": "netlify", "emailsPerHour": 30}})).unwrap();
        let WorkspaceConfig::Gotrue(o) = &g else {
            panic!("{g:?}")
        };
        assert_eq!(o.auth_mode, GotrueSignIn::OperatorToken);
        assert_eq!(o.gotrue_fork, GotrueFork::Netlify);
        assert_eq!(g.sending().emails_per_hour, Some(30));
        assert_eq!(g.auth_mode(), AuthMode::OperatorToken);
        let r: WorkspaceConfig =
            serde_json::from_value(json!({"kind": "royalti", "options": {"authMode": "api_key"}}))
                .unwrap();
        assert!(matches!(&r, WorkspaceConfig::Royalti(o) if o.auth_mode == RoyaltiSignIn::ApiKey));
        assert_eq!(r.auth_mode(), AuthMode::ApiKey);
    }

    #[test]
    fn options_are_validated() {
        let mut ok = WorkspaceConfig::default_for(WorkspaceKind::Supabase);
        ok.sending_mut().default_redirect_url = Some("https://app.example.com/welcome".into());
        ok.sending_mut().concurrency = Some(16);
        ok.set_link_lifetime_hours(Some(720)).unwrap();
        ok.validate().unwrap();
        let bad_sending = [
            SendingOptions {
                default_redirect_url: Some("javascript:alert(1)".into()),
                ..Default::default()
            },
            SendingOptions {
                default_redirect_url: Some("app.example.com".into()),
                ..Default::default()
            },
            SendingOptions {
                concurrency: Some(0),
                ..Default::default()
            },
            SendingOptions {
                concurrency: Some(17),
                ..Default::default()
            },
            SendingOptions {
                emails_per_hour: Some(0),
                ..Default::default()
            },
        ];
        for s in bad_sending {
            let mut c = WorkspaceConfig::default_for(WorkspaceKind::Royalti);
            *c.sending_mut() = s.clone();
            assert_eq!(c.validate().unwrap_err().kind(), "invalid_input", "{s:?}");
        }
        for h in [0, 721] {
            let mut c = WorkspaceConfig::default_for(WorkspaceKind::Gotrue);
            c.set_link_lifetime_hours(Some(h)).unwrap();
            assert_eq!(c.validate().unwrap_err().kind(), "invalid_input", "{h}");
        }
        // A back end without a link lifetime refuses one.
        let mut n = WorkspaceConfig::default_for(WorkspaceKind::Netlify);
        assert!(n.set_link_lifetime_hours(Some(24)).is_err());
        n.set_link_lifetime_hours(None).unwrap();
        let f = NetlifyOptions {
            function_path: Some("functions/x".into()),
            ..Default::default()
        };
        assert!(WorkspaceConfig::Netlify(f).validate().is_err());
        let g = GotrueOptions {
            admin_role: Some(" ".into()),
            ..Default::default()
        };
        assert!(WorkspaceConfig::Gotrue(g).validate().is_err());
    }
}
