//! GoTrue wire details shared by the Supabase, self-hosted GoTrue and Netlify Identity providers.
//!
//! - [`GotrueUser`] and [`to_invite`]: the user JSON of both forks, and when it counts as
//!   pending, accepted or expired (see `docs/wire/gotrue.md` §3 "Pending vs accepted").
//! - [`parse_error`] and [`map_error`]: every error body these servers send (Supabase's two shapes,
//!   Netlify's `{code,msg}`, OAuth's `{error,error_description}` and the Invite Desk Netlify
//!   Function's `{error:{code,message}}`) turned into the core's [`Error`] kinds.
//! - [`next_page_from_link`] and [`total_count`]: `Link` / `X-Total-Count` paging.
//! - The operations whose rules are the same for every back end (cancel only while pending, after
//!   re-reading the user; resend; copy a link), written once over the small [`AdminApi`] trait.
//!
//! Split by what it does: [`wire`] (what the servers send: users, pages, links), [`bodies`]
//! (each body sent and answer read, as serde structs), [`errors`]
//! (error bodies to [`Error`](crate::error::Error) kinds), [`admin`] (the admin calls, over GoTrue's REST API) and
//! [`flows`] (the operations themselves).

pub mod admin;
pub mod bodies;
pub mod errors;
pub mod flows;
pub mod wire;

pub use admin::{AdminApi, RestAdmin};
pub use errors::{map_error, parse_error, read_ok, ApiError, ErrCtx, Hints};
pub use flows::{cancel, find_user, invite, link, list_page, resend};
pub use wire::{
    checked_id, health_version, jwt_claims, jwt_payload, next_page_from_link, parse_link_answer,
    parse_user, to_invite, total_count, Dialect, GotrueUser, JwtClaims, UserPage, MESSAGE_KEY,
    PER_PAGE,
};
