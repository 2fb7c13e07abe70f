use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::*;

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a `graphql-transport-ws` connection and subscribes to a tenant's cost updates.
pub async fn subscribe_cost_updates(http_addr: std::net::SocketAddr, tenant: &str) -> Ws {
    subscribe(
        http_addr,
        "subscription($t:String!){costUpdates(tenant:$t){tenant events eventIds added{amount currency}}}",
        json!({"t": tenant}),
    )
    .await
}

/// Opens a GraphQL WebSocket (graphql-transport-ws), waits for the ack and starts `query` as
/// subscription "1".
pub async fn subscribe(http_addr: std::net::SocketAddr, query: &str, variables: Value) -> Ws {
    let mut req = format!("ws://{http_addr}/graphql/ws")
        .into_client_request()
        .expect("request");
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("ws connect");
    ws.send(Message::text(
        json!({"type": "connection_init"}).to_string(),
    ))
    .await
    .expect("init");
    let ack = next_json(&mut ws).await;
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    let sub = json!({
        "id": "1", "type": "subscribe",
        "payload": { "query": query, "variables": variables }
    });
    ws.send(Message::text(sub.to_string()))
        .await
        .expect("subscribe");
    ws
}

pub async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(15), ws.next())
            .await
            .expect("a message within 15s")
            .expect("stream open")
            .expect("ws message");
        if let Message::Text(t) = msg {
            return serde_json::from_str(&t).expect("json");
        }
    }
}

#[tokio::test]
async fn cost_updates_are_pushed_over_websocket_for_the_subscribed_tenant_only() {
    let app = spawn_app().await;
    let mut ws = subscribe_cost_updates(app.platform().http_addr, "acme").await;
    // Give the server a moment to register the subscription before ingesting.
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.post_events(&json!([billed("globex", "g1", "1")])).await;
    app.post_events(&json!([billed("acme", "a1", "0.00000000503")]))
        .await;
    let msg = next_json(&mut ws).await;
    assert_eq!(msg["type"], "next", "{msg}");
    let update = &msg["payload"]["data"]["costUpdates"];
    assert_eq!(
        update["tenant"], "acme",
        "another tenant's update leaked: {msg}"
    );
    assert_eq!(update["eventIds"], json!(["a1"]));
    assert_eq!(update["added"][0]["amount"], "0.00000000503");
    // When the push arrives, the totals already include the event.
    assert_eq!(
        app.total("acme", "USD").await,
        "0.00000000503".parse().expect("decimal")
    );
}
