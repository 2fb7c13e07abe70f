//! `costwatch fx import-ecb` end to end: the embedded platform runs in-process and the real
//! binary loads an ECB reference-rates file into it; a broken file is refused before sending.

use std::process::{Command, Output};

use costwatch::{Platform, UpConfig};
use serde_json::{Value, json};

const ECB: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
  <gesmes:subject>Reference rates</gesmes:subject>
  <Cube>
    <Cube time="2026-11-27"><Cube currency="USD" rate="1.0412"/><Cube currency="JPY" rate="158.42"/></Cube>
    <Cube time="2026-11-26"><Cube currency="USD" rate="1.0398"/><Cube currency="JPY" rate="158.1"/></Cube>
  </Cube>
</gesmes:Envelope>"#;

async fn import(file: std::path::PathBuf, base: String) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_costwatch"))
            .args(["fx", "import-ecb"])
            .arg(&file)
            .args(["--server", &base])
            .env("COSTWATCH_LOG", "warn")
            .output()
            .expect("run costwatch fx import-ecb")
    })
    .await
    .expect("join")
}

async fn rates(client: &reqwest::Client, base: &str) -> Value {
    let query =
        "{exchangeRates(from:\"2026-11-01\",to:\"2026-11-30\"){day currency perEur source}}";
    let v: Value = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("graphql")
        .json()
        .await
        .expect("json");
    v["data"]["exchangeRates"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecb_rates_are_imported_by_the_cli_and_broken_files_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = UpConfig {
        http: "127.0.0.1:0".parse().expect("addr"),
        grpc: "127.0.0.1:0".parse().expect("addr"),
        data_dir: dir.path().join("data"),
        demo: false,
        auth: costwatch::auth::AuthSettings::disabled(),
        // These suites poll in tight loops; the limiter has its own tests.
        rate_limit_per_minute: 0,
        ..UpConfig::default()
    };
    let platform = Platform::start(cfg).await.expect("platform starts");
    let base = format!("http://{}", platform.http_addr);
    let client = reqwest::Client::new();

    let broken = dir.path().join("broken.xml");
    std::fs::write(&broken, ECB.replace("158.42", "158,42")).expect("write");
    let out = import(broken, base.clone()).await;
    assert_eq!(out.status.code(), Some(65), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("\"rate\""),
        "{out:?}"
    );
    assert_eq!(rates(&client, &base).await, json!([]), "nothing sent");

    let good = dir.path().join("eurofxref-hist-90d.xml");
    std::fs::write(&good, ECB).expect("write");
    let out = import(good, base.clone()).await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "imported 4 rates for 2 days (2026-11-26 to 2026-11-27)"
    );
    let listed = rates(&client, &base).await;
    assert_eq!(
        listed,
        json!([
            {"day": "2026-11-26", "currency": "JPY", "perEur": "158.1", "source": "ecb"},
            {"day": "2026-11-27", "currency": "JPY", "perEur": "158.42", "source": "ecb"},
            {"day": "2026-11-26", "currency": "USD", "perEur": "1.0398", "source": "ecb"},
            {"day": "2026-11-27", "currency": "USD", "perEur": "1.0412", "source": "ecb"},
        ])
    );
    platform.stop().await;
}
