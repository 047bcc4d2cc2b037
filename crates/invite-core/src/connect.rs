//! Builds the provider for a workspace: the one place that knows which module serves which kind.

use std::sync::Arc;

use crate::error::Result;
use crate::http::Http;
use crate::model::WorkspaceKind;
use crate::provider::Provider;
use crate::providers::{
    gotrue::GotrueProvider, netlify::NetlifyProvider, royalti::RoyaltiProvider,
    supabase::SupabaseProvider,
};
use crate::secret::SecretStore;
use crate::workspace::Workspace;

/// The provider for `ws`, reading its secrets from `secrets` (by workspace id) when it calls.
///
/// The workspace is validated first, wherever it came from: a list edited by hand (plain
/// `http://` to a public host, say) never gets a provider, so no secret is sent there.
pub fn provider_for(
    http: Http,
    ws: &Workspace,
    secrets: Arc<dyn SecretStore>,
) -> Result<Arc<dyn Provider>> {
    ws.validate()?;
    Ok(match ws.kind() {
        WorkspaceKind::Supabase => Arc::new(SupabaseProvider::new(http, ws, secrets)?),
        WorkspaceKind::Gotrue => Arc::new(GotrueProvider::new(http, ws, secrets)?),
        WorkspaceKind::Netlify => Arc::new(NetlifyProvider::new(http, ws, secrets)?),
        WorkspaceKind::Royalti => Arc::new(RoyaltiProvider::new(http, ws, secrets)?),
    })
}
