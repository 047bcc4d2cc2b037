//! The shapes every back end is mapped to. The UI sees these (serialized as camelCase).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which service a workspace lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkspaceKind {
    /// Supabase Auth (hosted, or self-hosted behind its gateway): URL + secret key.
    Supabase,
    /// A self-hosted GoTrue server at its root URL (Supabase's or Netlify's fork).
    Gotrue,
    /// Netlify Identity, through the Invite Desk Netlify Function.
    Netlify,
    /// A Royalti workspace.
    Royalti,
}

impl WorkspaceKind {
    /// Name shown to owners.
    pub fn label(self) -> &'static str {
        match self {
            WorkspaceKind::Supabase => "Supabase",
            WorkspaceKind::Gotrue => "Self-hosted GoTrue",
            WorkspaceKind::Netlify => "Netlify Identity",
            WorkspaceKind::Royalti => "Royalti",
        }
    }
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum InviteStatus {
    /// Sent, not yet accepted, still usable.
    Pending,
    /// The person accepted and is a member.
    Accepted,
    /// Sent, not accepted, and the link has expired (a resend fixes it).
    Expired,
    /// Revoked; the link no longer works.
    Cancelled,
}

impl InviteStatus {
    /// Stable lower-case name (the serde form).
    pub fn as_str(self) -> &'static str {
        match self {
            InviteStatus::Pending => "pending",
            InviteStatus::Accepted => "accepted",
            InviteStatus::Expired => "expired",
            InviteStatus::Cancelled => "cancelled",
        }
    }

    /// True when resend/cancel make sense (pending or expired, never accepted).
    pub fn is_open(self) -> bool {
        matches!(self, InviteStatus::Pending | InviteStatus::Expired)
    }
}

/// One invitation as the server knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invite {
    /// The server's id (GoTrue user id, Royalti invite id).
    pub id: String,
    /// The invited address, lower-cased as the server stores it.
    pub email: String,
    /// Where it stands.
    pub status: InviteStatus,
    /// When the invitation was (last) sent.
    pub invited_at: Option<DateTime<Utc>>,
    /// When the link stops working, where known.
    pub expires_at: Option<DateTime<Utc>>,
    /// When the person accepted, where known.
    pub accepted_at: Option<DateTime<Utc>>,
    /// Display name where the server has one.
    pub name: Option<String>,
    /// The message sent with the invitation, where the server keeps it.
    pub message: Option<String>,
}

/// A reference to an invitation for resend/cancel/link: the id plus the address, because some
/// back ends (Netlify) must re-create the invitation by address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InviteRef {
    /// The server's id.
    pub id: String,
    /// The invited address.
    pub email: String,
}

/// What the owner asked to send to one address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct InviteRequest {
    /// The address (already validated and normalised by the parser).
    pub email: String,
    /// Optional personal message.
    #[serde(default)]
    pub message: Option<String>,
    /// Optional URL the invitee lands on after accepting.
    #[serde(default)]
    pub redirect_url: Option<String>,
    /// `true`: the server emails the invitation; `false`: create a link to copy instead.
    #[serde(default = "yes")]
    pub send_email: bool,
}

fn yes() -> bool {
    true
}

/// What happened when one invitation was sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invited {
    /// The invitation as the server now has it (looked up where the response has no id).
    pub invite: Invite,
    /// The link to copy, when one was created instead of (or besides) an email.
    pub link: Option<String>,
    /// True when an existing pending invitation was updated/re-sent instead of a new one made.
    pub replaced_existing: bool,
}

/// Options for a resend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ResendOptions {
    /// New message (Royalti replaces the old one).
    #[serde(default)]
    pub message: Option<String>,
    /// New redirect URL.
    #[serde(default)]
    pub redirect_url: Option<String>,
}

/// Filter for listing invitations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// Only this status (applied on the server where it can filter, else locally).
    #[serde(default)]
    pub status: Option<InviteStatus>,
    /// Substring of the address.
    #[serde(default)]
    pub search: Option<String>,
}

/// One page of invitations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct InvitePage {
    /// The invitations on this page.
    pub invites: Vec<Invite>,
    /// Total count across pages, when the server says.
    pub total: Option<u64>,
    /// The next page number, or `None` on the last page.
    pub next_page: Option<u32>,
}

/// What a back end can do; the UI hides or greys out what is `false`. The default is nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    /// A personal message can be sent with the invitation.
    pub message: bool,
    /// A redirect URL can be set per invitation.
    pub redirect: bool,
    /// Sending the email can be turned off.
    pub send_email_toggle: bool,
    /// A link can be created to copy (instead of an email).
    pub copy_link: bool,
    /// Pending invitations can be re-sent.
    pub resend: bool,
    /// Pending invitations can be cancelled.
    pub cancel: bool,
    /// The server (or the workspace settings) tell when a link expires.
    pub expiry: bool,
}

/// Result of a successful connection check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionReport {
    /// One plain sentence: what was checked and found.
    pub summary: String,
    /// Warnings the owner should read (deprecation, redirect allow-list, email limits…).
    pub notes: Vec<String>,
}
