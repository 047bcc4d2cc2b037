//! What the owner fills in to add (and later adjust) a workspace, as each back end describes it.
//!
//! Every back end declares its form next to its module (`<kind>_form.rs`): the words the owner
//! reads, its fields, which of them are secret, and which secrets each way of signing in needs.
//! The window draws the "Add workspace" form and the workspace settings from this description
//! alone, so a new back end brings its own form and no view needs a branch for it.

use serde::Serialize;
use serde_json::Value;

use crate::model::WorkspaceKind;
use crate::workspace::AuthMode;

/// One back end's forms: the add-workspace form and what its settings dialog shows.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendForm {
    /// Which back end.
    pub kind: WorkspaceKind,
    /// Its name as owners know it ("Netlify Identity").
    pub name: &'static str,
    /// One line saying what it is and how Invite Desk reaches it.
    pub description: &'static str,
    /// A block the window draws above the fields (Netlify: deploy the function first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub panel: Option<Panel>,
    /// The fields, in the order they are shown. Advanced ones go under "More options".
    pub fields: Vec<Field>,
    /// The ways of signing in, the first being the one chosen at first. A back end with one
    /// way has one entry (its mode is [`AuthMode::Default`]).
    pub modes: Vec<ModeSpec>,
    /// What the settings dialog of a saved workspace of this kind shows.
    pub settings: SettingsForm,
}

impl BackendForm {
    /// The way of signing in `mode`, if the back end has it.
    pub fn mode(&self, mode: AuthMode) -> Option<&ModeSpec> {
        self.modes.iter().find(|m| m.mode == mode)
    }

    /// The secret the owner types to add a workspace signing in with `mode` (its keychain name).
    pub fn secret_for(&self, mode: AuthMode) -> Option<&'static str> {
        self.mode(mode).and_then(|m| m.secrets.first().copied())
    }
}

/// A block of the form that is more than fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Panel {
    /// Netlify: the function file to deploy, with Save and Copy.
    NetlifyFunction,
}

/// How a field is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum InputType {
    /// One line of text.
    Text,
    /// A web address.
    Url,
    /// An email address.
    Email,
    /// A secret, never shown.
    Password,
    /// A whole number.
    Number,
    /// A yes/no box.
    Checkbox,
    /// One of a few choices, all shown (radio buttons).
    Radio,
    /// One of a few choices in a list.
    Select,
}

/// Where a field's value goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Target {
    /// A field of the draft itself (`name`, `baseUrl`).
    Draft,
    /// One of the workspace's options (a key of its kind's options in
    /// [`crate::workspace::WorkspaceConfig`]).
    Option,
    /// A secret, by its name in [`crate::secret::names`]: it goes to Rust once and to the keychain.
    Secret,
}

/// One choice of a radio group or a list.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Choice {
    /// The value stored.
    pub value: &'static str,
    /// What the owner reads.
    pub label: &'static str,
    /// The element id of a radio button.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'static str>,
}

/// One field of a form.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    /// Stable element id (a radio group's name): `ws-…` for the draft, `opt-…` for options,
    /// `secret-<name>` for secrets, `set-…` in the settings dialog.
    pub id: &'static str,
    /// The label (a radio group's legend).
    pub label: &'static str,
    /// The line under it saying where to find the value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<&'static str>,
    /// An example value shown while it is empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<&'static str>,
    /// How it is typed.
    pub input: InputType,
    /// Whether it must be filled in.
    pub required: bool,
    /// Where the value goes: the draft, the options or the secrets.
    pub target: Target,
    /// Its key there (`name`, `linkLifetimeHours`, `secret_key`…).
    pub key: &'static str,
    /// The value the form starts with.
    #[serde(skip_serializing_if = "Value::is_null")]
    pub default: Value,
    /// The sign-in modes that show it; empty: every mode.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub modes: Vec<AuthMode>,
    /// Shown under "More options".
    pub advanced: bool,
    /// The browser's autofill hint (`off` unless set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autocomplete: Option<&'static str>,
    /// The choices of a radio group or list.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
    /// What the owner reads when a number field holds something else.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalid: Option<&'static str>,
}

impl Field {
    /// A field of `input` type whose value goes to `key` of `target`.
    pub fn new(
        id: &'static str,
        input: InputType,
        label: &'static str,
        target: Target,
        key: &'static str,
    ) -> Field {
        Field {
            id,
            label,
            help: None,
            placeholder: None,
            input,
            required: false,
            target,
            key,
            default: Value::Null,
            modes: Vec::new(),
            advanced: false,
            autocomplete: None,
            choices: Vec::new(),
            invalid: None,
        }
    }

    /// A secret field: `secret-<name>`, a password input, its value to the keychain.
    pub fn secret(name: &'static str, id: &'static str, label: &'static str) -> Field {
        Field::new(id, InputType::Password, label, Target::Secret, name)
    }

    /// The workspace's name, shown in Invite Desk only, starting as `default`.
    pub fn workspace_name(default: &'static str) -> Field {
        Field::new("ws-name", InputType::Text, "Name", Target::Draft, "name")
            .required()
            .default_value(default)
            .help("Shown in Invite Desk only.")
    }

    /// The server's address.
    pub fn address(label: &'static str) -> Field {
        Field::new("ws-url", InputType::Url, label, Target::Draft, "baseUrl")
    }

    /// Where people land after accepting (optional, advanced).
    pub fn redirect() -> Field {
        Field::new(
            "opt-redirect",
            InputType::Url,
            "Where people land after accepting (optional)",
            Target::Option,
            "defaultRedirectUrl",
        )
        .placeholder("https://app.example.com/welcome")
        .advanced()
    }

    /// How long invitation links live, in hours (optional, advanced).
    pub fn link_lifetime() -> Field {
        Field::new(
            "opt-lifetime",
            InputType::Number,
            "Link lifetime in hours (optional)",
            Target::Option,
            "linkLifetimeHours",
        )
        .placeholder("24")
        .invalid("Link lifetime: enter a whole number of hours.")
        .advanced()
    }

    /// "Keep me signed in": the password stays in the keychain for signing in again.
    pub fn keep_signed_in(help: &'static str) -> Field {
        Field::new(
            "opt-keep",
            InputType::Checkbox,
            "Keep me signed in",
            Target::Option,
            "keepSignedIn",
        )
        .default_value(false)
        .help(help)
    }

    /// The radio group choosing how Invite Desk signs in (`authMode`).
    pub fn sign_in_choice(choices: Vec<Choice>) -> Field {
        Field::new(
            "auth",
            InputType::Radio,
            "How Invite Desk signs in",
            Target::Option,
            "authMode",
        )
        .default_value("default")
        .choices(choices)
    }

    /// Sets the help line.
    pub fn help(mut self, help: &'static str) -> Field {
        self.help = Some(help);
        self
    }

    /// Sets the example value.
    pub fn placeholder(mut self, placeholder: &'static str) -> Field {
        self.placeholder = Some(placeholder);
        self
    }

    /// Makes it required.
    pub fn required(mut self) -> Field {
        self.required = true;
        self
    }

    /// Sets the value it starts with.
    pub fn default_value(mut self, value: impl Into<Value>) -> Field {
        self.default = value.into();
        self
    }

    /// Shows it only in these sign-in modes.
    pub fn modes(mut self, modes: &[AuthMode]) -> Field {
        self.modes = modes.to_vec();
        self
    }

    /// Puts it under "More options".
    pub fn advanced(mut self) -> Field {
        self.advanced = true;
        self
    }

    /// Sets the autofill hint.
    pub fn autocomplete(mut self, hint: &'static str) -> Field {
        self.autocomplete = Some(hint);
        self
    }

    /// Sets the choices.
    pub fn choices(mut self, choices: Vec<Choice>) -> Field {
        self.choices = choices;
        self
    }

    /// Sets the words for a value that is not a whole number.
    pub fn invalid(mut self, message: &'static str) -> Field {
        self.invalid = Some(message);
        self
    }

    /// Whether the field is shown in `mode`.
    pub fn shown_in(&self, mode: AuthMode) -> bool {
        self.modes.is_empty() || self.modes.contains(&mode)
    }
}

impl Choice {
    /// A choice in a list.
    pub fn new(value: &'static str, label: &'static str) -> Choice {
        Choice {
            value,
            label,
            id: None,
        }
    }

    /// A radio button with its element id.
    pub fn radio(value: &'static str, id: &'static str, label: &'static str) -> Choice {
        Choice {
            value,
            label,
            id: Some(id),
        }
    }
}

/// One way of signing in to a back end.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModeSpec {
    /// The mode ([`crate::workspace::WorkspaceConfig::auth_mode`]).
    pub mode: AuthMode,
    /// The secrets the owner types when adding a workspace this way (names in
    /// [`crate::secret::names`]).
    pub secrets: Vec<&'static str>,
    /// The form's test button signs in to the account and lists its workspaces to pick from,
    /// instead of testing one workspace (Royalti with a password).
    pub sign_in: bool,
    /// How the owner gets a workspace going again after a sign-out or a rotated key.
    pub renew: Renew,
}

/// "Replace key" / "Sign in again" on a saved workspace: which secret, in which words.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Renew {
    /// The secret typed again (a name in [`crate::secret::names`]).
    pub secret: &'static str,
    /// The button and the dialog's title ("Replace key").
    pub action: &'static str,
    /// The field's label ("Secret key").
    pub field: &'static str,
    /// Where to find the value.
    pub hint: &'static str,
}

/// What a saved workspace's settings dialog shows beyond the address and the sending limits.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsForm {
    /// Connection fields under the address (ids `set-…`, keys of the workspace options and of
    /// [`crate::workspace::ConnectionSettings`]).
    pub connection: Vec<Field>,
    /// Whether the invitation link lifetime can be set (the server does not say it).
    pub link_lifetime: bool,
    /// Where the owner finds the server's hourly email limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emails_per_hour_help: Option<&'static str>,
}

/// Every back end's forms, in the order the window offers them.
pub fn all() -> Vec<BackendForm> {
    vec![
        super::supabase_form::form(),
        super::gotrue_form::form(),
        super::netlify_form::form(),
        super::royalti_form::form(),
    ]
}

/// The forms of one back end.
pub fn of(kind: WorkspaceKind) -> BackendForm {
    match kind {
        WorkspaceKind::Supabase => super::supabase_form::form(),
        WorkspaceKind::Gotrue => super::gotrue_form::form(),
        WorkspaceKind::Netlify => super::netlify_form::form(),
        WorkspaceKind::Royalti => super::royalti_form::form(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::HashSet;

    use super::*;
    use crate::secret::names;
    use crate::workspace::{ConnectionSettings, GotrueFork, WorkspaceConfig};

    fn keys_of(value: serde_json::Value) -> HashSet<String> {
        value.as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn every_kind_has_a_form_in_order() {
        let kinds: Vec<WorkspaceKind> = all().iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [
                WorkspaceKind::Supabase,
                WorkspaceKind::Gotrue,
                WorkspaceKind::Netlify,
                WorkspaceKind::Royalti
            ]
        );
        for form in all() {
            assert_eq!(of(form.kind).kind, form.kind);
            assert_eq!(form.name, form.kind.label(), "one name per back end");
            assert!(!form.description.is_empty());
            assert!(
                !form.modes.is_empty(),
                "{:?} has no way to sign in",
                form.kind
            );
        }
    }

    #[test]
    fn ids_are_unique_and_say_where_the_value_goes() {
        for form in all() {
            let mut ids = HashSet::new();
            let radios = form
                .fields
                .iter()
                .flat_map(|f| f.choices.iter().filter_map(|c| c.id));
            for id in form.fields.iter().map(|f| f.id).chain(radios) {
                assert!(ids.insert(id), "{:?}: id {id} twice", form.kind);
            }
            for f in &form.fields {
                assert!(!f.label.is_empty(), "{}: no label", f.id);
                match f.target {
                    Target::Secret => {
                        assert_eq!(f.id, format!("secret-{}", f.key));
                        assert_eq!(f.input, InputType::Password, "{} is not hidden", f.id);
                    }
                    Target::Draft => assert!(f.id.starts_with("ws-"), "{}", f.id),
                    Target::Option => {
                        assert!(f.id.starts_with("opt-") || f.input == InputType::Radio);
                        assert_ne!(f.input, InputType::Password, "{}: a secret option", f.id);
                    }
                }
            }
            let mut ids = HashSet::new();
            for f in &form.settings.connection {
                assert!(f.id.starts_with("set-"), "{}", f.id);
                assert!(ids.insert(f.id), "{:?}: id {} twice", form.kind, f.id);
            }
        }
    }

    #[test]
    fn every_secret_is_a_known_name_and_has_its_field() {
        for form in all() {
            for m in &form.modes {
                assert!(!m.secrets.is_empty(), "{:?} {:?}", form.kind, m.mode);
                for s in &m.secrets {
                    assert!(names::ALL.contains(s), "{s} is not a secret name");
                    let field = form
                        .fields
                        .iter()
                        .find(|f| f.target == Target::Secret && f.key == *s)
                        .unwrap_or_else(|| panic!("{:?}: no field for {s}", form.kind));
                    assert!(field.shown_in(m.mode), "{s} hidden in {:?}", m.mode);
                }
                assert!(names::ALL.contains(&m.renew.secret));
                assert!(
                    m.secrets.contains(&m.renew.secret),
                    "{:?} {:?}: renews a secret the mode does not use",
                    form.kind,
                    m.mode
                );
            }
            // A secret field belongs to some mode, and every secret field is a known name.
            for f in form.fields.iter().filter(|f| f.target == Target::Secret) {
                assert!(names::ALL.contains(&f.key));
                assert!(form.modes.iter().any(|m| m.secrets.contains(&f.key)));
            }
        }
    }

    #[test]
    fn modes_and_choices_are_values_the_core_reads() {
        let connection = keys_of(serde_json::to_value(ConnectionSettings::default()).unwrap());
        for form in all() {
            // The keys of this kind's options only: a form cannot fill another kind's.
            let config = serde_json::to_value(WorkspaceConfig::default_for(form.kind)).unwrap();
            let options = keys_of(config["options"].clone());
            let modes: Vec<AuthMode> = form.modes.iter().map(|m| m.mode).collect();
            assert_eq!(modes[0], AuthMode::Default);
            let choice = form.fields.iter().find(|f| f.input == InputType::Radio);
            match choice {
                Some(f) => {
                    assert_eq!(f.key, "authMode");
                    let values: Vec<AuthMode> = f
                        .choices
                        .iter()
                        .map(|c| serde_json::from_value(serde_json::json!(c.value)).unwrap())
                        .collect();
                    assert_eq!(
                        values, modes,
                        "{:?}: the radio group lists the modes",
                        form.kind
                    );
                    assert!(f.choices.iter().all(|c| c.id.is_some()));
                }
                None => assert_eq!(modes.len(), 1, "{:?}: modes but no choice", form.kind),
            }
            for f in &form.fields {
                for m in &f.modes {
                    assert!(
                        modes.contains(m),
                        "{}: shown in a mode that does not exist",
                        f.id
                    );
                }
                match f.target {
                    Target::Draft => assert!(["name", "baseUrl"].contains(&f.key)),
                    Target::Option => assert!(options.contains(f.key), "{}: {}", f.id, f.key),
                    Target::Secret => {}
                }
                if f.input == InputType::Number {
                    assert!(f.invalid.is_some(), "{}: no words for a bad number", f.id);
                }
            }
            for f in &form.settings.connection {
                assert_eq!(f.target, Target::Option);
                assert!(options.contains(f.key), "{}", f.key);
                assert!(connection.contains(f.key), "{}", f.key);
                if f.key == "gotrueFork" {
                    for c in &f.choices {
                        let _: GotrueFork =
                            serde_json::from_value(serde_json::json!(c.value)).unwrap();
                    }
                }
            }
        }
    }

    #[test]
    fn each_mode_names_the_secret_typed_when_adding() {
        let secret = |kind, mode| of(kind).secret_for(mode);
        assert_eq!(
            secret(WorkspaceKind::Supabase, AuthMode::Default),
            Some(names::SECRET_KEY)
        );
        assert_eq!(
            secret(WorkspaceKind::Gotrue, AuthMode::Default),
            Some(names::JWT_SECRET)
        );
        assert_eq!(
            secret(WorkspaceKind::Gotrue, AuthMode::OperatorToken),
            Some(names::OPERATOR_TOKEN)
        );
        assert_eq!(
            secret(WorkspaceKind::Netlify, AuthMode::Default),
            Some(names::PASSWORD)
        );
        assert_eq!(
            secret(WorkspaceKind::Royalti, AuthMode::Default),
            Some(names::PASSWORD)
        );
        assert_eq!(
            secret(WorkspaceKind::Royalti, AuthMode::ApiKey),
            Some(names::API_KEY)
        );
        assert_eq!(secret(WorkspaceKind::Supabase, AuthMode::ApiKey), None);
    }

    #[test]
    fn the_window_receives_camel_case_and_no_empty_keys() {
        let json = serde_json::to_value(all()).unwrap();
        let supabase = &json[0];
        assert_eq!(supabase["kind"], "supabase");
        assert_eq!(supabase["fields"][0]["id"], "ws-name");
        assert_eq!(supabase["fields"][0]["default"], "My Supabase project");
        assert_eq!(supabase["modes"][0]["secrets"][0], "secret_key");
        assert_eq!(supabase["modes"][0]["signIn"], false);
        assert_eq!(supabase["settings"]["linkLifetime"], true);
        assert!(supabase.get("panel").is_none());
        assert_eq!(json[2]["panel"], "netlifyFunction");
        let royalti = &json[3];
        assert_eq!(royalti["modes"][0]["signIn"], true);
        assert_eq!(royalti["modes"][1]["mode"], "api_key");
        assert_eq!(royalti["fields"][0]["input"], "radio");
        assert_eq!(royalti["fields"][0]["choices"][1]["id"], "auth-key");
    }
}
