//! A fault-injecting TCP proxy for loopback tests: it forwards a local port to an upstream
//! address, and can drop, delay, truncate, reset, blackhole or reorder what passes.
//!
//! A Kafka client whose client id is [`EXEMPT_CLIENT_ID`] passes untouched (the proxy reads
//! the id from each connection's first request), so a test can write to a broker while the
//! client under test suffers the fault.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// What the proxy does to the traffic; switchable while connections are open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward everything.
    Pass,
    /// Close new connections at once; open ones are closed too.
    Drop,
    /// Hold each chunk of the upstream's answers this long before passing it on.
    Delay(Duration),
    /// Pass this many more bytes of the upstream's answers, then close the connection (a
    /// response cut in the middle).
    Truncate(usize),
    /// Reset every connection (TCP RST), and new ones as they arrive.
    Reset,
    /// Accept and read, never answer, never close: a network that swallows packets.
    Blackhole,
    /// Swap every two consecutive Kafka response frames (length-prefixed) on their way back.
    Reorder,
}

/// How many connections the proxy took, and what its faults did.
#[derive(Debug, Default)]
pub struct ProxyStats {
    /// Connections accepted.
    pub accepted: AtomicU64,
    /// Connections closed or reset by a fault.
    pub cut: AtomicU64,
    /// Bytes passed from upstream to clients.
    pub bytes_down: AtomicU64,
}

/// A running proxy; stopped (with every connection) on drop.
pub struct FaultProxy {
    port: u16,
    fault: Arc<Mutex<Fault>>,
    stop: Arc<AtomicBool>,
    stats: Arc<ProxyStats>,
}

const POLL: Duration = Duration::from_millis(20);

/// Connections whose first Kafka request carries this client id are never faulted.
pub const EXEMPT_CLIENT_ID: &str = "fault-proxy-exempt";

/// The client id of a Kafka request frame (length, api key, version, correlation id, id).
fn client_id(frame: &[u8]) -> Option<&[u8]> {
    let len = i16::from_be_bytes(frame.get(12..14)?.try_into().ok()?);
    frame.get(14..14 + usize::try_from(len).ok()?)
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream` (host:port).
    pub fn start(upstream: &str) -> FaultProxy {
        Self::start_on(0, upstream)
    }

    /// Listens on loopback `port` (0: a free one) and forwards to `upstream`.
    pub fn start_on(port: u16, upstream: &str) -> FaultProxy {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = FaultProxy {
            port,
            fault: Arc::new(Mutex::new(Fault::Pass)),
            stop: Arc::new(AtomicBool::new(false)),
            stats: Arc::new(ProxyStats::default()),
        };
        let (fault, stop, stats) = (proxy.fault.clone(), proxy.stop.clone(), proxy.stats.clone());
        let upstream = upstream.to_string();
        thread::spawn(move || accept_loop(listener, upstream, fault, stop, stats));
        proxy
    }

    /// The proxy's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The proxy's address, host:port.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Switches the fault, for open connections and new ones.
    pub fn set(&self, fault: Fault) {
        *self.fault.lock().unwrap() = fault;
    }

    /// What the proxy has done so far.
    pub fn stats(&self) -> &ProxyStats {
        &self.stats
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn accept_loop(
    listener: TcpListener,
    upstream: String,
    fault: Arc<Mutex<Fault>>,
    stop: Arc<AtomicBool>,
    stats: Arc<ProxyStats>,
) {
    while !stop.load(Ordering::SeqCst) {
        let client = match listener.accept() {
            Ok((client, _)) => client,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                thread::sleep(POLL);
                continue;
            }
            Err(_) => continue,
        };
        stats.accepted.fetch_add(1, Ordering::SeqCst);
        let Ok(server) = TcpStream::connect(&upstream) else {
            // Upstream down: the client sees its connection closed, as with a dead broker.
            continue;
        };
        let link = Link {
            fault: fault.clone(),
            stop: stop.clone(),
            stats: stats.clone(),
            dead: Arc::new(AtomicBool::new(false)),
            exempt: Arc::new(AtomicBool::new(false)),
            identified: Arc::new(AtomicBool::new(false)),
        };
        let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
        let up = link.clone();
        thread::spawn(move || up.pump_up(client, server));
        thread::spawn(move || link.pump_down(s2, c2));
    }
}

/// Makes the stream's close a TCP RST (SO_LINGER 0); it is sent once every handle of the
/// stream is dropped (the pumps drop theirs within [`POLL`] of the link going dead).
fn reset(stream: &TcpStream) {
    let _ = socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO));
}

/// One proxied connection's shared state.
#[derive(Clone)]
struct Link {
    fault: Arc<Mutex<Fault>>,
    stop: Arc<AtomicBool>,
    stats: Arc<ProxyStats>,
    dead: Arc<AtomicBool>,
    /// The client said [`EXEMPT_CLIENT_ID`].
    exempt: Arc<AtomicBool>,
    /// The first request was seen (faults apply from then on).
    identified: Arc<AtomicBool>,
}

impl Link {
    fn fault(&self) -> Fault {
        if self.exempt.load(Ordering::SeqCst) || !self.identified.load(Ordering::SeqCst) {
            return Fault::Pass;
        }
        *self.fault.lock().unwrap()
    }

    fn identify(&self, first: &[u8]) {
        if !self.identified.load(Ordering::SeqCst) {
            let exempt = client_id(first) == Some(EXEMPT_CLIENT_ID.as_bytes());
            self.exempt.store(exempt, Ordering::SeqCst);
            self.identified.store(true, Ordering::SeqCst);
        }
    }

    /// Whether the connection should end now (proxy stopped, other side gone, or a fault that
    /// closes connections).
    fn ending(&self, a: &TcpStream, b: &TcpStream) -> bool {
        if self.stop.load(Ordering::SeqCst) || self.dead.load(Ordering::SeqCst) {
            self.close(a, b);
            return true;
        }
        if matches!(self.fault(), Fault::Drop | Fault::Reset) {
            self.stats.cut.fetch_add(1, Ordering::SeqCst);
            reset(a);
            reset(b);
            self.dead.store(true, Ordering::SeqCst);
            return true;
        }
        false
    }

    fn close(&self, a: &TcpStream, b: &TcpStream) {
        self.dead.store(true, Ordering::SeqCst);
        let _ = a.shutdown(Shutdown::Both);
        let _ = b.shutdown(Shutdown::Both);
    }

    /// Client to upstream: requests pass (a blackhole swallows them).
    fn pump_up(self, mut from: TcpStream, mut to: TcpStream) {
        from.set_read_timeout(Some(POLL)).unwrap();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            if self.ending(&from, &to) {
                return;
            }
            let n = match from.read(&mut buf) {
                Ok(0) => return self.close(&from, &to),
                Ok(n) => n,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    continue
                }
                Err(_) => return self.close(&from, &to),
            };
            self.identify(&buf[..n]);
            if self.ending(&from, &to) {
                return;
            }
            if self.fault() == Fault::Blackhole {
                continue;
            }
            if to.write_all(&buf[..n]).is_err() {
                return self.close(&from, &to);
            }
        }
    }

    /// Upstream to client: answers pass through the fault.
    fn pump_down(self, mut from: TcpStream, mut to: TcpStream) {
        from.set_read_timeout(Some(POLL)).unwrap();
        let mut buf = vec![0u8; 64 * 1024];
        let mut frames = Frames::default();
        loop {
            if self.ending(&from, &to) {
                return;
            }
            let fault = self.fault();
            if fault == Fault::Blackhole {
                // Leave the answers unread: nothing reaches the client.
                thread::sleep(POLL);
                continue;
            }
            let n = match from.read(&mut buf) {
                Ok(0) => return self.close(&from, &to),
                Ok(n) => n,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    if let Some(held) = frames.flush_if_idle() {
                        if to.write_all(&held).is_err() {
                            return self.close(&from, &to);
                        }
                    }
                    continue;
                }
                Err(_) => return self.close(&from, &to),
            };
            let out = match fault {
                Fault::Delay(d) => {
                    thread::sleep(d);
                    buf[..n].to_vec()
                }
                Fault::Truncate(left) => {
                    let pass = left.min(n);
                    let _ = to.write_all(&buf[..pass]);
                    self.stats
                        .bytes_down
                        .fetch_add(pass as u64, Ordering::SeqCst);
                    let rest = left - pass;
                    if rest == 0 {
                        self.stats.cut.fetch_add(1, Ordering::SeqCst);
                        *self.fault.lock().unwrap() = Fault::Pass;
                        return self.close(&from, &to);
                    }
                    *self.fault.lock().unwrap() = Fault::Truncate(rest);
                    continue;
                }
                Fault::Reorder => frames.push(&buf[..n]),
                _ => frames.drain_then(&buf[..n]),
            };
            self.stats
                .bytes_down
                .fetch_add(out.len() as u64, Ordering::SeqCst);
            if to.write_all(&out).is_err() {
                return self.close(&from, &to);
            }
        }
    }
}

/// Response frames being reordered: complete frames are released in swapped pairs; an odd one
/// out is released when the upstream goes quiet.
#[derive(Default)]
struct Frames {
    pending: Vec<u8>,
    held: Option<Vec<u8>>,
}

impl Frames {
    fn push(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        while self.pending.len() >= 4 {
            let len = i32::from_be_bytes(self.pending[..4].try_into().unwrap()).max(0) as usize;
            if self.pending.len() < 4 + len {
                break;
            }
            let frame: Vec<u8> = self.pending.drain(..4 + len).collect();
            match self.held.take() {
                None => self.held = Some(frame),
                Some(first) => {
                    out.extend_from_slice(&frame);
                    out.extend_from_slice(&first);
                }
            }
        }
        out
    }

    /// Bytes left from reordering, then `bytes`.
    fn drain_then(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut out = self.held.take().unwrap_or_default();
        out.append(&mut self.pending);
        out.extend_from_slice(bytes);
        out
    }

    fn flush_if_idle(&mut self) -> Option<Vec<u8>> {
        let mut out = self.held.take()?;
        out.append(&mut self.pending);
        Some(out)
    }
}
