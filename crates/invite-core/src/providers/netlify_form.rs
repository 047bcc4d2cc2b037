//! Netlify Identity's forms: the site, the owner's Identity account, and the function to deploy.

use super::form::{BackendForm, Field, InputType, ModeSpec, Panel, Renew, SettingsForm, Target};
use crate::model::WorkspaceKind;
use crate::secret::names;
use crate::workspace::AuthMode;

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
