//! Supabase's options and forms: what the owner types to add a project, and its settings.

use serde::{Deserialize, Serialize};

use super::form::{BackendForm, Field, ModeSpec, Renew, SettingsForm};
use crate::error::Result;
use crate::model::WorkspaceKind;
use crate::secret::names;
use crate::workspace::{
    refuse_foreign, validate_link_lifetime, AuthMode, BackendOptions, ConnectionSettings,
    SendingOptions,
};

/// A Supabase project's options (the key is in the keychain; the address is the workspace's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct SupabaseOptions {
    /// How long an invitation link lives, in hours (the project's Email OTP Expiration;
    /// default 24), to show when links expire.
    pub link_lifetime_hours: Option<u32>,
    /// How invitations go out.
    #[serde(flatten)]
    pub sending: SendingOptions,
}

impl BackendOptions for SupabaseOptions {
    const KIND: WorkspaceKind = WorkspaceKind::Supabase;

    fn sending(&self) -> &SendingOptions {
        &self.sending
    }

    fn sending_mut(&mut self) -> &mut SendingOptions {
        &mut self.sending
    }

    fn link_lifetime_hours(&self) -> Option<u32> {
        self.link_lifetime_hours
    }

    fn set_link_lifetime_hours(&mut self, hours: Option<u32>) -> Result<()> {
        self.link_lifetime_hours = hours;
        Ok(())
    }

    fn tidy(&mut self) {
        self.sending.tidy();
    }

    fn validate(&self) -> Result<()> {
        validate_link_lifetime(self.link_lifetime_hours)
    }

    fn connection(&self) -> Self {
        // The project and its key are all a connection test depends on.
        SupabaseOptions::default()
    }

    fn apply_connection(&mut self, c: &ConnectionSettings) -> Result<()> {
        refuse_foreign(c, &[])
    }
}

/// Supabase's add-workspace form: the project URL and its secret key.
pub fn form() -> BackendForm {
    BackendForm {
        kind: WorkspaceKind::Supabase,
        name: "Supabase",
        description: "A Supabase project. Invitations go through its Auth service with the project’s secret key.",
        panel: None,
        fields: vec![
            Field::workspace_name("My Supabase project"),
            Field::address("Project URL")
                .required()
                .placeholder("https://abcdefgh.supabase.co")
                .help("In the Supabase dashboard: Project Settings → Data API → Project URL. A copied dashboard address works too."),
            Field::secret(names::SECRET_KEY, "secret-secret_key", "Secret key")
                .required()
                .autocomplete("new-password")
                .help("Project Settings → API Keys: a secret key (starts with sb_secret_), or the legacy service_role key (Reveal, then copy). Not the anon or publishable key: it can’t invite."),
            Field::redirect()
                .help("Must be listed under Authentication → URL Configuration → Redirect URLs, or Supabase sends people to the Site URL."),
            Field::link_lifetime()
                .help("Authentication → Providers → Email → Email OTP Expiration. Used to show when links expire."),
        ],
        modes: vec![ModeSpec {
            mode: AuthMode::Default,
            secrets: vec![names::SECRET_KEY],
            sign_in: false,
            renew: Renew {
                secret: names::SECRET_KEY,
                action: "Replace key",
                field: "Secret key",
                hint: "Supabase dashboard → Project Settings → API Keys → Secret keys.",
            },
        }],
        settings: SettingsForm {
            connection: Vec::new(),
            link_lifetime: true,
            emails_per_hour_help: Some("Supabase’s built-in email service sends 2 an hour; with your own SMTP the limit is under Authentication → Rate Limits. Invite Desk keeps to it and queues the rest."),
        },
    }
}
