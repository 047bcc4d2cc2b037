//! Signing in to Royalti (docs/wire/royalti.md §A.1): the account's workspaces from
//! `POST /auth/login`, then a workspace access token from `GET /auth/authtoken`.

use super::*;

/// One workspace of the account, as sign-in lists it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoyaltiWorkspace {
    /// The workspace id (`workspaceId`).
    pub id: String,
    /// Its name.
    pub name: String,
    /// The owner's role in it (`owner`, `admin`, `user`…).
    pub role: String,
    /// True for roles that may invite (owner and admin and above).
    pub can_invite: bool,
}

/// What sign-in found: the account and its workspaces.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoyaltiAccount {
    /// The address signed in with.
    pub email: String,
    /// Every workspace the account belongs to.
    pub workspaces: Vec<RoyaltiWorkspace>,
}

/// The refresh token a sign-in got, kept in memory until workspaces are added. Not
/// serializable; prints redacted.
pub struct RoyaltiSession {
    refresh_token: Sensitive<String>,
}

impl std::fmt::Debug for RoyaltiSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RoyaltiSession(<redacted>)")
    }
}

pub(super) fn base(url: &str) -> String {
    url.trim().trim_end_matches('/').to_string()
}

/// True for roles that may invite.
pub fn can_invite(role: &str) -> bool {
    INVITER_ROLES.contains(&role.trim().to_ascii_lowercase().as_str())
}

/// Signs in (`POST /auth/login`) and lists the account's workspaces with the owner's role.
/// A wrong email or password is [`Error::InvalidInput`]; the login limit (20 per 3 minutes)
/// is [`Error::RateLimited`].
pub async fn royalti_sign_in(
    http: &Http,
    base_url: &str,
    email: &str,
    password: &Sensitive<String>,
) -> Result<(RoyaltiAccount, RoyaltiSession)> {
    let body = LoginBody {
        email: email.trim(),
        password: password.expose(),
    };
    // A lost answer to a sign-in changes nothing a second sign-in would not: safe to repeat.
    let resp = http
        .send_read(
            http.client()
                .post(format!("{}{LOGIN_PATH}", base(base_url)))
                .json(&body),
        )
        .await?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = body_text(resp).await?;
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::BAD_REQUEST {
        return Err(Error::invalid_input(
            "Royalti sign-in",
            server_words(&text)
                .map(|w| format!("{w}. Check the email and password."))
                .unwrap_or_else(|| "the email or password is not right".into()),
        ));
    }
    if !status.is_success() {
        return Err(map_status(status, &headers, &text, Ctx::SignIn));
    }
    let answer: LoginAnswer = lenient::json_object(&text)?;
    let refresh = answer.refresh_token.or(answer.refresh_token_camel).ok_or_else(|| {
        Error::WrongServer {
            hint: "This address does not answer like Royalti's API. Leave the server empty, or use the address Royalti gave you.".into(),
            detail: Some("no refresh_token in the login answer".into()),
        }
    })?;
    let workspaces = answer
        .workspaces
        .unwrap_or_default()
        .into_iter()
        .filter_map(|w| {
            let id = w.workspace_id.or(w.id)?;
            let role = w.role.unwrap_or_default();
            Some(RoyaltiWorkspace {
                name: w.name.unwrap_or_else(|| id.clone()),
                can_invite: can_invite(&role),
                id,
                role,
            })
        })
        .collect();
    Ok((
        RoyaltiAccount {
            email: email.trim().to_lowercase(),
            workspaces,
        },
        RoyaltiSession {
            refresh_token: Sensitive::new(refresh),
        },
    ))
}

/// Gets a workspace access token (`GET /auth/authtoken?currentWorkspace=`) with the session's
/// refresh token and keeps both in `secrets` under `ws_id`.
pub async fn royalti_connect_workspace(
    http: &Http,
    base_url: &str,
    session: &RoyaltiSession,
    remote_workspace_id: &str,
    secrets: &dyn SecretStore,
    ws_id: &str,
) -> Result<()> {
    let access = mint_access(http, base_url, &session.refresh_token, remote_workspace_id).await?;
    secrets.set(ws_id, names::REFRESH_TOKEN, &session.refresh_token)?;
    secrets.set(ws_id, names::ACCESS_TOKEN, &access)
}

pub(super) async fn mint_access(
    http: &Http,
    base_url: &str,
    refresh: &Sensitive<String>,
    remote_workspace_id: &str,
) -> Result<Sensitive<String>> {
    let rb = http
        .client()
        .get(format!("{}{AUTHTOKEN_PATH}", base(base_url)))
        .query(&[("currentWorkspace", remote_workspace_id)])
        .bearer_auth(refresh.expose());
    let resp = http.send_read(rb).await?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = body_text(resp).await?;
    // Unverified (docs/wire/royalti.md §A.1, "Could not verify"): 404 from `authtoken` is taken to mean
    // the account has no place in that workspace (any more).
    if status == StatusCode::NOT_FOUND {
        return Err(Error::NotAdmin {
            hint: "This account is no longer a member of the workspace.".into(),
            detail: server_words(&text),
        });
    }
    if !status.is_success() {
        return Err(map_status(status, &headers, &text, Ctx::Token));
    }
    let answer: AuthTokenAnswer = lenient::json_object(&text)?;
    answer
        .data
        .and_then(|d| d.access_token)
        .or(answer.access_token)
        .map(Sensitive::new)
        .ok_or_else(|| Error::BadResponse {
            detail: Some("no data.access_token in the answer".into()),
        })
}
