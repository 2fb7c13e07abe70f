//! A local HTTP receiver that records every request and answers from a script.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone)]
pub struct Captured {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub arrived_at: Instant,
}

impl Captured {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("body is JSON")
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("missing header {name}"))
            .to_str()
            .expect("ascii header")
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Reply {
    pub status: u16,
    pub retry_after: Option<&'static str>,
}

pub const OK: Reply = Reply {
    status: 200,
    retry_after: None,
};

pub fn status(status: u16) -> Reply {
    Reply {
        status,
        retry_after: None,
    }
}

struct Shared {
    requests: Mutex<Vec<Captured>>,
    script: Mutex<VecDeque<Reply>>,
    otherwise: Reply,
}

pub struct Receiver {
    pub base: String,
    shared: Arc<Shared>,
}

impl Receiver {
    /// Answers with `script` in order, then with `otherwise` forever.
    pub async fn start(script: Vec<Reply>, otherwise: Reply) -> Receiver {
        let shared = Arc::new(Shared {
            requests: Mutex::new(Vec::new()),
            script: Mutex::new(script.into()),
            otherwise,
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("local address");
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("receiver runs");
        });
        Receiver {
            base: format!("http://{address}"),
            shared,
        }
    }

    pub async fn ok() -> Receiver {
        Receiver::start(Vec::new(), OK).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn requests(&self) -> Vec<Captured> {
        self.shared.requests.lock().expect("lock").clone()
    }

    pub fn only_request(&self) -> Captured {
        let requests = self.requests();
        assert_eq!(requests.len(), 1, "expected exactly one request");
        requests.into_iter().next().expect("one request")
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let arrived_at = Instant::now();
    shared.requests.lock().expect("lock").push(Captured {
        method,
        path: uri.path().to_owned(),
        headers,
        body,
        arrived_at,
    });
    let reply = shared
        .script
        .lock()
        .expect("lock")
        .pop_front()
        .unwrap_or(shared.otherwise);
    let status = StatusCode::from_u16(reply.status).expect("valid status");
    let mut response = (status, format!("scripted {}", reply.status)).into_response();
    if let Some(after) = reply.retry_after {
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from_static(after));
    }
    response
}
