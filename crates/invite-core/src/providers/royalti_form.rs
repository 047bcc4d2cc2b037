//! Royalti's options and forms: sign in with the account (then pick workspaces), or one
//! workspace's API key.

use serde::{Deserialize, Serialize};

use super::form::{BackendForm, Choice, Field, InputType, ModeSpec, Renew, SettingsForm, Target};
use crate::error::Result;
use crate::model::WorkspaceKind;
use crate::secret::names;
use crate::workspace::{
    blank_is_none, refuse_foreign, AuthMode, BackendOptions, ConnectionSettings, SendingOptions,
    ROYALTI_DEFAULT_URL,
};

/// How Invite Desk signs in to Royalti.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RoyaltiSignIn {
    /// The owner's account, email and password (the form's `default`).
    #[default]
    #[serde(rename = "default")]
    Password,
    /// A workspace API key (`RWAK…`).
    ApiKey,
}

impl From<RoyaltiSignIn> for AuthMode {
    fn from(s: RoyaltiSignIn) -> AuthMode {
        match s {
            RoyaltiSignIn::Password => AuthMode::Default,
            RoyaltiSignIn::ApiKey => AuthMode::ApiKey,
        }
    }
}

/// A Royalti workspace's options (tokens, an API key or the kept password are in the keychain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct RoyaltiOptions {
    /// How Invite Desk signs in.
    pub auth_mode: RoyaltiSignIn,
    /// The workspace's id inside the account.
    pub remote_workspace_id: Option<String>,
    /// The address the owner signs in with (not secret, shown in the window).
    pub account_email: Option<String>,
    /// The owner's role in the workspace as the server reported it.
    pub role: Option<String>,
    /// The password is kept in the keychain for signing in again silently.
    pub keep_signed_in: bool,
    /// How invitations go out.
    #[serde(flatten)]
    pub sending: SendingOptions,
}

impl BackendOptions for RoyaltiOptions {
    const KIND: WorkspaceKind = WorkspaceKind::Royalti;

    fn sending(&self) -> &SendingOptions {
        &self.sending
    }

    fn sending_mut(&mut self) -> &mut SendingOptions {
        &mut self.sending
    }

    fn auth_mode(&self) -> AuthMode {
        self.auth_mode.into()
    }

    fn tidy(&mut self) {
        self.account_email = blank_is_none(self.account_email.take());
        self.sending.tidy();
    }

    fn validate(&self) -> Result<()> {
        Ok(())
    }

    fn connection(&self) -> Self {
        RoyaltiOptions {
            auth_mode: self.auth_mode,
            remote_workspace_id: self.remote_workspace_id.clone(),
            account_email: blank_is_none(self.account_email.clone()),
            role: self.role.clone(),
            keep_signed_in: self.keep_signed_in,
            sending: SendingOptions::default(),
        }
    }

    fn apply_connection(&mut self, c: &ConnectionSettings) -> Result<()> {
        refuse_foreign(c, &[])
    }
}

/// Royalti's add-workspace form.
pub fn form() -> BackendForm {
    let password = [AuthMode::Default];
    let api_key = [AuthMode::ApiKey];
    BackendForm {
        kind: WorkspaceKind::Royalti,
        name: "Royalti",
        description: "A Royalti workspace where you are an owner or admin. Sign in with your Royalti account.",
        panel: None,
        fields: vec![
            Field::sign_in_choice(vec![
                Choice::radio("default", "auth-pw", "With my Royalti email and password"),
                Choice::radio("api_key", "auth-key", "With a workspace API key (never expires, can be revoked)"),
            ]),
            // With a password the owner picks workspaces after signing in, each named by Royalti.
            Field::workspace_name("My Royalti workspace").modes(&api_key),
            Field::secret(names::API_KEY, "secret-api_key", "Workspace API key")
                .autocomplete("new-password")
                .modes(&api_key)
                .help("In Royalti: Settings → API keys → a workspace key (starts with RWAK). Only owners and admins can create one."),
            Field::new("opt-email", InputType::Email, "Royalti email", Target::Option, "accountEmail")
                .required()
                .autocomplete("username")
                .modes(&password),
            Field::secret(names::PASSWORD, "secret-password", "Royalti password")
                .required()
                .autocomplete("current-password")
                .modes(&password),
            Field::keep_signed_in("Royalti signs you out after a day. With this, the password stays in the system keychain and Invite Desk signs in again by itself.")
                .modes(&password),
            Field::address("Royalti server (optional)")
                .placeholder(ROYALTI_DEFAULT_URL)
                .help("Leave empty unless Royalti gave you another address.")
                .advanced(),
        ],
        modes: vec![
            ModeSpec {
                mode: AuthMode::Default,
                secrets: vec![names::PASSWORD],
                sign_in: true,
                renew: Renew {
                    secret: names::PASSWORD,
                    action: "Sign in again",
                    field: "Royalti password",
                    hint: "Your Royalti password. Waiting invitations go out after you sign in.",
                },
            },
            ModeSpec {
                mode: AuthMode::ApiKey,
                secrets: vec![names::API_KEY],
                sign_in: false,
                renew: Renew {
                    secret: names::API_KEY,
                    action: "Replace key",
                    field: "Workspace API key",
                    hint: "Royalti → Settings → API keys (starts with RWAK).",
                },
            },
        ],
        settings: SettingsForm {
            connection: Vec::new(),
            link_lifetime: false,
            emails_per_hour_help: None,
        },
    }
}
