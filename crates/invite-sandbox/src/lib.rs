//! A local server that answers as the real invitation APIs do.
