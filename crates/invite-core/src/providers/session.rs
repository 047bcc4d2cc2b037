//! A signed-in owner's token session, shared by the back ends that act as a person rather than
//! with a key (Netlify Identity, Royalti).
//!
//! The access token lives in the keychain (`names::ACCESS_TOKEN`) with its refresh token
//! (`names::REFRESH_TOKEN`) and, when the owner chose "keep me signed in", the password
//! (`names::PASSWORD`). This module holds the rules both back ends follow:
//!
//! - an access token whose JWT `exp` is within the margin is renewed before it is used, so it
//!   does not expire in flight (an unreadable token is left to the server to judge);
//! - renewing tries the refresh token first, then signs in again with the kept password, else the
//!   owner is signed out ([`Error::SignedOut`]);
//! - one renewal at a time: a call that waited for another's renewal uses the token it got
//!   instead of renewing again (Identity refresh tokens are single-use, and Royalti counts
//!   sign-ins against a limit);
//! - a request answered 401 is sent once more after renewing, and only once: a 401 means the
//!   server acted on nothing, so even a write may be sent again.
//!
//! How a back end refreshes and signs in is its own: [`Renewal`].

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::Utc;

use super::gotrue_common::jwt_claims;
use crate::error::{Error, Result};
use crate::secret::{names, SecretStore, Sensitive};

/// How one back end gets a new access token. Each method keeps in the keychain what it got.
#[async_trait]
pub trait Renewal: Send + Sync {
    /// Trades the kept refresh token for a new access token, keeps it (and a new refresh token,
    /// if the server rotates them) and returns the access token. [`Error::SignedOut`] (or what
    /// [`Renewal::sign_in_again_after`] accepts) means the refresh token is no good any more.
    async fn refresh(&self, refresh_token: &Sensitive<String>) -> Result<Sensitive<String>>;

    /// Signs in again with the kept password and keeps the new tokens. A refused password
    /// ([`Error::InvalidInput`]) is reported as [`Error::SignedOut`] by the session.
    async fn sign_in_again(&self, email: &str, password: &Sensitive<String>) -> Result<()>;

    /// True when a failed refresh calls for signing in again with the kept password; any other
    /// error is returned as it is (a network failure: the refresh token is still good).
    fn sign_in_again_after(&self, e: &Error) -> bool {
        matches!(e, Error::SignedOut { .. })
    }

    /// The error when the session cannot be renewed without the owner (no password kept);
    /// `cause` is the refresh's error.
    fn session_ended(&self, cause: Error) -> Error {
        cause
    }
}

/// What one attempt of a request got, as the back end reads it.
#[derive(Debug)]
pub enum Sent<T> {
    /// Any answer but 401.
    Answer(T),
    /// A 401: the token was refused before the server acted.
    Unauthorized(T),
}

impl<T> Sent<T> {
    /// The answer, 401 or not.
    pub fn into_inner(self) -> T {
        match self {
            Sent::Answer(t) | Sent::Unauthorized(t) => t,
        }
    }
}

/// True when the token's `exp` is past or within `margin_secs` of passing. A token that is not a
/// JWT, or whose `exp` is not an integer, is left to the server (false).
pub fn expiring(token: &str, margin_secs: i64) -> bool {
    jwt_claims(token)
        .and_then(|c| c.exp)
        .is_some_and(|exp| exp.saturating_sub(margin_secs) <= Utc::now().timestamp())
}

/// The token session of one workspace.
#[derive(Debug)]
pub struct TokenSession {
    ws_id: String,
    secrets: Arc<dyn SecretStore>,
    margin_secs: i64,
    keep_signed_in: bool,
    account_email: Option<String>,
    /// One renewal at a time (see the module docs).
    renewing: tokio::sync::Mutex<()>,
}

impl TokenSession {
    /// The session of workspace `ws_id`, whose tokens are in `secrets`. Tokens are renewed
    /// `margin_secs` before they expire; the kept password is used only when `keep_signed_in`
    /// and an `account_email` is known.
    pub fn new(
        ws_id: &str,
        secrets: Arc<dyn SecretStore>,
        margin_secs: i64,
        keep_signed_in: bool,
        account_email: Option<String>,
    ) -> Self {
        Self {
            ws_id: ws_id.to_string(),
            secrets,
            margin_secs,
            keep_signed_in,
            account_email,
            renewing: tokio::sync::Mutex::new(()),
        }
    }

    /// True when `token` expires within this session's margin.
    pub fn expiring(&self, token: &str) -> bool {
        expiring(token, self.margin_secs)
    }

    /// The access token to use now, renewed first when it is missing or about to expire.
    pub async fn token(&self, back_end: &dyn Renewal) -> Result<Sensitive<String>> {
        match self.secrets.get(&self.ws_id, names::ACCESS_TOKEN)? {
            Some(t) if !self.expiring(t.expose()) => Ok(t),
            stale => {
                self.renew(back_end, stale.as_ref().map(|t| t.expose().as_str()))
                    .await
            }
        }
    }

    /// Renews the access token: refresh token first, then the kept password, else signed out.
    /// `stale` is the token that failed or expired; if another call already replaced it with a
    /// fresh one while this one waited, that one is returned and nothing is sent.
    pub async fn renew(
        &self,
        back_end: &dyn Renewal,
        stale: Option<&str>,
    ) -> Result<Sensitive<String>> {
        let _guard = self.renewing.lock().await;
        if let Some(t) = self.secrets.get(&self.ws_id, names::ACCESS_TOKEN)? {
            if Some(t.expose().as_str()) != stale && !self.expiring(t.expose()) {
                return Ok(t);
            }
        }
        let refreshed = match self.secrets.get(&self.ws_id, names::REFRESH_TOKEN)? {
            Some(r) => back_end.refresh(&r).await,
            None => Err(Error::SignedOut {
                detail: Some("no refresh token kept".into()),
            }),
        };
        let cause = match refreshed {
            Ok(t) => return Ok(t),
            Err(e) if back_end.sign_in_again_after(&e) => e,
            Err(e) => return Err(e),
        };
        let password = if self.keep_signed_in {
            self.secrets.get(&self.ws_id, names::PASSWORD)?
        } else {
            None
        };
        let (Some(pw), Some(email)) = (password, self.account_email.as_deref()) else {
            return Err(back_end.session_ended(cause));
        };
        back_end
            .sign_in_again(email, &pw)
            .await
            .map_err(|e| match e {
                Error::InvalidInput { reason, .. } => Error::SignedOut {
                    detail: Some(reason),
                },
                other => other,
            })?;
        self.secrets.require(&self.ws_id, names::ACCESS_TOKEN)
    }

    /// Sends a request with the current access token; on a 401 renews once and sends it once
    /// more. Returns the last answer (a second 401 too, for the back end to report) and the
    /// token it was sent with (to redact from errors). Errors of `attempt` end the call at once.
    pub async fn send<T, F, Fut>(
        &self,
        back_end: &dyn Renewal,
        mut attempt: F,
    ) -> Result<(T, Sensitive<String>)>
    where
        F: FnMut(Sensitive<String>) -> Fut + Send,
        Fut: Future<Output = Result<Sent<T>>> + Send,
        T: Send,
    {
        let token = self.token(back_end).await?;
        match attempt(token.clone()).await? {
            Sent::Answer(t) => return Ok((t, token)),
            Sent::Unauthorized(_) => {}
        }
        let token = self.renew(back_end, Some(token.expose())).await?;
        let answer = attempt(token.clone()).await?.into_inner();
        Ok((answer, token))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    use base64::Engine as _;

    use super::*;
    use crate::secret::MemoryStore;

    const WS: &str = "ws1";

    fn token_with_exp(exp: &str) -> String {
        let b = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!(
            "{}.{}.sig",
            b(r#"{"alg":"HS256"}"#),
            b(&format!(r#"{{"exp":{exp}}}"#))
        )
    }

    /// A back end whose server hands out `access-N` tokens and counts what it is asked.
    #[derive(Debug)]
    struct FakeBackEnd {
        secrets: Arc<MemoryStore>,
        refreshes: AtomicUsize,
        sign_ins: AtomicUsize,
        refresh_answer: Mutex<Option<Error>>,
        password_ok: bool,
    }

    impl FakeBackEnd {
        fn new(secrets: Arc<MemoryStore>) -> Self {
            Self {
                secrets,
                refreshes: AtomicUsize::new(0),
                sign_ins: AtomicUsize::new(0),
                refresh_answer: Mutex::new(None),
                password_ok: true,
            }
        }
    }

    #[async_trait]
    impl Renewal for FakeBackEnd {
        async fn refresh(&self, _: &Sensitive<String>) -> Result<Sensitive<String>> {
            let n = self.refreshes.fetch_add(1, Ordering::SeqCst) + 1;
            // Let racing calls reach the renewal lock while this one is "on the wire".
            tokio::task::yield_now().await;
            if let Some(e) = self.refresh_answer.lock().unwrap().take() {
                return Err(e);
            }
            let t = Sensitive::new(format!("access-{n}"));
            self.secrets.set(WS, names::ACCESS_TOKEN, &t)?;
            Ok(t)
        }

        async fn sign_in_again(&self, _: &str, _: &Sensitive<String>) -> Result<()> {
            self.sign_ins.fetch_add(1, Ordering::SeqCst);
            if !self.password_ok {
                return Err(Error::invalid_input("Email or password", "not accepted"));
            }
            self.secrets
                .set(WS, names::ACCESS_TOKEN, &Sensitive::new("signed-in".into()))
        }
    }

    fn setup(access: &str, keep: bool) -> (Arc<MemoryStore>, TokenSession) {
        let secrets = Arc::new(MemoryStore::new());
        secrets
            .set(WS, names::ACCESS_TOKEN, &Sensitive::new(access.into()))
            .unwrap();
        secrets
            .set(WS, names::REFRESH_TOKEN, &Sensitive::new("refresh".into()))
            .unwrap();
        let session = TokenSession::new(WS, secrets.clone(), 60, keep, Some("o@x.io".into()));
        (secrets, session)
    }

    #[test]
    fn expiry_margin_and_hostile_exp_values() {
        let now = Utc::now().timestamp();
        let t = |d: i64| token_with_exp(&(now + d).to_string());
        assert!(expiring(&t(-10), 60));
        assert!(expiring(&t(30), 60));
        assert!(!expiring(&t(30), 10));
        assert!(expiring(&t(100), 120));
        assert!(!expiring(&t(3600), 120));
        assert!(!expiring("opaque", 60));
        // No overflow; the far past is expired, the far future and non-integers are not.
        assert!(expiring(&token_with_exp(&i64::MIN.to_string()), 60));
        assert!(!expiring(&token_with_exp(&i64::MAX.to_string()), 60));
        assert!(!expiring(&token_with_exp("1e300"), 60));
        assert!(!expiring(&token_with_exp("99999999999999999999999"), 60));
    }

    #[tokio::test]
    async fn a_token_within_the_margin_is_renewed_before_use() {
        let soon = token_with_exp(&(Utc::now().timestamp() + 30).to_string());
        let (secrets, session) = setup(&soon, false);
        let back = FakeBackEnd::new(secrets.clone());
        assert_eq!(session.token(&back).await.unwrap().expose(), "access-1");
        // The fresh token is kept and used as it is.
        assert_eq!(session.token(&back).await.unwrap().expose(), "access-1");
        assert_eq!(back.refreshes.load(Ordering::SeqCst), 1);
        let later = token_with_exp(&(Utc::now().timestamp() + 3600).to_string());
        let (secrets, session) = setup(&later, false);
        let back = FakeBackEnd::new(secrets);
        assert_eq!(session.token(&back).await.unwrap().expose(), &later);
        assert_eq!(back.refreshes.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_401_is_renewed_and_sent_once_more_and_never_again() {
        let (secrets, session) = setup("old", false);
        let back = FakeBackEnd::new(secrets);
        let sent = Mutex::new(Vec::new());
        // The server refuses every token.
        let (answer, token) = session
            .send(&back, |t| {
                sent.lock().unwrap().push(t.expose().clone());
                async { Ok(Sent::Unauthorized(401)) }
            })
            .await
            .unwrap();
        assert_eq!((answer, token.expose().as_str()), (401, "access-1"));
        assert_eq!(*sent.lock().unwrap(), ["old", "access-1"]);
        assert_eq!(back.refreshes.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn several_requests_refused_at_once_renew_once() {
        let (secrets, session) = setup("old", false);
        let back = FakeBackEnd::new(secrets);
        let call = || {
            session.send(&back, |t| async move {
                tokio::task::yield_now().await;
                Ok(if t.expose() == "old" {
                    Sent::Unauthorized(t.expose().clone())
                } else {
                    Sent::Answer(t.expose().clone())
                })
            })
        };
        let (a, b, c, d) = tokio::join!(call(), call(), call(), call());
        for r in [a, b, c, d] {
            assert_eq!(r.unwrap().0, "access-1");
        }
        assert_eq!(back.refreshes.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_refused_refresh_signs_in_again_with_the_kept_password() {
        let (secrets, session) = setup("old", true);
        secrets
            .set(WS, names::PASSWORD, &Sensitive::new("pw".into()))
            .unwrap();
        let back = FakeBackEnd::new(secrets.clone());
        *back.refresh_answer.lock().unwrap() = Some(Error::SignedOut { detail: None });
        assert_eq!(
            session.renew(&back, Some("old")).await.unwrap().expose(),
            "signed-in"
        );
        assert_eq!(back.sign_ins.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn without_a_kept_password_the_owner_is_signed_out() {
        let (secrets, session) = setup("old", false);
        // The password is there, but the owner did not ask to stay signed in: it is not used.
        secrets
            .set(WS, names::PASSWORD, &Sensitive::new("pw".into()))
            .unwrap();
        secrets.delete(WS, names::REFRESH_TOKEN).unwrap();
        let back = FakeBackEnd::new(secrets);
        let e = session.renew(&back, Some("old")).await.unwrap_err();
        assert_eq!(e.kind(), "signed_out");
        assert_eq!(back.sign_ins.load(Ordering::SeqCst), 0);
        assert_eq!(back.refreshes.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_refused_password_signs_out_and_a_network_failure_keeps_the_session() {
        let (secrets, session) = setup("old", true);
        secrets
            .set(WS, names::PASSWORD, &Sensitive::new("pw".into()))
            .unwrap();
        let mut back = FakeBackEnd::new(secrets.clone());
        back.password_ok = false;
        *back.refresh_answer.lock().unwrap() = Some(Error::SignedOut { detail: None });
        let e = session.renew(&back, Some("old")).await.unwrap_err();
        assert_eq!(e.kind(), "signed_out");
        // A refresh that never reached the server: no sign-in, the error as it is.
        *back.refresh_answer.lock().unwrap() = Some(Error::Network { detail: None });
        let e = session.renew(&back, Some("old")).await.unwrap_err();
        assert_eq!(e.kind(), "network");
        assert_eq!(back.sign_ins.load(Ordering::SeqCst), 1);
        assert_eq!(
            secrets
                .get(WS, names::REFRESH_TOKEN)
                .unwrap()
                .unwrap()
                .expose(),
            "refresh"
        );
    }
}
