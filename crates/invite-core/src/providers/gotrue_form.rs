//! Self-hosted GoTrue's forms: the server's address, and its JWT secret or operator token.

use super::form::{BackendForm, Choice, Field, InputType, ModeSpec, Renew, SettingsForm, Target};
use crate::model::WorkspaceKind;
use crate::secret::names;
use crate::workspace::AuthMode;

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
