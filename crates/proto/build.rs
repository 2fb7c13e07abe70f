//! Generates the `costwatch.v1` messages, gRPC servers and clients, and a file descriptor set for
//! gRPC reflection, from `proto/` at the workspace root. Uses the vendored `protoc` (none needs to
//! be installed).

use std::error::Error;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let proto_root = manifest_dir.join("../../proto");
    let protos = [
        proto_root.join("costwatch/v1/events.proto"),
        proto_root.join("costwatch/v1/ingest.proto"),
        proto_root.join("costwatch/v1/budgets.proto"),
    ];
    // Well-known types (google/protobuf/timestamp.proto) ship with the vendored protoc.
    let includes = [proto_root.clone(), protoc_bin_vendored::include_path()?];

    // The protoc path goes through prost-build's config rather than the PROTOC environment
    // variable: setting an environment variable is `unsafe` in edition 2024 and the workspace
    // forbids unsafe code.
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);

    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .btree_map(".")
        .file_descriptor_set_path(out_dir.join("costwatch_descriptor.bin"))
        .compile_with_config(config, &protos, &includes)?;

    println!("cargo:rerun-if-changed={}", proto_root.display());
    Ok(())
}
