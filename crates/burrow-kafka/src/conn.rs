//! One connection to one broker: TLS, ApiVersions, SASL, then pipelined requests matched to
//! responses by correlation id.
//!
//! A writer task owns the socket's write half and writes whole frames, so a caller that gives up
//! (timeout, cancellation) can never leave half a frame on the wire. A reader task owns the read
//! half and routes each response to the waiting caller. Any socket error, malformed frame or
//! response timeout marks the connection broken: every waiting request fails at once, and the
//! client replaces the connection instead of reusing it.
//!
//! A broker that limits SASL sessions (`connections.max.reauth.ms`, KIP-368) closes a connection
//! at the first request after its session ended. The connection is renewed before that instead:
//! past 85–95 % of the lifetime the broker announced (chosen at random, as Kafka's Java client
//! does, so a fleet does not reconnect at once) the client opens a new connection, authenticated
//! afresh, for the next requests; requests already sent on the old one finish there.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::protocol::{Request, StrBytes};
use rand::Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::config::ClientConfig;
use crate::error::{KafkaError, Result};
use crate::frame::{api_name, decode_response, encode_request, Stream, MAX_FRAME};
use crate::handshake::{BrokerVersions, Setup};
use crate::sasl;
use crate::tls;
use crate::tolerant::TolerantDecode;

type Pending = Mutex<HashMap<i32, oneshot::Sender<Bytes>>>;

struct Shared {
    pending: Pending,
    broken: AtomicBool,
}

impl Shared {
    fn poison(&self) {
        self.broken.store(true, Ordering::SeqCst);
        // Dropping the senders wakes every waiter with an error.
        if let Ok(mut p) = self.pending.lock() {
            p.clear();
        }
    }
}

/// A live connection to one broker.
pub(crate) struct BrokerConnection {
    addr: String,
    client_id: StrBytes,
    read_timeout: Duration,
    versions: BrokerVersions,
    shared: Arc<Shared>,
    next_id: AtomicI32,
    frames: mpsc::UnboundedSender<Bytes>,
    tasks: [JoinHandle<()>; 2],
    /// When to stop sending on this connection because its SASL session is about to end.
    renew_at: Option<Instant>,
}

impl Drop for BrokerConnection {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl BrokerConnection {
    /// Connects, negotiates versions and authenticates, all within `dial_timeout`.
    pub(crate) async fn connect(
        addr: &str,
        config: &ClientConfig,
        tls: Option<&tokio_rustls::TlsConnector>,
    ) -> Result<Self> {
        let fut = Self::connect_inner(addr, config, tls);
        match tokio::time::timeout(config.dial_timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(KafkaError::Timeout {
                broker: addr.to_string(),
                what: "connect",
                after: config.dial_timeout,
            }),
        }
    }

    async fn connect_inner(
        addr: &str,
        config: &ClientConfig,
        tls: Option<&tokio_rustls::TlsConnector>,
    ) -> Result<Self> {
        let io_err = |error| KafkaError::Io {
            broker: addr.to_string(),
            error,
        };
        let tcp = TcpStream::connect(addr).await.map_err(io_err)?;
        tcp.set_nodelay(true).map_err(io_err)?;
        let mut stream: Box<dyn Stream> = match tls {
            Some(connector) => {
                let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
                Box::new(tls::connect(connector, tcp, host).await?)
            }
            None => Box::new(tcp),
        };
        let client_id = StrBytes::from_string(config.client_id.clone());
        let mut setup = Setup {
            addr,
            stream: &mut stream,
            client_id: &client_id,
            next_id: 0,
            session_lifetime: None,
        };
        let versions = setup.api_versions().await?;
        if let Some(sasl) = &config.sasl {
            sasl::authenticate(&mut setup, &versions, sasl).await?;
        }
        let next_id = setup.next_id;
        let renew_at = setup.session_lifetime.map(|lifetime| {
            tracing::debug!(broker = addr, ?lifetime, "SASL session lifetime announced");
            Instant::now() + lifetime.mul_f64(rand::rng().random_range(0.85..0.95))
        });
        let mut conn = Self::start(
            addr,
            client_id,
            config.read_timeout,
            versions,
            stream,
            next_id,
        );
        conn.renew_at = renew_at;
        Ok(conn)
    }

    fn start(
        addr: &str,
        client_id: StrBytes,
        read_timeout: Duration,
        versions: BrokerVersions,
        stream: Box<dyn Stream>,
        next_id: i32,
    ) -> Self {
        let (read, write) = tokio::io::split(stream);
        let shared = Arc::new(Shared {
            pending: Mutex::new(HashMap::new()),
            broken: AtomicBool::new(false),
        });
        let (frames, rx) = mpsc::unbounded_channel();
        let writer = tokio::spawn(write_loop(write, rx, shared.clone(), addr.to_string()));
        let reader = tokio::spawn(read_loop(read, shared.clone(), addr.to_string()));
        Self {
            addr: addr.to_string(),
            client_id,
            read_timeout,
            versions,
            shared,
            next_id: AtomicI32::new(next_id),
            frames,
            tasks: [writer, reader],
            renew_at: None,
        }
    }

    /// host:port of the broker.
    pub(crate) fn addr(&self) -> &str {
        &self.addr
    }

    /// Whether the connection failed and must be replaced.
    pub(crate) fn is_broken(&self) -> bool {
        self.shared.broken.load(Ordering::SeqCst)
    }

    /// Whether the broker's SASL session on this connection is about to end, so that new
    /// requests go on a new connection.
    pub(crate) fn needs_renewal(&self) -> bool {
        self.renew_at.is_some_and(|at| Instant::now() >= at)
    }

    /// The highest version of `R` both sides speak, capped at `cap`.
    pub(crate) fn version<R: Request>(&self, cap: i16) -> Result<i16> {
        let ours = R::VERSIONS;
        let theirs = self.versions.range(R::KEY);
        let unsupported = || KafkaError::UnsupportedApi {
            broker: self.addr.clone(),
            api: api_name(R::KEY),
            broker_versions: theirs.map_or("none".to_string(), |(a, b)| format!("{a}..{b}")),
        };
        let (min, max) = theirs.ok_or_else(unsupported)?;
        let hi = max.min(ours.max).min(cap);
        let lo = min.max(ours.min);
        if hi < lo {
            return Err(unsupported());
        }
        Ok(hi)
    }

    /// Sends a request at an explicit version.
    pub(crate) async fn send_version<R: Request>(
        &self,
        req: &R,
        version: i16,
    ) -> Result<R::Response>
    where
        R::Response: TolerantDecode,
    {
        let api = api_name(R::KEY);
        if self.is_broken() {
            return Err(self.closed());
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let frame = encode_request(req, version, id, &self.client_id).map_err(|e| {
            KafkaError::Protocol {
                broker: self.addr.clone(),
                api,
                message: e.to_string(),
            }
        })?;
        let (tx, rx) = oneshot::channel();
        {
            let mut pending = self.shared.pending.lock().map_err(|_| self.closed())?;
            if self.is_broken() {
                return Err(self.closed());
            }
            pending.insert(id, tx);
        }
        let mut guard = PendingGuard {
            shared: &self.shared,
            id,
            armed: true,
        };
        if self.frames.send(frame).is_err() {
            self.shared.poison();
            return Err(self.closed());
        }
        let mut body = match tokio::time::timeout(self.read_timeout, rx).await {
            Ok(Ok(body)) => body,
            Ok(Err(_)) => return Err(self.closed()),
            Err(_) => {
                // The broker may still answer later; the stream is no longer trusted.
                self.shared.poison();
                return Err(KafkaError::Timeout {
                    broker: self.addr.clone(),
                    what: api,
                    after: self.read_timeout,
                });
            }
        };
        guard.armed = false;
        decode_response::<R>(&mut body, version).map_err(|e| {
            self.shared.poison();
            KafkaError::Protocol {
                broker: self.addr.clone(),
                api,
                message: e.to_string(),
            }
        })
    }

    fn closed(&self) -> KafkaError {
        KafkaError::ConnectionClosed {
            broker: self.addr.clone(),
        }
    }
}

/// Removes a request's pending entry when the caller stops waiting.
struct PendingGuard<'a> {
    shared: &'a Shared,
    id: i32,
    armed: bool,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            if let Ok(mut p) = self.shared.pending.lock() {
                p.remove(&self.id);
            }
        }
    }
}

async fn write_loop(
    mut write: tokio::io::WriteHalf<Box<dyn Stream>>,
    mut rx: mpsc::UnboundedReceiver<Bytes>,
    shared: Arc<Shared>,
    addr: String,
) {
    let mut batch = BytesMut::new();
    while let Some(frame) = rx.recv().await {
        batch.clear();
        batch.extend_from_slice(&frame);
        // Pipelining: write every frame already queued in one syscall.
        while batch.len() < 1 << 20 {
            match rx.try_recv() {
                Ok(f) => batch.extend_from_slice(&f),
                Err(_) => break,
            }
        }
        let res = async {
            write.write_all(&batch).await?;
            write.flush().await
        }
        .await;
        if let Err(e) = res {
            tracing::debug!(broker = %addr, error = %e, "write failed; connection dropped");
            shared.poison();
            return;
        }
    }
}

async fn read_loop(read: tokio::io::ReadHalf<Box<dyn Stream>>, shared: Arc<Shared>, addr: String) {
    let mut read = tokio::io::BufReader::with_capacity(256 * 1024, read);
    loop {
        let len = match read.read_i32().await {
            Ok(n) => n,
            Err(e) => {
                if e.kind() != std::io::ErrorKind::UnexpectedEof {
                    tracing::debug!(broker = %addr, error = %e, "read failed; connection dropped");
                }
                break;
            }
        };
        let len = match usize::try_from(len) {
            Ok(n) if (4..=MAX_FRAME).contains(&n) => n,
            _ => {
                tracing::warn!(broker = %addr, len, "bad response frame length; connection dropped");
                break;
            }
        };
        // Read into uninitialised capacity: zeroing a large response first costs as much as
        // copying it.
        let mut buf = BytesMut::with_capacity(len);
        let mut failed = None;
        while buf.len() < len {
            let want = (len - buf.len()) as u64;
            match (&mut read).take(want).read_buf(&mut buf).await {
                Ok(0) => {
                    failed = Some(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
                    break;
                }
                Ok(_) => {}
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = failed {
            tracing::debug!(broker = %addr, error = %e, "read failed mid-frame; connection dropped");
            break;
        }
        let id = (&buf[..4]).get_i32();
        let waiter = shared.pending.lock().ok().and_then(|mut p| p.remove(&id));
        match waiter {
            Some(tx) => {
                let _ = tx.send(buf.freeze());
            }
            None => {
                // A response nobody waits for: its caller timed out or was cancelled.
                tracing::debug!(broker = %addr, correlation_id = id, "unmatched response ignored");
            }
        }
    }
    shared.poison();
}
