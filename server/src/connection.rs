//! Every connection's deadlines (review 18-hardening H1, review 18-hardening-round2 H1, L1, L2,
//! M2, L3).
//!
//! actix-http times only the head of a connection's *first* request, and never the writing of a
//! response. A watchdog per connection closes it when:
//!
//! * **idle**: no request is in flight and the next request's head has not arrived within
//!   `server.client_header_timeout_ms` of the connection opening or of the previous response's
//!   end (plus the time its unsent tail may still need, below);
//! * **sending**: a response is being written and the client has taken none of it for
//!   `server.client_send_timeout_ms`. Progress is the dispatcher asking the body for more: it
//!   does so only once its write buffer (32 KiB) has drained into the socket, so a client that
//!   does not read its answer (a large one, or a hundred pipelined small ones whose answers pile
//!   up) makes none. The body is handed out in pieces of at most [`PIECE`] bytes, so that a slow
//!   but reading client makes progress at least every [`PIECE`] bytes;
//! * after the last piece the dispatcher may still hold up to its write buffer and one piece
//!   unsent (the **tail**), which no later poll reveals: the idle deadline then also gives the
//!   tail the time it needs at the slowest rate the sending deadline allows ([`PIECE`] per
//!   `client_send_timeout_ms`), so a slow legitimate reader is not cut off mid-answer.
//!
//! A request whose handler is still running (waiting on the database) has no deadline here;
//! its body is timed by `extract::body::read_body` (`client_body_timeout_secs`).
//!
//! How: [`on_connect`] keeps a duplicate of the accepted socket's descriptor and spawns the
//! watchdog on the connection's worker; the middleware [`track`] marks a request as in flight
//! from its complete head until its response body ([`Tracked`]) is dropped. At the deadline the
//! watchdog marks the connection `fired` and shuts the socket down in both directions: the client
//! sees the connection closed, and the server's dispatcher sees its peer gone and drops the
//! connection (which drops the [`ConnectionClock`] and so ends the watchdog and closes the
//! duplicate). A request the dispatcher still reads after that (it was already in the kernel's
//! buffer) is not executed: [`track`] answers it 503 without calling the handler (it could not
//! be answered anyway, and a cast recorded without a receipt would meet `duplicate_ballot` on the
//! retry). The watchdog and `track` run on the same single-threaded worker, so there is no race.
//!
//! Refused before any handler, by [`track`]:
//!
//! * a body on a method that takes none (GET, HEAD, DELETE, OPTIONS, TRACE): 400;
//! * every request of an [`Unguarded`] connection (no watchdog could be started, e.g. out of
//!   file descriptors): 503 with `Connection: close`, so the connection ends with its answer and
//!   is never held without a deadline;
//! * a request read after the watchdog fired: 503 with `Connection: close`.
//!
//! These answers are made outside the application's middleware (they must be, to hold the
//! in-flight mark for the whole answer), so `track` gives them the same security headers
//! ([`security_headers`]), counts them in the status-class metrics and logs them itself.

use std::any::Any;
use std::cell::Cell;
use std::net::Shutdown;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Extensions, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{ConnectionType, Method, header};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::error::ApiError;
use crate::metrics::Metrics;

/// The largest piece of a response body handed to the dispatcher at once: the client must take
/// at least this much per `client_send_timeout_ms` (8 KiB per 10 s by default, about 820 B/s).
pub const PIECE: usize = 8 * 1024;

/// The most a response can leave unsent in the dispatcher once its body has ended: actix-http's
/// write buffer (32 KiB, `h1_write_buffer_size`) and one more piece.
const TAIL: usize = 32 * 1024 + PIECE;

/// The `Strict-Transport-Security` header of a production server: two years, subdomains too.
pub const HSTS: &str = "max-age=63072000; includeSubDomains";

/// The security headers of every answer (`startup` sets them on the application's, [`track`] on
/// its own); HSTS in production only (served over HTTPS only, docs/deploy.md).
pub fn security_headers(production: bool) -> Vec<(&'static str, &'static str)> {
    let mut headers = vec![
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
        ("Content-Security-Policy", crate::webapp::CSP),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Cross-Origin-Resource-Policy", "same-origin"),
    ];
    if production {
        headers.push(("Strict-Transport-Security", HSTS));
    }
    headers
}

/// How connections are guarded (from `[server]`).
#[derive(Debug, Clone)]
pub struct Guard {
    /// `client_header_timeout_ms`: the idle deadline; 0 starts no watchdog (development only;
    /// production refuses a 0 head timeout).
    pub idle: Duration,
    /// `client_send_timeout_ms`: the longest a response may make no progress.
    pub send: Duration,
    /// `production`: [`track`]'s own answers carry HSTS.
    pub production: bool,
    pub metrics: Arc<Metrics>,
}

/// What a connection's watchdog and its requests share.
#[derive(Debug)]
struct Shared {
    /// Requests whose head has arrived and whose response body is not yet dropped.
    in_flight: Cell<u32>,
    /// Of those, the responses being written (a [`Tracked`] body exists).
    sending: Cell<u32>,
    /// When the response being written last handed a piece to the dispatcher.
    progress: Cell<Instant>,
    /// While nothing is in flight: when the connection is closed unless a head arrives first.
    idle_until: Cell<Instant>,
    /// The time the last response's unsent tail may still need (added to the idle deadline).
    tail: Cell<Duration>,
    /// The watchdog has shut the connection down: no further request is executed.
    fired: Cell<bool>,
    /// The connection is gone (its dispatcher dropped it).
    closed: Cell<bool>,
    /// Wakes the watchdog after a change of the state (not of `progress`: the watchdog reads it
    /// when its deadline comes).
    changed: Notify,
    idle: Duration,
    send: Duration,
}

impl Shared {
    /// When the watchdog closes the connection; `None` while a handler runs.
    fn deadline(&self) -> Option<Instant> {
        if self.in_flight.get() == 0 {
            Some(self.idle_until.get())
        } else if self.sending.get() > 0 {
            Some(self.progress.get() + self.send)
        } else {
            None
        }
    }

    fn arm(&self) {
        self.idle_until.set(Instant::now() + self.idle + self.tail.replace(Duration::ZERO));
        self.changed.notify_one();
    }

    fn begin(self: &Rc<Self>) -> InFlight {
        self.in_flight.set(self.in_flight.get().saturating_add(1));
        self.changed.notify_one();
        InFlight(self.clone())
    }

    /// The time `bytes` unsent bytes need at the slowest rate the send deadline allows.
    fn tail_time(&self, bytes: usize) -> Duration {
        let bytes = u32::try_from(bytes.min(TAIL)).unwrap_or(u32::MAX);
        self.send.saturating_mul(bytes) / u32::try_from(PIECE).unwrap_or(u32::MAX)
    }
}

/// Held from a request's head until its response body is dropped.
#[derive(Debug)]
pub struct InFlight(Rc<Shared>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let left = self.0.in_flight.get().saturating_sub(1);
        self.0.in_flight.set(left);
        if left == 0 {
            self.0.arm();
        }
    }
}

/// Kept in the connection's data (`HttpRequest::conn_data`) for as long as the connection lives.
#[derive(Debug)]
pub struct ConnectionClock {
    shared: Rc<Shared>,
    metrics: Arc<Metrics>,
}

impl Drop for ConnectionClock {
    fn drop(&mut self) {
        self.shared.closed.set(true);
        self.shared.changed.notify_one();
        self.metrics.connection_closed();
    }
}

/// Marks a connection whose watchdog could not be started (its socket could not be duplicated,
/// e.g. out of file descriptors): its requests are refused (503, `Connection: close`) rather
/// than served unguarded.
#[derive(Debug)]
pub struct Unguarded;

/// Every connection's guard settings, for [`track`]'s own answers.
#[derive(Debug)]
struct Answers {
    production: bool,
    metrics: Arc<Metrics>,
}

/// The `on_connect` callback of the HTTP server: starts each connection's watchdog.
pub fn on_connect(guard: Guard) -> impl Fn(&dyn Any, &mut Extensions) + Send + Sync + 'static {
    move |io, extensions| {
        extensions.insert(Answers { production: guard.production, metrics: guard.metrics.clone() });
        if guard.idle.is_zero() {
            return;
        }
        let Some(stream) = io.downcast_ref::<actix_web::rt::net::TcpStream>() else {
            tracing::warn!("a connection that is not TCP: no watchdog, its requests are refused");
            guard.metrics.connection_unguarded();
            extensions.insert(Unguarded);
            return;
        };
        let socket = match std::os::fd::AsFd::as_fd(stream).try_clone_to_owned() {
            Ok(fd) => std::net::TcpStream::from(fd),
            Err(error) => {
                tracing::warn!(%error, "could not watch a connection; its request is refused and it is closed");
                guard.metrics.connection_unguarded();
                extensions.insert(Unguarded);
                return;
            }
        };
        let now = Instant::now();
        let shared = Rc::new(Shared {
            in_flight: Cell::new(0),
            sending: Cell::new(0),
            progress: Cell::new(now),
            idle_until: Cell::new(now),
            tail: Cell::new(Duration::ZERO),
            fired: Cell::new(false),
            closed: Cell::new(false),
            changed: Notify::new(),
            idle: guard.idle,
            send: guard.send,
        });
        shared.arm();
        guard.metrics.connection_opened();
        extensions.insert(ConnectionClock { shared: shared.clone(), metrics: guard.metrics.clone() });
        actix_web::rt::spawn(watchdog(shared, socket, guard.metrics.clone()));
    }
}

/// Waits for the connection's deadline and then shuts its socket down; ends when the connection
/// is gone.
async fn watchdog(shared: Rc<Shared>, socket: std::net::TcpStream, metrics: Arc<Metrics>) {
    loop {
        if shared.closed.get() {
            return;
        }
        let changed = shared.changed.notified();
        match shared.deadline() {
            None => changed.await,
            Some(at) if at <= Instant::now() => {
                // first: a request the dispatcher still reads is not executed (`track`)
                shared.fired.set(true);
                metrics.connection_timed_out();
                // the dispatcher reads end-of-stream, the client sees the connection closed
                let _ = socket.shutdown(Shutdown::Both);
                return;
            }
            Some(at) => {
                let _ = tokio::time::timeout_at(at, changed).await;
            }
        }
    }
}

/// Methods whose requests carry no body here.
fn takes_no_body(method: &Method) -> bool {
    [Method::GET, Method::HEAD, Method::DELETE, Method::OPTIONS, Method::TRACE].contains(method)
}

/// The request announces a body: any `Transfer-Encoding`, or a `Content-Length` other than 0.
fn announces_body(headers: &header::HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers.get(header::CONTENT_LENGTH).is_some_and(|v| v.to_str().map_or(true, |v| v.trim() != "0"))
}

/// Why [`track`] answers a request itself: the error, and whether the connection ends with it.
fn refusal(unguarded: bool, fired: bool, method: &Method, headers: &header::HeaderMap) -> Option<(ApiError, bool)> {
    if fired {
        Some((ApiError::Unavailable("this connection timed out; connect again".into()), true))
    } else if unguarded {
        Some((ApiError::Unavailable("this connection could not be watched; connect again".into()), true))
    } else if takes_no_body(method) && announces_body(headers) {
        Some((ApiError::Malformed { field: None, message: format!("a {method} request takes no body") }, false))
    } else {
        None
    }
}

/// Outermost middleware: a request is in flight (its connection's idle deadline suspended, its
/// answer under the send deadline) until its response body is dropped. Refused before any
/// handler: a body on a method that takes none (400), every request of an [`Unguarded`]
/// connection and a request read after the watchdog fired (503, the connection closed).
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<Tracked>, actix_web::Error> {
    let clock = req.conn_data::<ConnectionClock>().map(|c| c.shared.clone());
    let fired = clock.as_ref().is_some_and(|s| s.fired.get());
    let refused = refusal(req.conn_data::<Unguarded>().is_some(), fired, req.method(), req.headers());
    let in_flight = clock.as_ref().map(|s| s.begin());
    if let Some((error, close)) = refused {
        let (production, metrics) = match req.conn_data::<Answers>() {
            Some(a) => (a.production, Some(a.metrics.clone())),
            None => (false, None),
        };
        let method = req.method().to_string();
        let mut res = req.error_response(error).map_into_boxed_body();
        let status = res.status().as_u16();
        // the request line is not logged: its path may hold a PIN
        tracing::warn!(status, %method, close, "request refused before the application");
        if let Some(m) = metrics {
            m.http_response(status);
        }
        for (name, value) in security_headers(production) {
            if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
                res.headers_mut().insert(name, value);
            }
        }
        if close {
            res.response_mut().head_mut().set_connection_type(ConnectionType::Close);
        }
        return Ok(res.map_body(|_, body| Tracked::new(body, in_flight)));
    }
    // an error (not a response) ends the request here: its (small) answer is written right
    // after, under the idle deadline
    let res = next.call(req).await?.map_into_boxed_body();
    Ok(res.map_body(|_, body| Tracked::new(body, in_flight)))
}

/// A response body that keeps its request in flight until it is dropped, hands itself out in
/// pieces of at most [`PIECE`] bytes and notes each as progress.
pub struct Tracked {
    body: BoxBody,
    /// What is left of the body's last chunk.
    rest: Bytes,
    /// Bytes handed out so far.
    sent: usize,
    in_flight: Option<InFlight>,
}

impl Tracked {
    fn new(body: BoxBody, in_flight: Option<InFlight>) -> Self {
        if let Some(InFlight(shared)) = &in_flight {
            shared.sending.set(shared.sending.get().saturating_add(1));
            shared.progress.set(Instant::now());
            shared.changed.notify_one();
        }
        Self { body, rest: Bytes::new(), sent: 0, in_flight }
    }

    fn piece(&mut self) -> Bytes {
        let piece = self.rest.split_to(self.rest.len().min(PIECE));
        self.sent = self.sent.saturating_add(piece.len());
        if let Some(InFlight(shared)) = &self.in_flight {
            shared.progress.set(Instant::now());
        }
        piece
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Some(InFlight(shared)) = &self.in_flight {
            shared.sending.set(shared.sending.get().saturating_sub(1));
            // what may still sit unsent in the dispatcher (at most [`TAIL`])
            shared.tail.set(shared.tail.get().max(shared.tail_time(self.sent)));
        }
    }
}

impl MessageBody for Tracked {
    type Error = <BoxBody as MessageBody>::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = &mut *self;
        while this.rest.is_empty() {
            match Pin::new(&mut this.body).poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => this.rest = chunk,
                other => return other,
            }
        }
        Poll::Ready(Some(Ok(this.piece())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_read_after_the_watchdog_fired_is_not_executed() {
        let none = header::HeaderMap::new();
        assert!(refusal(false, false, &Method::POST, &none).is_none());
        let (error, close) = refusal(false, true, &Method::POST, &none).expect("executed after the deadline");
        assert!(matches!(error, ApiError::Unavailable(_)) && close);
        let (error, close) = refusal(true, false, &Method::GET, &none).expect("served unguarded");
        assert!(matches!(error, ApiError::Unavailable(_)) && close);
    }
}
