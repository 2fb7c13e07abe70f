//! GraphQL over WebSocket with authentication (`graphql-transport-ws`).
//!
//! The first message must be `connection_init` within [`INIT_TIMEOUT`] carrying
//! `{"authorization": "Bearer <token>"}` in its payload; otherwise the socket is closed with
//! 4408 (timeout) or 4403 (missing or bad credential), the codes of the protocol. After that
//! the session runs with the caller's [`Principal`] as data, so the access guard checks every
//! `subscribe` like an HTTP request; the connection is closed with 4403 when the token expires
//! or is revoked, which ends its subscriptions.

use std::time::Duration;

use async_graphql::Data;
use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, WebSocketProtocols, WsMessage};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::response::Response;
use costwatch_domain::access::Principal;
use costwatch_domain::audit::Outcome;
use futures::{SinkExt, StreamExt};

use super::{GatewayAuth, RequestSource, bearer};
use crate::graphql::CostSchema;

/// How long a client has to send `connection_init`.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often an open connection asks whether its credential was revoked.
pub const REVOCATION_CHECK: Duration = Duration::from_secs(5);

pub const CLOSE_FORBIDDEN: u16 = 4403;
pub const CLOSE_INIT_TIMEOUT: u16 = 4408;
pub const CLOSE_UNAUTHORIZED: u16 = 4401;

#[derive(Clone)]
pub struct WsState {
    pub schema: CostSchema,
    pub auth: GatewayAuth,
}

pub async fn graphql_ws(
    State(state): State<WsState>,
    extensions: axum::http::Extensions,
    headers: axum::http::HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    // The sub-protocol the client offers (`graphql-transport-ws`, or the legacy `graphql-ws`).
    let Some(protocol) = headers
        .get(axum::http::header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|offered| {
            offered
                .split(',')
                .find_map(|p| p.trim().parse::<WebSocketProtocols>().ok())
        })
    else {
        return axum::response::IntoResponse::into_response((
            axum::http::StatusCode::BAD_REQUEST,
            "Sec-WebSocket-Protocol: expected graphql-transport-ws",
        ));
    };
    // Served with connect info the peer address is known; in-process tests have none.
    let source = RequestSource(
        extensions
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.to_string())
            .unwrap_or_else(|| "unknown".into()),
    );
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve(socket, state, protocol, source))
}

async fn close(socket: &mut WebSocket, code: u16, reason: &str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.to_string().into(),
        })))
        .await;
}

/// The credential in a `connection_init` payload: `authorization` (or `Authorization`) as
/// `Bearer <token>`, or a bare `token`.
fn credential(payload: &serde_json::Value) -> Option<String> {
    let get = |k: &str| payload.get(k).and_then(|v| v.as_str()).map(str::to_string);
    get("authorization")
        .or_else(|| get("Authorization"))
        .and_then(|h| bearer(&h).ok().map(str::to_string))
        .or_else(|| get("token"))
}

async fn serve(
    mut socket: WebSocket,
    state: WsState,
    protocol: WebSocketProtocols,
    source: RequestSource,
) {
    let init = match tokio::time::timeout(INIT_TIMEOUT, next_text(&mut socket)).await {
        Err(_) => {
            close(
                &mut socket,
                CLOSE_INIT_TIMEOUT,
                "Connection initialisation timeout",
            )
            .await;
            return;
        }
        Ok(None) => return,
        Ok(Some(text)) => text,
    };
    let message: serde_json::Value = serde_json::from_str(&init).unwrap_or_default();
    if message.get("type").and_then(|t| t.as_str()) != Some("connection_init") {
        close(
            &mut socket,
            CLOSE_UNAUTHORIZED,
            "Unauthorized: connection_init first",
        )
        .await;
        return;
    }
    let payload = message.get("payload").cloned().unwrap_or_default();
    let header = credential(&payload).map(|t| format!("Bearer {t}"));
    let principal = match state.auth.principal(header.as_deref()).await {
        Ok(p) => p,
        Err(e) => {
            state
                .auth
                .audit
                .refused_credential("login", crate::GRAPHQL_WS_PATH, source.0.clone(), &e)
                .await;
            close(&mut socket, CLOSE_FORBIDDEN, &format!("Forbidden: {e}")).await;
            return;
        }
    };
    state
        .auth
        .audit
        .record(
            &principal,
            None,
            "login",
            source.0.clone(),
            Outcome::Allowed,
        )
        .await;
    run_session(socket, state, protocol, source, principal, init).await;
}

/// The next text (or binary) frame, `None` when the client went away.
async fn next_text(socket: &mut WebSocket) -> Option<String> {
    while let Some(Ok(msg)) = socket.recv().await {
        match msg {
            Message::Text(t) => return Some(t.to_string()),
            Message::Binary(b) => return Some(String::from_utf8_lossy(&b).into_owned()),
            Message::Close(_) => return None,
            _ => continue,
        }
    }
    None
}

async fn run_session(
    socket: WebSocket,
    state: WsState,
    protocol: WebSocketProtocols,
    source: RequestSource,
    principal: Principal,
    init: String,
) {
    let (mut sink, stream) = socket.split();
    // The init message is replayed into the protocol machine, which acknowledges it with the
    // session data decided above.
    let input = futures::stream::once(async move { init.into_bytes() }).chain(
        stream
            .take_while(|m| futures::future::ready(m.is_ok()))
            .filter_map(|m| async move {
                match m {
                    Ok(Message::Text(t)) => Some(t.as_bytes().to_vec()),
                    Ok(Message::Binary(b)) => Some(b.to_vec()),
                    _ => None,
                }
            }),
    );
    let mut data = Data::default();
    data.insert(principal.clone());
    data.insert(state.auth.audit.clone());
    data.insert(state.auth.sensitive_labels.clone());
    data.insert(source);
    let machine = async_graphql::http::WebSocket::new(state.schema.clone(), input, protocol)
        .on_connection_init(move |_| async move { Ok(data) });
    futures::pin_mut!(machine);
    let expires = principal.expires_at.map(|exp| {
        let left = (exp - chrono::Utc::now()).to_std().unwrap_or_default();
        tokio::time::Instant::now() + left
    });
    let mut revocation = tokio::time::interval(REVOCATION_CHECK);
    loop {
        let expiry = async {
            match expires {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let end = tokio::select! {
            msg = machine.next() => match msg {
                Some(WsMessage::Text(text)) => {
                    if sink.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                    continue;
                }
                Some(WsMessage::Close(code, reason)) => Some((code, reason)),
                None => None,
            },
            _ = expiry => Some((CLOSE_FORBIDDEN, "Forbidden: credential expired".to_string())),
            _ = revocation.tick() => {
                if state.auth.authenticator.revoked(&principal).await {
                    Some((CLOSE_FORBIDDEN, "Forbidden: credential revoked".to_string()))
                } else {
                    continue;
                }
            }
        };
        if let Some((code, reason)) = end {
            let _ = sink
                .send(Message::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                })))
                .await;
        }
        return;
    }
}
