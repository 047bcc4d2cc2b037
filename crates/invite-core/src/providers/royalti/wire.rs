//! Every body Invite Desk sends to Royalti and every answer it reads, as serde structs that
//! follow `docs/wire/royalti.md`. Where the sources disagree on a name, both are read (two
//! fields, the documented one first). Answers ignore unknown fields, take missing ones as
//! absent, and read a field of an unexpected type as absent (see [`crate::providers::lenient`]);
//! ids and texts may come as numbers.

use serde::de::{Deserializer, Error as _};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::providers::lenient;

/// `POST /auth/login` (§A.1).
#[derive(Serialize)]
pub struct LoginBody<'a> {
    /// The account's address.
    pub email: &'a str,
    /// The account's password.
    pub password: &'a str,
}

impl std::fmt::Debug for LoginBody<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginBody")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// The login answer (§A.1): `{"message", "workspaces": […], "refresh_token"}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginAnswer {
    /// The refresh token (the documented name).
    #[serde(deserialize_with = "lenient::text")]
    pub refresh_token: Option<String>,
    /// The refresh token, camel-cased.
    #[serde(rename = "refreshToken", deserialize_with = "lenient::text")]
    pub refresh_token_camel: Option<String>,
    /// The account's workspaces (rows that are not objects are skipped).
    #[serde(deserialize_with = "lenient::rows")]
    pub workspaces: Option<Vec<LoginWorkspace>>,
}

/// One workspace of the login answer: `{"workspaceId", "name", "status", "userType", "role"}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LoginWorkspace {
    /// The id (documented name).
    #[serde(rename = "workspaceId", deserialize_with = "lenient::text")]
    pub workspace_id: Option<String>,
    /// The id, as `id`.
    #[serde(deserialize_with = "lenient::text")]
    pub id: Option<String>,
    /// Its name.
    #[serde(deserialize_with = "lenient::text")]
    pub name: Option<String>,
    /// The account's role in it.
    #[serde(deserialize_with = "lenient::text")]
    pub role: Option<String>,
}

/// `GET /auth/authtoken` (§A.1): `{"status", "message", "data": {"access_token"}}`; a top-level
/// `access_token` is read too.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AuthTokenAnswer {
    /// The documented place.
    #[serde(deserialize_with = "lenient::opt_object")]
    pub data: Option<AuthTokenData>,
    /// The token at the top level.
    #[serde(deserialize_with = "lenient::opt")]
    pub access_token: Option<String>,
}

/// `data` of [`AuthTokenAnswer`].
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AuthTokenData {
    /// The workspace access token.
    #[serde(deserialize_with = "lenient::opt")]
    pub access_token: Option<String>,
}

/// What `POST /auth/invite` and `POST /user/invites/{id}/resend` both take besides the address
/// (§A.3, §A.5). Absent ones are left out.
#[derive(Debug, Default, Serialize)]
pub struct InviteExtras<'a> {
    /// The owner's message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'a str>,
    /// Unverified (docs/wire/royalti.md §A.3): the current page names the field `redirectUrl`,
    /// the older one `redirect_url`. We send the current name.
    #[serde(rename = "redirectUrl", skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<&'a str>,
}

/// `POST /auth/invite` (§A.3).
#[derive(Debug, Serialize)]
pub struct InviteBody<'a> {
    /// The address.
    pub email: &'a str,
    /// False: create the invitation without emailing it.
    #[serde(rename = "sendEmail")]
    pub send_email: bool,
    /// Message and redirect.
    #[serde(flatten)]
    pub extras: InviteExtras<'a>,
}

/// `GET /user/invites` (§A.4): `{"totalItems", "filteredItems", "totalPages", "currentPage",
/// "invites": […]}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InvitesAnswer {
    /// The rows; `None` when the answer has no list. A row that is not an object counts as a
    /// row (for paging) but reads as nothing.
    #[serde(deserialize_with = "lenient::opt")]
    pub invites: Option<Vec<Row<InviteRecord>>>,
    /// Pages for the query.
    #[serde(rename = "totalPages", deserialize_with = "lenient::opt")]
    pub total_pages: Option<u64>,
    /// Rows matching the query.
    #[serde(rename = "filteredItems", deserialize_with = "lenient::opt")]
    pub filtered_items: Option<u64>,
    /// Rows of the workspace.
    #[serde(rename = "totalItems", deserialize_with = "lenient::opt")]
    pub total_items: Option<u64>,
}

/// One row of a list: the record when it is an object `T` can read.
#[derive(Debug)]
pub struct Row<T>(pub Option<T>);

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Row<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Row(lenient::object(Value::deserialize(d)?)))
    }
}

/// One invitation of `GET /user/invites` (§A.4), PascalCase and camelCase names both read.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InviteRecord {
    /// The invitation id.
    #[serde(deserialize_with = "lenient::text")]
    pub id: Option<String>,
    /// `invited`, `joined` or `cancelled`.
    #[serde(deserialize_with = "lenient::text")]
    pub status: Option<String>,
    /// The person (documented name).
    #[serde(rename = "TenantUser", deserialize_with = "lenient::opt_object")]
    pub tenant_user: Option<TenantUser>,
    /// The person, camel-cased.
    #[serde(rename = "tenantUser", deserialize_with = "lenient::opt_object")]
    pub tenant_user_camel: Option<TenantUser>,
    /// An address at the top level.
    #[serde(deserialize_with = "lenient::text")]
    pub email: Option<String>,
    /// Message and date.
    #[serde(deserialize_with = "lenient::opt_object")]
    pub meta: Option<InviteMeta>,
    /// When the person joined (documented name).
    #[serde(rename = "JoinedAt", deserialize_with = "lenient::text")]
    pub joined_at: Option<String>,
    /// When the person joined, camel-cased.
    #[serde(rename = "joinedAt", deserialize_with = "lenient::text")]
    pub joined_at_camel: Option<String>,
    /// Created (documented name).
    #[serde(rename = "createdAt", deserialize_with = "lenient::text")]
    pub created_at: Option<String>,
    /// Created, snake-cased.
    #[serde(rename = "created_at", deserialize_with = "lenient::text")]
    pub created_at_snake: Option<String>,
    /// Last updated (documented name).
    #[serde(rename = "updatedAt", deserialize_with = "lenient::text")]
    pub updated_at: Option<String>,
    /// Last updated, snake-cased.
    #[serde(rename = "updated_at", deserialize_with = "lenient::text")]
    pub updated_at_snake: Option<String>,
}

/// `TenantUser` of an invitation: `{"id", "firstName", "lastName", "role", "User": {"email"}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TenantUser {
    /// The account (documented name).
    #[serde(rename = "User", deserialize_with = "lenient::opt_object")]
    pub user: Option<UserRef>,
    /// The account, lower-cased name.
    #[serde(rename = "user", deserialize_with = "lenient::opt_object")]
    pub user_lower: Option<UserRef>,
    /// An address on the tenant user itself.
    #[serde(deserialize_with = "lenient::text")]
    pub email: Option<String>,
    /// First name.
    #[serde(rename = "firstName", deserialize_with = "lenient::text")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(rename = "lastName", deserialize_with = "lenient::text")]
    pub last_name: Option<String>,
}

/// `User` of a tenant user.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct UserRef {
    /// The address.
    #[serde(deserialize_with = "lenient::text")]
    pub email: Option<String>,
}

/// `meta` of an invitation.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InviteMeta {
    /// The owner's message.
    #[serde(deserialize_with = "lenient::text")]
    pub message: Option<String>,
    /// When it was (last) sent.
    #[serde(deserialize_with = "lenient::text")]
    pub date: Option<String>,
}

/// Unverified (docs/wire/royalti.md §A.2): the error body, `{"success": false, "error": {"code",
/// "message", "details"}}` or `{"message"}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ErrorAnswer {
    /// The vendor reference's error object, or a bare error string.
    #[serde(deserialize_with = "lenient::opt")]
    pub error: Option<ErrorField>,
    /// The endpoint pages' words.
    #[serde(deserialize_with = "lenient::words")]
    pub message: Option<String>,
}

/// `error` of an error body.
#[derive(Debug)]
pub enum ErrorField {
    /// `{"code", "message", "details"}`: its non-empty `message`.
    Object(Option<String>),
    /// A bare string.
    Words(String),
}

impl<'de> Deserialize<'de> for ErrorField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Inner {
            #[serde(default, deserialize_with = "lenient::words")]
            message: Option<String>,
        }
        match Value::deserialize(d)? {
            Value::String(s) => Ok(Self::Words(s)),
            v @ Value::Object(_) => Inner::deserialize(v)
                .map(|i| Self::Object(i.message))
                .map_err(D::Error::custom),
            _ => Err(D::Error::custom("neither an object nor a string")),
        }
    }
}

impl ErrorAnswer {
    /// `error.message`, then `message`, then a bare non-empty `error`.
    pub fn words(self) -> Option<String> {
        let (inner, bare) = match self.error {
            Some(ErrorField::Object(m)) => (m, None),
            Some(ErrorField::Words(w)) => (None, Some(w).filter(|w| !w.is_empty())),
            None => (None, None),
        };
        inner.or(self.message).or(bare)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_carry_the_documented_fields_only() {
        let b = InviteBody {
            email: "a@b.io",
            send_email: false,
            extras: InviteExtras {
                message: Some("hi"),
                redirect_url: None,
            },
        };
        assert_eq!(
            serde_json::to_value(&b).unwrap(),
            json!({"email": "a@b.io", "sendEmail": false, "message": "hi"})
        );
        let r = InviteExtras {
            message: None,
            redirect_url: Some("https://x.io"),
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"redirectUrl": "https://x.io"})
        );
        assert_eq!(
            serde_json::to_value(InviteExtras::default()).unwrap(),
            json!({})
        );
        let login = LoginBody {
            email: "a@b.io",
            password: "pw-never-printed",
        };
        assert!(!format!("{login:?}").contains("pw-never-printed"));
    }

    #[test]
    fn answers_are_read_tolerantly() {
        let a: LoginAnswer = lenient::parse_object(
            r#"{"refreshToken":"r","workspaces":[{"workspaceId":7,"role":"admin"},"x",{"name":"no id"}]}"#,
        )
        .unwrap();
        assert_eq!(a.refresh_token_camel.as_deref(), Some("r"));
        let ws = a.workspaces.unwrap();
        assert_eq!(ws.len(), 2);
        assert_eq!(ws[0].workspace_id.as_deref(), Some("7"));
        let t: AuthTokenAnswer =
            lenient::parse_object(r#"{"data":{"access_token":"a"},"access_token":"b"}"#).unwrap();
        assert_eq!(t.data.and_then(|d| d.access_token).as_deref(), Some("a"));
        let p: InvitesAnswer =
            lenient::parse_object(r#"{"invites":[{"id":"i"},7],"totalPages":"2"}"#).unwrap();
        assert_eq!(p.invites.unwrap().len(), 2);
        assert_eq!(p.total_pages, None);
    }
}
