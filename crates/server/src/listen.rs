//! What both TCP listeners (DC-09 and HTTP) share to survive connection floods: caps on
//! concurrent connections per listener and per source address, a pause after a failed
//! `accept`, warnings logged at a bounded rate, and the process's file-descriptor limit
//! raised at start and shared out between the listeners.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Notify;

/// How many connections one listener holds at once, in all and from one source address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Connections open at once on the listener.
    pub total: usize,
    /// Connections open at once from one source: an IPv4 address, or an IPv6 /64 (one
    /// host's share of addresses).
    pub per_source: usize,
}

/// The DC-09 TCP receiver's connection rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dc09Listen {
    pub caps: Caps,
    /// A new connection must deliver a complete frame that is accepted (ACKed) within this,
    /// a frame once begun must be complete within it, and a reply must be taken within it.
    pub frame_timeout: Duration,
    /// How long a connection may stay silent: beyond the supervision interval of the account
    /// last heard on it, or in all when that account is not supervised (or none was heard).
    pub idle_timeout: Duration,
}

/// The HTTP listener's connection rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpListen {
    pub caps: Caps,
    /// A client must complete the TLS handshake and each request's headers within this,
    /// counted from the connection's opening or from the end of the previous answer; so it
    /// is also how long an idle keep-alive connection is kept.
    pub header_timeout: Duration,
    /// A request must be read and its answer begun within this after its headers: a body
    /// sent slower gets 408 and the connection closes. An answer that streams (the live
    /// events) may go on for as long as it lasts. Any write to the client that makes no
    /// progress for this long (the client reads nothing) fails and closes the connection.
    pub request_timeout: Duration,
    /// Certificate chain and private key (PEM files) when HTTP speaks TLS.
    pub tls: Option<TlsFiles>,
    /// The names the center is served under (`http.hosts`, without port): requests naming
    /// another get 421 (`crate::host`). Empty: addresses and `localhost` only, unless TLS on
    /// a non-loopback address.
    pub hosts: Vec<String>,
}

/// The PEM files of the HTTP listener's TLS identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Both listeners' rules: `server::Config::listen`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListenConfig {
    pub dc09: Dc09Listen,
    pub http: HttpListen,
}

impl Default for Dc09Listen {
    /// Many cellular communicators reach the center from one carrier NAT address, so one
    /// source may hold many connections.
    fn default() -> Self {
        Dc09Listen {
            caps: Caps {
                total: 8192,
                per_source: 2048,
            },
            frame_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(600),
        }
    }
}

impl Default for HttpListen {
    /// A console tab holds its event stream and a few requests; an office behind one address
    /// has a few dozen tabs open.
    fn default() -> Self {
        HttpListen {
            caps: Caps {
                total: 1024,
                per_source: 64,
            },
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            tls: None,
            hosts: Vec::new(),
        }
    }
}

/// File descriptors kept back from the listeners for the store, recordings and telephony.
const FD_RESERVE: u64 = 256;

/// Raises the soft limit on open files to the hard limit (logged), and returns the soft
/// limit now in force (`None` where it cannot be read).
pub fn raise_fd_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => {
            tracing::info!("open-file limit: {limit}");
            Some(limit)
        }
        Err(e) => {
            tracing::warn!("open-file limit not raised: {e}");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .ok()
                .map(|(soft, _)| soft)
        }
    }
}

/// The caps in force under an open-file limit of `fd_limit`: DC-09 may use three quarters
/// of what is left after `FD_RESERVE`, HTTP one quarter; a listener's cap lowered to fit
/// lowers its per-source cap in the same proportion, so one address still cannot fill it.
pub fn fit(dc09: Caps, http: Caps, fd_limit: Option<u64>) -> (Caps, Caps) {
    let budget = fd_limit.map_or(u64::MAX, |l| l.saturating_sub(FD_RESERVE).max(64));
    let share = |caps: Caps, part: u64| {
        let total = caps
            .total
            .min(usize::try_from(budget / 4 * part).unwrap_or(usize::MAX))
            .max(1);
        let scaled = caps.per_source as u128 * total as u128 / caps.total.max(1) as u128;
        Caps {
            total,
            per_source: usize::try_from(scaled).unwrap_or(total).clamp(1, total),
        }
    };
    (share(dc09, 3), share(http, 1))
}

/// The queue of connections not yet accepted: room for a burst of reconnecting panels (and a
/// flood's) while the accept loop drains it; the kernel trims it to `net.core.somaxconn`.
const BACKLOG: u32 = 4096;

/// A TCP listener on `addr` with a long accept queue (`BACKLOG`), so that a burst of new
/// connections is not dropped (and retried by the client a second later) before the accept
/// loop closes those over the caps.
pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    // As `TcpListener::bind` does: a restarted center can listen again at once.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// A listener's count of open connections, in all and by source.
pub struct Gate {
    name: &'static str,
    caps: Caps,
    open: Mutex<Open>,
    refusals: LogLimit,
}

#[derive(Default)]
struct Open {
    total: usize,
    by_source: HashMap<IpAddr, usize>,
    /// Connections that have not yet delivered a frame or a request, oldest first: when the
    /// listener is full, the oldest of them gives its place to a new one. Otherwise idle
    /// connections from many addresses, each within its source's cap, would fill the listener
    /// and shut out every new panel and the console.
    unproven: BTreeMap<u64, Arc<Notify>>,
    /// Every connection not yet told to go, by source, oldest first: when the listener is
    /// full and none is unproven, the source holding the most gives up its oldest to a
    /// newcomer from a source holding fewer. Otherwise a few sources, each sending a cheap
    /// frame or request now and then, would hold every place (fair share).
    places: HashMap<IpAddr, BTreeMap<u64, Arc<Notify>>>,
    admitted: u64,
}

impl Open {
    /// Tells connection `seq` of `source` to close, and forgets it as a candidate: its place
    /// is counted until it has closed.
    fn evict(&mut self, source: IpAddr, seq: u64) {
        self.unproven.remove(&seq);
        if let Some(places) = self.places.get_mut(&source)
            && let Some(evict) = places.remove(&seq)
        {
            evict.notify_one();
            if places.is_empty() {
                self.places.remove(&source);
            }
        }
    }

    /// Makes room for a newcomer from `source`: the oldest unproven connection goes, else the
    /// oldest of the source holding the most, if that is more than one more than `source`
    /// holds. False when no connection should give way.
    fn make_room(&mut self, source: IpAddr) -> bool {
        if let Some((&seq, _)) = self.unproven.first_key_value() {
            let owner = self
                .places
                .iter()
                .find(|(_, places)| places.contains_key(&seq))
                .map(|(owner, _)| *owner);
            match owner {
                Some(owner) => self.evict(owner, seq),
                None => {
                    self.unproven.remove(&seq);
                }
            }
            return true;
        }
        let holds = |source: &IpAddr| self.places.get(source).map_or(0, BTreeMap::len);
        let mine = holds(&source);
        let Some((heaviest, most)) = self
            .places
            .iter()
            .map(|(s, places)| (*s, places.len()))
            .max_by_key(|(_, n)| *n)
        else {
            return false;
        };
        if mine + 1 >= most {
            return false;
        }
        let oldest = *self.places[&heaviest].keys().next().expect("not empty");
        self.evict(heaviest, oldest);
        true
    }
}

/// One admitted connection; dropping it gives its place back.
pub struct Admitted {
    gate: Arc<Gate>,
    source: IpAddr,
    seq: u64,
    evict: Arc<Notify>,
}

impl Admitted {
    /// The connection delivered what a client of this listener sends (a frame the receiver
    /// stored, an HTTP request): it no longer gives its place to a newcomer.
    pub fn proven(&self) {
        let mut open = self.gate.open.lock().expect("gate lock");
        open.unproven.remove(&self.seq);
    }

    /// Resolves when the listener, full, gave this connection's place to a new one (it was
    /// unproven, or its source held more than its share): the connection should close.
    pub async fn evicted(&self) {
        self.evict.notified().await
    }
}

impl Gate {
    /// `name` is how the logs call the listener ("DC-09", "HTTP").
    pub fn new(name: &'static str, caps: Caps) -> Arc<Gate> {
        Arc::new(Gate {
            name,
            caps,
            open: Mutex::default(),
            refusals: LogLimit::new(Duration::from_secs(10)),
        })
    }

    pub fn caps(&self) -> Caps {
        self.caps
    }

    /// A place for a connection from `peer`, or `None` when the listener or the source is at
    /// its cap (the refusal is logged at a bounded rate).
    pub fn admit(self: &Arc<Self>, peer: SocketAddr) -> Option<Admitted> {
        let source = source_of(peer.ip());
        let mut open = self.open.lock().expect("gate lock");
        let from_source = open.by_source.get(&source).copied().unwrap_or(0);
        let refused = if from_source >= self.caps.per_source {
            Some("its source")
        } else if open.total >= self.caps.total && !open.make_room(source) {
            Some("the listener")
        } else {
            None
        };
        if let Some(whose) = refused {
            drop(open);
            self.refusals.warn(|suppressed| {
                format!(
                    "{} connection from {source} closed: {whose} is at its cap ({} in all, {} \
                     per source){}",
                    self.name,
                    self.caps.total,
                    self.caps.per_source,
                    suppressed_note(suppressed)
                )
            });
            return None;
        }
        open.total += 1;
        *open.by_source.entry(source).or_default() += 1;
        open.admitted += 1;
        let (seq, evict) = (open.admitted, Arc::new(Notify::new()));
        open.unproven.insert(seq, evict.clone());
        open.places
            .entry(source)
            .or_default()
            .insert(seq, evict.clone());
        Some(Admitted {
            gate: self.clone(),
            source,
            seq,
            evict,
        })
    }

    /// Connections open now: in all, and from `peer`'s source.
    pub fn open(&self, peer: SocketAddr) -> (usize, usize) {
        let open = self.open.lock().expect("gate lock");
        let source = source_of(peer.ip());
        (
            open.total,
            open.by_source.get(&source).copied().unwrap_or(0),
        )
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.gate.open.lock().expect("gate lock");
        open.unproven.remove(&self.seq);
        if let Some(places) = open.places.get_mut(&self.source) {
            places.remove(&self.seq);
            if places.is_empty() {
                open.places.remove(&self.source);
            }
        }
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.by_source.get_mut(&self.source) {
            *n -= 1;
            if *n == 0 {
                open.by_source.remove(&self.source);
            }
        }
    }
}

/// The source a client counts against (connections, datagrams, sign-ins): an IPv4 address
/// (also when mapped into IPv6), or the /64 an IPv6 address is in, since one subscriber
/// commonly holds a whole /64 and an address of its own costs nothing.
pub(crate) fn source_of(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// Accepts the next connection the gate admits. A connection over a cap is accepted and
/// closed at once, so the kernel's backlog never fills while the caps hold; after a failed
/// `accept` (out of file descriptors, say) it pauses, longer each time up to a second, and
/// logs at a bounded rate.
pub struct Acceptor {
    listener: TcpListener,
    gate: Arc<Gate>,
    errors: LogLimit,
    pause: Duration,
}

const FIRST_PAUSE: Duration = Duration::from_millis(10);
const LONGEST_PAUSE: Duration = Duration::from_secs(1);

impl Acceptor {
    pub fn new(listener: TcpListener, gate: Arc<Gate>) -> Acceptor {
        Acceptor {
            listener,
            gate,
            errors: LogLimit::new(Duration::from_secs(10)),
            pause: FIRST_PAUSE,
        }
    }

    /// The next admitted connection, its peer and its place. Cancel-safe.
    pub async fn next(&mut self) -> (TcpStream, SocketAddr, Admitted) {
        loop {
            match self.listener.accept().await {
                Ok((stream, peer)) => {
                    self.pause = FIRST_PAUSE;
                    match self.gate.admit(peer) {
                        Some(place) => return (stream, peer, place),
                        None => drop(stream),
                    }
                }
                Err(e) => {
                    let name = self.gate.name;
                    self.errors.warn(|suppressed| {
                        format!("{name} accept failed: {e}{}", suppressed_note(suppressed))
                    });
                    tokio::time::sleep(self.pause).await;
                    self.pause = (self.pause * 2).min(LONGEST_PAUSE);
                }
            }
        }
    }
}

/// Logs one warning per period at most, and with the next one how many were left out.
#[derive(Debug)]
pub struct LogLimit {
    every: Duration,
    state: Mutex<(Option<Instant>, u64)>,
}

impl LogLimit {
    pub fn new(every: Duration) -> LogLimit {
        LogLimit {
            every,
            state: Mutex::new((None, 0)),
        }
    }

    /// Counts one event. When no line was logged within the period, returns how many events
    /// were left out since the last line, and the caller logs one now.
    pub fn due(&self) -> Option<u64> {
        let now = Instant::now();
        let mut state = self.state.lock().expect("log limit lock");
        let (last, suppressed) = &mut *state;
        if last.is_some_and(|at| now.duration_since(at) < self.every) {
            *suppressed += 1;
            return None;
        }
        *last = Some(now);
        Some(std::mem::take(suppressed))
    }

    /// Logs `line(suppressed)` as a warning when `due`. Returns whether it logged.
    pub fn warn(&self, line: impl FnOnce(u64) -> String) -> bool {
        let Some(suppressed) = self.due() else {
            return false;
        };
        tracing::warn!("{}", line(suppressed));
        true
    }
}

fn suppressed_note(suppressed: u64) -> String {
    if suppressed == 0 {
        String::new()
    } else {
        format!(" ({suppressed} more like it not logged)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_gate_caps_the_listener_and_each_source_and_frees_places() {
        let gate = Gate::new(
            "test",
            Caps {
                total: 3,
                per_source: 2,
            },
        );
        let a1 = gate.admit(peer("10.0.0.1:1")).unwrap();
        let a2 = gate.admit(peer("10.0.0.1:2")).unwrap();
        assert!(gate.admit(peer("10.0.0.1:3")).is_none(), "per source");
        let b1 = gate.admit(peer("10.0.0.2:1")).unwrap();
        // All three have delivered something, and 10.0.0.2 holds no less than its share
        // (one fewer than 10.0.0.1): the full listener refuses it.
        for place in [&a1, &a2, &b1] {
            place.proven();
        }
        assert!(gate.admit(peer("10.0.0.2:2")).is_none(), "listener");
        drop(a1);
        assert_eq!(gate.open(peer("10.0.0.1:9")), (2, 1));
        assert!(gate.admit(peer("10.0.0.3:1")).is_some());
    }

    #[tokio::test]
    async fn a_full_gate_evicts_its_oldest_silent_connection() {
        let gate = Gate::new(
            "test",
            Caps {
                total: 2,
                per_source: 2,
            },
        );
        let oldest = gate.admit(peer("10.0.0.1:1")).unwrap();
        let talking = gate.admit(peer("10.0.0.2:1")).unwrap();
        talking.proven();
        let newcomer = gate.admit(peer("10.0.0.3:1")).expect("room made");
        tokio::time::timeout(Duration::from_secs(1), oldest.evicted())
            .await
            .expect("the oldest silent connection is told to close");
        drop(oldest);
        newcomer.proven();
        assert!(
            gate.admit(peer("10.0.0.4:1")).is_none(),
            "none left to evict"
        );
    }

    /// F1/F2 of the issue-13 review: a few sources that each send something now and then
    /// filled the listener with proven connections. A newcomer from a source holding fewer
    /// takes the place of the oldest connection of the source holding the most.
    #[tokio::test]
    async fn a_full_gate_takes_a_place_from_the_source_holding_the_most() {
        let gate = Gate::new(
            "test",
            Caps {
                total: 4,
                per_source: 3,
            },
        );
        let heavy: Vec<Admitted> = (1..=3)
            .map(|port| gate.admit(peer(&format!("10.0.0.1:{port}"))).unwrap())
            .collect();
        let light = gate.admit(peer("10.0.0.2:1")).unwrap();
        for place in heavy.iter().chain([&light]) {
            place.proven();
        }
        let newcomer = gate
            .admit(peer("10.0.0.3:1"))
            .expect("a place from 10.0.0.1");
        tokio::time::timeout(Duration::from_secs(1), heavy[0].evicted())
            .await
            .expect("the heaviest source's oldest connection is told to close");
        newcomer.proven();
        // Now 10.0.0.1 holds 2 (one closing), the others 1 each: still fairer to take one.
        let second = gate
            .admit(peer("10.0.0.4:1"))
            .expect("another from 10.0.0.1");
        tokio::time::timeout(Duration::from_secs(1), heavy[1].evicted())
            .await
            .expect("its next oldest goes");
        second.proven();
        // Every source holds one: nobody gives way, and the newcomer is refused.
        assert!(gate.admit(peer("10.0.0.5:1")).is_none());
        assert!(gate.admit(peer("10.0.0.2:2")).is_none());
        drop(light);
    }

    #[test]
    fn an_ipv6_host_counts_as_its_64() {
        let gate = Gate::new(
            "test",
            Caps {
                total: 10,
                per_source: 1,
            },
        );
        let _a = gate.admit(peer("[2001:db8:1:2::1]:1")).unwrap();
        assert!(gate.admit(peer("[2001:db8:1:2::ffff]:1")).is_none());
        assert!(gate.admit(peer("[2001:db8:1:3::1]:1")).is_some());
        let _v4 = gate.admit(peer("[::ffff:10.0.0.1]:1")).unwrap();
        assert!(
            gate.admit(peer("10.0.0.1:2")).is_none(),
            "mapped is the same"
        );
    }

    #[test]
    fn caps_fit_the_open_file_limit() {
        let d = ListenConfig::default();
        let (dc09, http) = fit(d.dc09.caps, d.http.caps, Some(1024));
        assert_eq!(
            dc09,
            Caps {
                total: 576,
                per_source: 144
            }
        );
        assert_eq!(
            http,
            Caps {
                total: 192,
                per_source: 12
            }
        );
        let (dc09, http) = fit(d.dc09.caps, d.http.caps, Some(1 << 20));
        assert_eq!((dc09, http), (d.dc09.caps, d.http.caps));
    }

    #[test]
    fn warnings_are_logged_once_a_period_with_a_count() {
        let limit = LogLimit::new(Duration::from_secs(60));
        assert!(limit.warn(|n| format!("{n}")));
        assert!(!limit.warn(|_| unreachable!()));
        assert!(!limit.warn(|_| unreachable!()));
        assert_eq!(limit.state.lock().unwrap().1, 2);
    }
}
