//! Every JSON body Invite Desk sends to a GoTrue server (or the Invite Desk Netlify Function),
//! and every answer it reads besides the user itself ([`GotrueUser`]), as serde structs that
//! follow `docs/wire/gotrue.md`. Answers ignore unknown fields, take missing ones as absent, and
//! read a field of an unexpected type as absent (see [`crate::providers::lenient`]).

use serde::de::{Deserializer, Error as _};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::wire::GotrueUser;
use crate::providers::lenient;

/// `POST /invite` (§1a, §1b); the Invite Desk function's `POST /invite` takes the same.
#[derive(Debug, Serialize)]
pub struct InviteBody<'a> {
    /// The address.
    pub email: &'a str,
    /// Becomes the new user's `user_metadata` (a Supabase re-invite ignores it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<&'a Value>,
}

/// `POST /admin/generate_link` (§4, Supabase only). The redirect also goes in the query.
#[derive(Debug, Serialize)]
pub struct GenerateLinkBody<'a> {
    /// Always `invite`.
    #[serde(rename = "type")]
    pub link_type: &'static str,
    /// The address.
    pub email: &'a str,
    /// The new user's `user_metadata`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<&'a Value>,
    /// Where the link leads after accepting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_to: Option<&'a str>,
}

/// `DELETE /admin/users/{id}` on Supabase (§4; supabase-js sends it too, §7).
#[derive(Debug, Serialize)]
pub struct DeleteUserBody {
    /// False: delete the user for good, so the address can be invited again.
    pub should_soft_delete: bool,
}

/// `PUT /admin/users/{id}`: the server merges `user_metadata` into the user's.
#[derive(Debug, Serialize)]
pub struct UpdateUserBody<'a> {
    /// The keys to set.
    pub user_metadata: &'a Value,
}

/// `GET /admin/users` (§3): `{"users": […], "aud"}`; paging is in the headers.
#[derive(Debug, Default, Deserialize)]
pub struct UsersAnswer {
    /// The users of the page; `None` when the answer has no list.
    #[serde(default)]
    pub users: Option<Vec<GotrueUser>>,
}

/// `POST /admin/generate_link` (§4): the user's fields at the top level plus `action_link`;
/// older servers nest `{user, properties: {action_link}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LinkAnswer {
    /// The link (current servers).
    #[serde(deserialize_with = "lenient::opt")]
    pub action_link: Option<String>,
    /// The link (older servers).
    #[serde(deserialize_with = "lenient::opt_object")]
    pub properties: Option<LinkProperties>,
    /// The user, when nested (older servers). An object that is not a user is an error.
    #[serde(deserialize_with = "nested_user")]
    pub user: Option<GotrueUser>,
}

/// `properties` of an older `generate_link` answer.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LinkProperties {
    /// The link.
    #[serde(deserialize_with = "lenient::opt")]
    pub action_link: Option<String>,
}

fn nested_user<'de, D: Deserializer<'de>>(d: D) -> Result<Option<GotrueUser>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        Some(v @ Value::Object(_)) => GotrueUser::deserialize(v)
            .map(Some)
            .map_err(D::Error::custom),
        _ => Ok(None),
    }
}

/// `GET /health` (§6): `{"version", "name": "GoTrue", "description"}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HealthAnswer {
    /// `GoTrue` on both forks.
    #[serde(deserialize_with = "lenient::opt")]
    pub name: Option<String>,
    /// The server's version.
    #[serde(deserialize_with = "lenient::opt")]
    pub version: Option<String>,
}

/// The keys of `GET /settings` (§6) that only one fork has; their values do not matter.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SettingsAnswer {
    /// Supabase.
    #[serde(deserialize_with = "lenient::present")]
    pub mailer_autoconfirm: bool,
    /// Supabase.
    #[serde(deserialize_with = "lenient::present")]
    pub phone_autoconfirm: bool,
    /// Supabase.
    #[serde(deserialize_with = "lenient::present")]
    pub sms_provider: bool,
    /// Supabase.
    #[serde(deserialize_with = "lenient::present")]
    pub saml_enabled: bool,
    /// Netlify.
    #[serde(deserialize_with = "lenient::present")]
    pub autoconfirm: bool,
    /// Netlify.
    #[serde(deserialize_with = "lenient::present")]
    pub external_labels: bool,
}

impl SettingsAnswer {
    /// Keys only Supabase's fork has.
    pub fn is_supabase(&self) -> bool {
        self.mailer_autoconfirm || self.phone_autoconfirm || self.sms_provider || self.saml_enabled
    }

    /// Keys only Netlify's fork has.
    pub fn is_netlify(&self) -> bool {
        self.autoconfirm || self.external_labels
    }
}

/// Every error body shape these servers send (§1a, §1b, §6 and the Invite Desk function):
/// Supabase `{"code":"<error_code>","message"}` (API version 2024-01-01) and
/// `{"code":<status>,"error_code","msg"}`; Netlify `{"code":<status>,"msg"}`; OAuth
/// `{"error","error_description"}`; the function `{"error":{"code","status"?,"message"}}`; a
/// gateway's `{"message"}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ErrorAnswer {
    /// The function's error object, or OAuth's error code.
    #[serde(deserialize_with = "lenient::opt")]
    pub error: Option<ErrorField>,
    /// OAuth's words.
    #[serde(deserialize_with = "lenient::opt")]
    pub error_description: Option<String>,
    /// Supabase's code (default shape).
    #[serde(deserialize_with = "lenient::opt")]
    pub error_code: Option<String>,
    /// Supabase's code (2024-01-01 shape); a number (the status) reads as absent.
    #[serde(deserialize_with = "lenient::opt")]
    pub code: Option<String>,
    /// Netlify's and Supabase's (default shape) words.
    #[serde(deserialize_with = "lenient::opt")]
    pub msg: Option<String>,
    /// Supabase's (2024-01-01 shape) and gateways' words.
    #[serde(deserialize_with = "lenient::opt")]
    pub message: Option<String>,
}

/// `error` of an error body: the function's object or OAuth's code.
#[derive(Debug)]
pub enum ErrorField {
    /// `{"code", "status"?, "message"}` of the Invite Desk function.
    Function(FunctionError),
    /// OAuth's `error` code.
    Code(String),
}

impl<'de> Deserialize<'de> for ErrorField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(Self::Code(s)),
            v @ Value::Object(_) => FunctionError::deserialize(v)
                .map(Self::Function)
                .map_err(D::Error::custom),
            _ => Err(D::Error::custom("neither an object nor a string")),
        }
    }
}

/// The Invite Desk function's error: an `identity_error` carries Identity's own status.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FunctionError {
    /// `unauthorized`, `forbidden`, `not_found`, `not_pending`, `identity_error`…
    #[serde(deserialize_with = "lenient::opt")]
    pub code: Option<String>,
    /// The words.
    #[serde(deserialize_with = "lenient::opt")]
    pub message: Option<String>,
    /// Identity's status, for an `identity_error`.
    #[serde(deserialize_with = "lenient::opt")]
    pub status: Option<u64>,
}

/// Which keys an error body has, to tell the forks apart (§1a vs §1b): only Supabase sends
/// `error_code`, Netlify sends `msg`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ErrorKeys {
    /// Supabase's default shape.
    #[serde(deserialize_with = "lenient::present")]
    pub error_code: bool,
    /// Netlify's (and Supabase's default) shape.
    #[serde(deserialize_with = "lenient::present")]
    pub msg: bool,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_carry_the_documented_fields_only() {
        let data = json!({"invite_message": "hi"});
        fn b<T: Serialize>(body: &T) -> Value {
            serde_json::to_value(body).unwrap()
        }
        assert_eq!(
            b(&InviteBody {
                email: "a@b.c",
                data: None
            }),
            json!({"email": "a@b.c"})
        );
        assert_eq!(
            b(&InviteBody {
                email: "a@b.c",
                data: Some(&data)
            }),
            json!({"email": "a@b.c", "data": {"invite_message": "hi"}})
        );
        assert_eq!(
            b(&GenerateLinkBody {
                link_type: "invite",
                email: "a@b.c",
                data: None,
                redirect_to: Some("https://x.io/welcome")
            }),
            json!({"type": "invite", "email": "a@b.c", "redirect_to": "https://x.io/welcome"})
        );
        assert_eq!(
            b(&DeleteUserBody {
                should_soft_delete: false
            }),
            json!({"should_soft_delete": false})
        );
        assert_eq!(
            b(&UpdateUserBody {
                user_metadata: &data
            }),
            json!({"user_metadata": {"invite_message": "hi"}})
        );
    }

    #[test]
    fn settings_tell_the_forks_apart_by_their_keys() {
        let s: SettingsAnswer =
            lenient::parse_object(r#"{"external":{},"mailer_autoconfirm":null}"#).unwrap();
        assert!(s.is_supabase() && !s.is_netlify());
        let s: SettingsAnswer =
            lenient::parse_object(r#"{"external":{},"autoconfirm":false}"#).unwrap();
        assert!(!s.is_supabase() && s.is_netlify());
    }
}
