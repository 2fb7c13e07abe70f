//! Integration tests of `costwatch-auth`: one test binary (one link) for all of them.

mod common;
mod jwks_http;
mod local_key;
mod refusals;
mod revocation;
mod round_trip;
