use rust_decimal::Decimal;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn data_survives_a_restart_on_the_same_data_dir() {
    let mut app = spawn_app().await;
    app.post_events(&json!([
        billed("acme", "p1", "3.00000000001"),
        requests("acme", "r1", 1_000_010)
    ]))
    .await;
    let expected: Decimal = "3.00003500001".parse().expect("decimal");
    app.wait_for_total("acme", expected).await;
    app.stop().await;

    let dir = std::mem::replace(&mut app.dir, tempfile::tempdir().expect("tempdir"));
    let again = spawn_with(config(dir.path()), dir).await;
    assert_eq!(again.total("acme", "USD").await, expected);
    // The meter survived too: the next requests are past the free tier already.
    again
        .post_events(&json!([
            requests("acme", "r2", 10),
            billed("acme", "p1", "3.00000000001")
        ]))
        .await;
    again
        .wait_for_total("acme", expected + Decimal::new(35, 6))
        .await;
}
