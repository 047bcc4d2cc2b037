//! One module per back end, all behind [`crate::provider::Provider`].

pub mod gotrue;
pub mod gotrue_common;
pub mod lenient;
pub mod netlify;
pub mod royalti;
pub mod session;
pub mod supabase;
