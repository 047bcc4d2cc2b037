//! Netlify Identity's options and forms: the site, the owner's Identity account, and the
//! function to deploy.

use serde::{Deserialize, Serialize};

use super::form::{BackendForm, Field, InputType, ModeSpec, Panel, Renew, SettingsForm, Target};
use crate::error::{Error, Result};
use crate::model::WorkspaceKind;
use crate::secret::names;
use crate::workspace::{
    blank_is_none, refuse_foreign, AuthMode, BackendOptions, ConnectionSettings, SendingOptions,
};

/// A Netlify site's options (the owner's tokens, and the password if kept, are in the keychain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct NetlifyOptions {
    /// The address the owner signs in to Identity with (not secret, shown in the window).
    pub account_email: Option<String>,
    /// The password is kept in the keychain for signing in again silently.
    pub keep_signed_in: bool,
    /// Path of the Invite Desk function (default `/.netlify/functions/invite-desk`).
    pub function_path: Option<String>,
    /// How invitations go out.
    #[serde(flatten)]
    pub sending: SendingOptions,
}

impl BackendOptions for NetlifyOptions {
    const KIND: WorkspaceKind = WorkspaceKind::Netlify;

    fn sending(&self) -> &SendingOptions {
        &self.sending
    }

    fn sending_mut(&mut self) -> &mut SendingOptions {
        &mut self.sending
    }

    fn tidy(&mut self) {
        self.account_email = blank_is_none(self.account_email.take());
        self.function_path = blank_is_none(self.function_path.take());
        self.sending.tidy();
    }

    fn validate(&self) -> Result<()> {
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
        Ok(())
    }

    fn connection(&self) -> Self {
        NetlifyOptions {
            account_email: blank_is_none(self.account_email.clone()),
            keep_signed_in: self.keep_signed_in,
            function_path: blank_is_none(self.function_path.clone()),
            sending: SendingOptions::default(),
        }
    }

    fn apply_connection(&mut self, c: &ConnectionSettings) -> Result<()> {
        refuse_foreign(c, &["functionPath"])?;
        self.function_path = blank_is_none(c.function_path.clone());
        Ok(())
    }
}

/// Netlify Identity's add-workspace form, under the "deploy the function first" panel.
pub fn form() -> BackendForm {
    BackendForm {
        kind: WorkspaceKind::Netlify,
        name: "Netlify Identity",
        description: "A Netlify site with Identity turned on. You deploy one small function, then sign in with your Identity account.",
        panel: Some(Panel::NetlifyFunction),
        fields: vec![
            Field::workspace_name("My Netlify site"),
            Field::address("Site address")
                .required()
                .placeholder("https://example.netlify.app")
                .help("Your site’s address: Site configuration → General → Site details, or your own domain."),
            Field::new("opt-email", InputType::Email, "Your Identity email", Target::Option, "accountEmail")
                .required()
                .autocomplete("username")
                .help("The address you sign in to the site with. Your Identity user needs the role “admin”."),
            Field::secret(names::PASSWORD, "secret-password", "Your Identity password")
                .required()
                .autocomplete("current-password"),
            Field::keep_signed_in("Keeps the password in the system keychain so Invite Desk can sign in again by itself."),
        ],
        modes: vec![ModeSpec {
            mode: AuthMode::Default,
            secrets: vec![names::PASSWORD],
            sign_in: false,
            renew: Renew {
                secret: names::PASSWORD,
                action: "Sign in again",
                field: "Identity password",
                hint: "The password of your Netlify Identity user on this site.",
            },
        }],
        settings: SettingsForm {
            connection: vec![
                Field::new("set-fn", InputType::Text, "Function path", Target::Option, "functionPath")
                    .placeholder("/.netlify/functions/invite-desk")
                    .help("Where you deployed the Invite Desk function. Leave empty for the default."),
            ],
            link_lifetime: false,
            emails_per_hour_help: None,
        },
    }
}
