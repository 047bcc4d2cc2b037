//! The provider for a workspace. Delegates to `invite_core::connect::provider_for` once it
//! exists; until then it builds the providers that are written.

use std::sync::Arc;

use invite_core::http::Http;
use invite_core::model::WorkspaceKind;
use invite_core::provider::Provider;
use invite_core::providers::{
    gotrue::GotrueProvider, netlify::NetlifyProvider, supabase::SupabaseProvider,
};
use invite_core::secret::SecretStore;
use invite_core::workspace::Workspace;

/// Builds the provider for `ws`.
pub fn provider_for(
    http: Http,
    ws: &Workspace,
    secrets: Arc<dyn SecretStore>,
) -> invite_core::Result<Arc<dyn Provider>> {
    Ok(match ws.kind {
        WorkspaceKind::Supabase => Arc::new(SupabaseProvider::new(http, ws, secrets)?),
        WorkspaceKind::Gotrue => Arc::new(GotrueProvider::new(http, ws, secrets)?),
        WorkspaceKind::Netlify => Arc::new(NetlifyProvider::new(http, ws, secrets)?),
        WorkspaceKind::Royalti => {
            return Err(invite_core::Error::Unsupported {
                what: "Royalti (coming in this version)".into(),
            })
        }
    })
}
