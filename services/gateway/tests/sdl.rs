//! The checked-in SDL (`schemas/graphql/schema.graphql`) must match the schema the code builds.

use std::path::PathBuf;

fn checked_in() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schemas/graphql/schema.graphql")
}

#[test]
fn checked_in_sdl_matches_the_schema() {
    let path = checked_in();
    let sdl = costwatch_gateway::sdl();
    if std::env::var_os("UPDATE_SDL").is_some() {
        std::fs::write(&path, &sdl).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == sdl,
        "{} is out of date with the GraphQL schema in services/gateway.\n\
         Regenerate it with: UPDATE_SDL=1 cargo test -p costwatch-gateway --test sdl\n\
         and commit the result (review the diff: it is the public API).",
        path.display()
    );
}
