//! Serving the API on a listener: HTTP/1.1 with keep-alive, optional TLS, graceful shutdown.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use std::net::SocketAddr;
use std::sync::Arc;

use burrow_core::throttle::ThrottleMap;

use crate::auth::{claimed_user, Auth, AuthMetrics, Principal, Refusal};
use crate::{Api, HttpError};

/// Largest request body read (only `POST /v3/admin/loglevel` has one).
const MAX_BODY: usize = 64 * 1024;

/// How a listener serves.
#[derive(Clone, Default)]
pub struct ServeOptions {
    /// TLS for this listener (`[httpserver.X] tls`).
    pub tls: Option<TlsAcceptor>,
    /// Burrow's `timeout`: time allowed to read a request's headers, then its body, and to
    /// finish open connections at shutdown. Zero means Burrow's default, 300 s.
    pub timeout: Duration,
    /// Connections served at once; more are answered 503 and closed at once, never queued.
    /// Zero means [`DEFAULT_MAX_CONNECTIONS`].
    pub max_connections: usize,
    /// Serve the web dashboard under `/ui/` (`[httpserver.X] dashboard`).
    pub dashboard: bool,
    /// Who may use which routes (`[httpserver.X] auth`); `None` lets everyone in (Burrow).
    pub auth: Option<Arc<Auth>>,
    /// The listener's name, in logs and in `burrow_http_auth_failures_total`.
    pub name: String,
    /// Where refused requests are counted.
    pub auth_metrics: Option<AuthMetrics>,
}

/// What every request of one connection is served with.
struct Connection {
    timeout: Duration,
    dashboard: bool,
    auth: Option<Arc<Auth>>,
    metrics: Option<AuthMetrics>,
    name: String,
    peer: SocketAddr,
    /// The subject of the client certificate the connection presented (verified by TLS).
    client_subject: Option<String>,
    /// One line per client address and reason per minute (with the count of the others).
    refusals_said: Arc<ThrottleMap<(std::net::IpAddr, &'static str)>>,
}

/// Connections a listener serves at once unless told otherwise.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// The answer to a connection beyond the maximum (plain HTTP; a TLS one is closed).
const TOO_MANY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: 21\r\n\r\ntoo many connections\n";

/// Answers a connection that is over the maximum and closes it, without waiting on a client
/// that does not read.
async fn refuse(mut stream: tokio::net::TcpStream, tls: bool) {
    use tokio::io::AsyncWriteExt;
    if !tls {
        let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(TOO_MANY)).await;
    }
    let _ = stream.shutdown().await;
}

/// Whether `auth` lets the request in; the refusal's answer when not. Password checks run on
/// the blocking pool.
async fn admit(
    api: &Api,
    conn: &Connection,
    parts: &hyper::http::request::Parts,
) -> Option<Response<Full<Bytes>>> {
    let auth = conn.auth.as_ref()?;
    let path = parts.uri.path();
    if !auth.scope().covers(&parts.method, path) {
        return None;
    }
    let decision = {
        let (auth, method, path, headers, subject) = (
            auth.clone(),
            parts.method.clone(),
            path.to_string(),
            parts.headers.clone(),
            conn.client_subject.clone(),
        );
        tokio::task::spawn_blocking(move || {
            auth.check(&method, &path, &headers, subject.as_deref())
        })
        .await
        .unwrap_or(Err(Refusal::BadCredentials))
    };
    let why = match decision {
        Ok(principal) => {
            audit(conn, parts, &principal);
            return None;
        }
        Err(why) => why,
    };
    if let Some(m) = &conn.metrics {
        m.refused(&conn.name, why);
    }
    if let Some(suppressed) = conn.refusals_said.allow((conn.peer.ip(), why.as_str())) {
        tracing::warn!(
            listener = %conn.name,
            peer = %conn.peer,
            method = %parts.method,
            path,
            reason = why.as_str(),
            user = claimed_user(&parts.headers).as_deref().unwrap_or(""),
            client_certificate = conn.client_subject.as_deref().unwrap_or(""),
            suppressed,
            "request refused"
        );
    }
    Some(api.deny(why, path, auth.challenge()))
}

/// An audit line for every change let in by credentials: who (user, token's name, or
/// certificate subject), from where, what.
fn audit(conn: &Connection, parts: &hyper::http::request::Parts, principal: &Principal) {
    if parts.method == hyper::Method::GET
        || parts.method == hyper::Method::HEAD
        || *principal == Principal::Anonymous
    {
        return;
    }
    tracing::info!(
        listener = %conn.name,
        peer = %conn.peer,
        method = %parts.method,
        path = parts.uri.path(),
        by = %principal,
        "request authorized"
    );
}

/// How often the credentials files are looked at for a change.
const CREDENTIALS_CHECKED_EVERY: Duration = Duration::from_secs(5);

/// Reads a listener's credentials files again whenever their contents change, for as long as
/// the listener serves. A file that no longer reads or parses is logged with its cause, and the
/// credentials in use stay.
async fn reload_credentials(auth: Arc<Auth>, listener: String) {
    let mut tick = tokio::time::interval(CREDENTIALS_CHECKED_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let checking = auth.clone();
        match tokio::task::spawn_blocking(move || checking.reload_if_changed()).await {
            Ok(Ok(false)) => {}
            Ok(Ok(true)) => {
                let (users, tokens) = auth.counts();
                tracing::info!(%listener, users, tokens, "credentials files read again");
            }
            Ok(Err(error)) => tracing::error!(
                %listener,
                %error,
                "credentials files changed but cannot be used; the previous credentials stay"
            ),
            Err(error) => {
                tracing::error!(%listener, %error, "reading the credentials files failed")
            }
        }
    }
}

/// Stops a task when dropped: the credentials watcher ends with its listener.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn handle(
    api: Api,
    req: Request<Incoming>,
    conn: Arc<Connection>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let (parts, body) = req.into_parts();
    let timeout = conn.timeout;
    if let Some(refused) = admit(&api, &conn, &parts).await {
        return Ok(closing_if_body(refused, &parts));
    }
    let path = parts.uri.path();
    if conn.dashboard {
        if let Some(resp) =
            api.respond_dashboard(&parts.method, path, parts.uri.query(), &parts.headers)
        {
            return Ok(resp);
        }
    }
    // The whole body within the listener's timeout, as Go's ReadTimeout bounds it: a body that
    // never arrives must not hold its connection.
    let body = match tokio::time::timeout(timeout, Limited::new(body, MAX_BODY).collect()).await {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(_)) => {
            let message = format!("request body larger than {MAX_BODY} bytes");
            return Ok(closing(api.refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                &message,
                path,
            )));
        }
        Err(_) => {
            let message = format!("request body not received within {}s", timeout.as_secs());
            return Ok(closing(api.refuse(
                StatusCode::REQUEST_TIMEOUT,
                &message,
                path,
            )));
        }
    };
    Ok(api.respond_to(&parts.method, path, parts.uri.query(), &body))
}

/// A refusal to a request that may have a body not read: the connection is closed after it.
fn closing_if_body(
    resp: Response<Full<Bytes>>,
    parts: &hyper::http::request::Parts,
) -> Response<Full<Bytes>> {
    let has_body = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .is_some_and(|v| v.as_bytes() != b"0")
        || parts.headers.contains_key(hyper::header::TRANSFER_ENCODING);
    if has_body {
        closing(resp)
    } else {
        resp
    }
}

/// A response after which the connection is closed (its request was not read to the end).
fn closing(mut resp: Response<Full<Bytes>>) -> Response<Full<Bytes>> {
    resp.headers_mut().insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("close"),
    );
    resp
}

/// The subject of the client certificate a TLS connection presented (rustls verified it
/// against `client-cafile`), as an RFC 4514 string.
fn client_subject(tls: &tokio_rustls::server::TlsStream<tokio::net::TcpStream>) -> Option<String> {
    let der = tls.get_ref().1.peer_certificates()?.first()?;
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    Some(cert.subject().to_string())
}

/// Serves `api` on `listener` until `shutdown` resolves, then stops accepting and waits (up to
/// `timeout`) for open requests to finish.
pub async fn serve(
    listener: TcpListener,
    api: Api,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), HttpError> {
    let timeout = if options.timeout.is_zero() {
        Duration::from_secs(300)
    } else {
        options.timeout
    };
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(timeout)
        .keep_alive(true);
    let max = if options.max_connections == 0 {
        DEFAULT_MAX_CONNECTIONS
    } else {
        options.max_connections
    };
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(max));
    let refusals_said = Arc::new(ThrottleMap::new(Duration::from_secs(60)));
    let _reloading = options
        .auth
        .as_ref()
        .filter(|auth| auth.has_files())
        .map(|auth| {
            AbortOnDrop(tokio::spawn(reload_credentials(
                auth.clone(),
                options.name.clone(),
            )))
        });
    let mut refused = 0u64;
    let mut refused_said: Option<std::time::Instant> = None;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: log, pause, go on.
                    tracing::warn!(listener = %addr, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            refused += 1;
            if refused_said.is_none_or(|t| t.elapsed() >= Duration::from_secs(60)) {
                tracing::warn!(listener = %addr, %peer, max, refused, "too many connections; refusing (503) instead of queueing");
                refused_said = Some(std::time::Instant::now());
            }
            tokio::spawn(refuse(stream, options.tls.is_some()));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let api = api.clone();
        let connection = Connection {
            timeout,
            dashboard: options.dashboard,
            auth: options.auth.clone(),
            metrics: options.auth_metrics.clone(),
            name: options.name.clone(),
            peer,
            client_subject: None,
            refusals_said: refusals_said.clone(),
        };
        match &options.tls {
            None => {
                let connection = Arc::new(connection);
                let service = service_fn(move |req| handle(api.clone(), req, connection.clone()));
                let conn = http.serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                    drop(slot);
                });
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let http = http.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let tls = match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => return,
                    };
                    let mut connection = connection;
                    connection.client_subject = client_subject(&tls);
                    let connection = Arc::new(connection);
                    let service =
                        service_fn(move |req| handle(api.clone(), req, connection.clone()));
                    let conn = http.serve_connection(TokioIo::new(tls), service);
                    if let Err(e) = watcher.watch(conn).await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                    drop(slot);
                });
            }
        }
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(timeout) => {
            tracing::warn!(listener = %addr, "connections still open after {timeout:?}; closing them");
        }
    }
    Ok(())
}
