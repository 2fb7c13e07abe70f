//! TLS of every listener (`tls_cert_file` and `tls_key_file`, the same keys in `costwatch up`
//! and distributed mode): rustls with the ring provider, one certificate for the HTTP and the
//! gRPC listeners.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::Context as _;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// A client that has not finished its handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Handshaken connections waiting for the server to take them.
const READY_QUEUE: usize = 128;

/// The two settings as configured (paths, not yet read).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
}

/// Server configurations built from the certificate and key.
#[derive(Clone)]
pub struct Tls {
    http: Arc<ServerConfig>,
    grpc: Arc<ServerConfig>,
}

impl TlsSettings {
    /// TLS is on when both files are set (a half-set pair is a problem, see [`Self::problems`]).
    pub fn enabled(&self) -> bool {
        self.cert_file.is_some() && self.key_file.is_some()
    }

    /// A half-set pair, naming the missing key.
    pub fn pairing_problems(&self) -> Vec<String> {
        match (&self.cert_file, &self.key_file) {
            (Some(_), None) => vec!["tls_key_file: required when tls_cert_file is set".to_string()],
            (None, Some(_)) => vec!["tls_cert_file: required when tls_key_file is set".to_string()],
            _ => Vec::new(),
        }
    }

    /// Problems found without parsing the files, each naming its key.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = self.pairing_problems();
        for (name, path) in [
            ("tls_cert_file", &self.cert_file),
            ("tls_key_file", &self.key_file),
        ] {
            if let Some(p) = path
                && !p.is_file()
            {
                problems.push(format!("{name}: {} is not a readable file", p.display()));
            }
        }
        problems
    }

    /// Reads and checks the certificate chain and key; `None` when TLS is off.
    pub fn load(&self) -> anyhow::Result<Option<Tls>> {
        let problems = self.problems();
        if !problems.is_empty() {
            anyhow::bail!("invalid configuration:\n  {}", problems.join("\n  "));
        }
        let (Some(cert_file), Some(key_file)) = (&self.cert_file, &self.key_file) else {
            return Ok(None);
        };
        let certs = load_certs(cert_file)?;
        let key = load_key(key_file)?;
        let config = |alpn: &[&[u8]]| -> anyhow::Result<Arc<ServerConfig>> {
            // An explicit provider: the process-wide default would depend on which crates
            // happen to enable which rustls features.
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let mut config = ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .context("tls: protocol versions")?
                .with_no_client_auth()
                .with_single_cert(certs.clone(), key.clone_key())
                .with_context(|| {
                    format!(
                        "tls_key_file: {} does not fit the certificate in {}",
                        key_file.display(),
                        cert_file.display()
                    )
                })?;
            config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
            Ok(Arc::new(config))
        };
        Ok(Some(Tls {
            http: config(&[b"h2", b"http/1.1"])?,
            // tonic clients refuse a TLS connection that did not negotiate h2.
            grpc: config(&[b"h2"])?,
        }))
    }
}

fn load_certs(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow::anyhow!("tls_cert_file: {}: {e}", path.display()))?;
    if certs.is_empty() {
        anyhow::bail!(
            "tls_cert_file: {}: no PEM certificate (`BEGIN CERTIFICATE`) found",
            path.display()
        );
    }
    Ok(certs)
}

fn load_key(path: &Path) -> anyhow::Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => anyhow::anyhow!(
            "tls_key_file: {}: no PEM private key (PKCS#8, RSA or EC) found",
            path.display()
        ),
        e => anyhow::anyhow!("tls_key_file: {}: {e}", path.display()),
    })
}

impl Tls {
    /// TLS connections on `listener` for the HTTP server (ALPN h2 and http/1.1).
    pub(crate) fn http_incoming(&self, listener: TcpListener) -> io::Result<TlsIncoming> {
        TlsIncoming::new(listener, self.http.clone())
    }

    /// TLS connections on `listener` for the gRPC server (ALPN h2).
    pub(crate) fn grpc_incoming(&self, listener: TcpListener) -> io::Result<TlsIncoming> {
        TlsIncoming::new(listener, self.grpc.clone())
    }
}

/// Connections that finished their TLS handshake. A background task accepts and spawns one
/// handshake per connection, so a slow or failing client never holds up the others; dropping
/// this stops accepting.
pub(crate) struct TlsIncoming {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local_addr: SocketAddr,
    accepting: tokio::task::JoinHandle<()>,
}

impl TlsIncoming {
    fn new(listener: TcpListener, config: Arc<ServerConfig>) -> io::Result<TlsIncoming> {
        let local_addr = listener.local_addr()?;
        let (tx, ready) = mpsc::channel(READY_QUEUE);
        let accepting = tokio::spawn(accept_loop(listener, TlsAcceptor::from(config), tx));
        Ok(TlsIncoming {
            ready,
            local_addr,
            accepting,
        })
    }
}

impl Drop for TlsIncoming {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // Out of file descriptors and the like: wait for connections to close.
                tracing::error!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let (acceptor, ready) = (acceptor.clone(), ready.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => {
                    // Fails only once the server stopped; the connection is then just closed.
                    let _ = ready.send((tls, peer)).await;
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "tls handshake failed"),
                Err(_) => tracing::debug!(%peer, "tls handshake timed out"),
            }
        });
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

impl axum::serve::Listener for TlsIncoming {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept task is gone (it only ends by abort or panic): serve no more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local_addr)
    }
}

/// For tonic's `serve_with_incoming_shutdown`.
impl tokio_stream::Stream for TlsIncoming {
    type Item = io::Result<TlsStream<TcpStream>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.ready
            .poll_recv(cx)
            .map(|conn| conn.map(|(io, _)| Ok(io)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_half_set_pair_names_the_missing_key() {
        let only_cert = TlsSettings {
            cert_file: Some(PathBuf::from("/no/such/cert.pem")),
            key_file: None,
        };
        let problems = only_cert.problems();
        assert_eq!(
            problems[0],
            "tls_key_file: required when tls_cert_file is set"
        );
        assert!(problems[1].starts_with("tls_cert_file: /no/such/cert.pem"));
        assert!(!only_cert.enabled());
        let only_key = TlsSettings {
            cert_file: None,
            key_file: Some(PathBuf::from("/no/such/key.pem")),
        };
        assert!(only_key.problems()[0].starts_with("tls_cert_file: required"));
        assert!(TlsSettings::default().problems().is_empty());
        assert!(matches!(TlsSettings::default().load(), Ok(None)));
    }

    #[test]
    fn files_without_pem_blocks_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "not a certificate").expect("write");
        let e = load_certs(&garbage)
            .expect_err("no certificate")
            .to_string();
        assert!(
            e.starts_with("tls_cert_file: ") && e.contains("garbage.pem"),
            "{e}"
        );
        let e = load_key(&garbage).expect_err("no key").to_string();
        assert!(
            e.starts_with("tls_key_file: ") && e.contains("no PEM private key"),
            "{e}"
        );
    }
}
