//! JWT authentication for Costwatch: the [`Verifier`] behind the gateway's `Authenticator` port
//! (RS256/ES256 tokens from an identity provider's JWKS, or from the local key), the
//! [`LocalSigner`] that lets a single-host installation mint its own tokens, and a file-based
//! revocation list; and API keys for machines ([`ApiKeyAuthenticator`], [`Chain`]).
//!
//! HTTPS JWKS endpoints need the `tls` feature (rustls), as in the other HTTP clients of the
//! workspace; tests use plain HTTP.

mod api_keys;
mod jwks;
mod local;
mod revocation;
mod verify;

pub use api_keys::{ApiKeyAuthenticator, Chain};
pub use local::{AuthKeyError, LOCAL_AUDIENCE, LOCAL_ISSUER, LocalSigner, MintError, MintRequest};
pub use revocation::{RevokeError, revoke};
pub use verify::{KeySource, Verifier, VerifierConfig, VerifierError};
