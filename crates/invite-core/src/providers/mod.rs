//! One module per back end, all behind [`crate::provider::Provider`]; each back end's forms (what
//! the owner types to add it) sit beside it in `<kind>_form.rs`, gathered by [`form::all`].

pub mod form;
pub mod gotrue;
pub mod gotrue_common;
pub mod gotrue_form;
pub mod lenient;
pub mod netlify;
pub mod netlify_form;
pub mod royalti;
pub mod royalti_form;
pub mod session;
pub mod supabase;
pub mod supabase_form;
