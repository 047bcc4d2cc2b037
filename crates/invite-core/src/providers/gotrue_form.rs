//! Self-hosted GoTrue's options and forms: the server's address, and its JWT secret or
//! operator token.

use serde::{Deserialize, Serialize};

use super::form::{BackendForm, Choice, Field, InputType, ModeSpec, Renew, SettingsForm, Target};
use crate::error::{Error, Result};
use crate::model::WorkspaceKind;
use crate::secret::names;
use crate::workspace::{
    blank_is_none, refuse_foreign, validate_link_lifetime, AuthMode, BackendOptions,
    ConnectionSettings, SendingOptions,
};

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

/// How Invite Desk signs in to a self-hosted GoTrue server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GotrueSignIn {
    /// Admin tokens minted locally from the server's JWT secret (the form's `default`).
    #[default]
    #[serde(rename = "default")]
    JwtSecret,
    /// The server's operator token (Netlify's GoTrue).
    OperatorToken,
}

impl From<GotrueSignIn> for AuthMode {
    fn from(s: GotrueSignIn) -> AuthMode {
        match s {
            GotrueSignIn::JwtSecret => AuthMode::Default,
            GotrueSignIn::OperatorToken => AuthMode::OperatorToken,
        }
    }
}

/// A self-hosted GoTrue server's options (its secret is in the keychain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct GotrueOptions {
    /// How Invite Desk signs in.
    pub auth_mode: GotrueSignIn,
    /// Which fork the server runs (detected unless set).
    pub gotrue_fork: GotrueFork,
    /// Supabase's fork: the admin role put in minted tokens (default `service_role`).
    pub admin_role: Option<String>,
    /// How long an invitation link lives, in hours (the server's OTP lifetime; default 24).
    pub link_lifetime_hours: Option<u32>,
    /// How invitations go out.
    #[serde(flatten)]
    pub sending: SendingOptions,
}

impl BackendOptions for GotrueOptions {
    const KIND: WorkspaceKind = WorkspaceKind::Gotrue;

    fn sending(&self) -> &SendingOptions {
        &self.sending
    }

    fn sending_mut(&mut self) -> &mut SendingOptions {
        &mut self.sending
    }

    fn auth_mode(&self) -> AuthMode {
        self.auth_mode.into()
    }

    fn link_lifetime_hours(&self) -> Option<u32> {
        self.link_lifetime_hours
    }

    fn set_link_lifetime_hours(&mut self, hours: Option<u32>) -> Result<()> {
        self.link_lifetime_hours = hours;
        Ok(())
    }

    fn tidy(&mut self) {
        self.admin_role = blank_is_none(self.admin_role.take());
        self.sending.tidy();
    }

    fn validate(&self) -> Result<()> {
        if self
            .admin_role
            .as_deref()
            .is_some_and(|r| r.trim().is_empty())
        {
            return Err(Error::invalid_input(
                "Admin role",
                "enter a role or leave the default",
            ));
        }
        validate_link_lifetime(self.link_lifetime_hours)
    }

    fn connection(&self) -> Self {
        GotrueOptions {
            auth_mode: self.auth_mode,
            gotrue_fork: self.gotrue_fork,
            admin_role: blank_is_none(self.admin_role.clone()),
            link_lifetime_hours: None,
            sending: SendingOptions::default(),
        }
    }

    fn apply_connection(&mut self, c: &ConnectionSettings) -> Result<()> {
        refuse_foreign(c, &["adminRole", "gotrueFork"])?;
        self.admin_role = blank_is_none(c.admin_role.clone());
        self.gotrue_fork = c.gotrue_fork.unwrap_or_default();
        Ok(())
    }
}

/// Self-hosted GoTrue's add-workspace form.
pub fn form() -> BackendForm {
    BackendForm {
        kind: WorkspaceKind::Gotrue,
        name: "Self-hosted GoTrue",
        description: "Your own GoTrue server (Supabase’s or Netlify’s version), with its JWT secret or operator token.",
        panel: None,
        fields: vec![
            Field::workspace_name("My GoTrue server"),
            Field::address("Server address")
                .required()
                .placeholder("https://auth.example.com")
                .help("The address GoTrue answers on: its /health page should load there."),
            Field::sign_in_choice(vec![
                Choice::radio("default", "auth-jwt", "JWT secret (Supabase’s and Netlify’s GoTrue)"),
                Choice::radio("operator_token", "auth-op", "Operator token (Netlify’s GoTrue)"),
            ]),
            Field::secret(names::JWT_SECRET, "secret-jwt_secret", "JWT secret")
                .autocomplete("new-password")
                .modes(&[AuthMode::Default])
                .help("The GOTRUE_JWT_SECRET value in the server’s environment or config file."),
            Field::secret(names::OPERATOR_TOKEN, "secret-operator_token", "Operator token")
                .autocomplete("new-password")
                .modes(&[AuthMode::OperatorToken])
                .help("The GOTRUE_OPERATOR_TOKEN value in the server’s environment."),
            Field::new("opt-fork", InputType::Select, "GoTrue version", Target::Option, "gotrueFork")
                .default_value("auto")
                .choices(vec![
                    Choice::new("auto", "Find out automatically"),
                    Choice::new("supabase", "Supabase’s (supabase/auth)"),
                    Choice::new("netlify", "Netlify’s (netlify/gotrue)"),
                ])
                .advanced(),
            Field::new("opt-role", InputType::Text, "Admin role (optional)", Target::Option, "adminRole")
                .placeholder("service_role")
                .help("Supabase’s GoTrue only: a role listed in GOTRUE_JWT_ADMIN_ROLES.")
                .advanced(),
            Field::redirect(),
            Field::link_lifetime().help("GOTRUE_MAILER_OTP_EXP on the server, in hours."),
        ],
        modes: vec![
            ModeSpec {
                mode: AuthMode::Default,
                secrets: vec![names::JWT_SECRET],
                sign_in: false,
                renew: Renew {
                    secret: names::JWT_SECRET,
                    action: "Replace secret",
                    field: "JWT secret",
                    hint: "The GOTRUE_JWT_SECRET (or JWT_SECRET) the server runs with.",
                },
            },
            ModeSpec {
                mode: AuthMode::OperatorToken,
                secrets: vec![names::OPERATOR_TOKEN],
                sign_in: false,
                renew: Renew {
                    secret: names::OPERATOR_TOKEN,
                    action: "Replace secret",
                    field: "Operator token",
                    hint: "The operator token the server runs with.",
                },
            },
        ],
        settings: SettingsForm {
            connection: vec![
                Field::new("set-role", InputType::Text, "Admin role in minted tokens", Target::Option, "adminRole")
                    .placeholder("service_role")
                    .help("Supabase’s fork: a role in GOTRUE_JWT_ADMIN_ROLES. Leave empty for the default."),
                Field::new("set-fork", InputType::Select, "Server", Target::Option, "gotrueFork")
                    .default_value("auto")
                    .choices(vec![
                        Choice::new("auto", "Detect it"),
                        Choice::new("supabase", "Supabase’s GoTrue"),
                        Choice::new("netlify", "Netlify’s GoTrue"),
                    ]),
            ],
            link_lifetime: true,
            emails_per_hour_help: Some("GoTrue’s GOTRUE_RATE_LIMIT_EMAIL_SENT (30 an hour unless changed). Invite Desk keeps to it and queues the rest."),
        },
    }
}
