//! Royalti's forms: sign in with the account (then pick workspaces), or one workspace's API key.

use super::form::{BackendForm, Choice, Field, InputType, ModeSpec, Renew, SettingsForm, Target};
use crate::model::WorkspaceKind;
use crate::secret::names;
use crate::workspace::{AuthMode, ROYALTI_DEFAULT_URL};

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
