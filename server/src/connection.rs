//! Every connection's deadline (review 18-hardening H1).
//!
//! actix-http times only the head of a connection's *first* request. After that a client could
//! trickle its next head one byte at a time, or leave a body that no handler reads (a chunked
//! GET, a POST refused before its body is read) for the server to drain forever, and so hold a
//! connection, a file descriptor and a slot of the worker's connection cap for as long as it
//! likes. Here a watchdog per connection closes it when no request is being served and the next
//! request's head has not arrived within `server.client_header_timeout_ms`, counted from the
//! moment the connection opened or the previous response was written out. While a request is
//! being served its body is timed by `extract::body::read_body` (`client_body_timeout_secs`).
//!
//! How: [`on_connect`] keeps a duplicate of the accepted socket's descriptor and spawns the
//! watchdog on the connection's worker; the middleware [`track`] marks a request as in flight
//! from its complete head until its response body is dropped (written out, or abandoned). At the
//! deadline the watchdog shuts the socket down in both directions: the client sees the
//! connection closed, and the server's dispatcher sees its peer gone and drops the connection
//! (which drops the [`ConnectionClock`] and so ends the watchdog and closes the duplicate).
//!
//! A request that comes with a body on a method that takes none (GET, HEAD, DELETE, OPTIONS,
//! TRACE) is refused with 400 before any handler runs ([`track`]).

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
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::error::ApiError;
use crate::metrics::Metrics;

/// What a connection's watchdog and its requests share.
#[derive(Debug)]
struct Shared {
    /// Requests whose head has arrived and whose response body is not yet dropped.
    in_flight: Cell<u32>,
    /// When the connection is closed unless a request's head arrives first; `None` while a
    /// request is in flight.
    deadline: Cell<Option<Instant>>,
    /// The connection is gone (its dispatcher dropped it).
    closed: Cell<bool>,
    /// Wakes the watchdog after any change of the above.
    changed: Notify,
    /// `server.client_header_timeout_ms`.
    idle: Duration,
}

impl Shared {
    fn arm(&self) {
        self.deadline.set(Some(Instant::now() + self.idle));
        self.changed.notify_one();
    }

    fn begin(self: &Rc<Self>) -> InFlight {
        self.in_flight.set(self.in_flight.get().saturating_add(1));
        self.deadline.set(None);
        self.changed.notify_one();
        InFlight(self.clone())
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
/// e.g. out of file descriptors): its requests are refused (503) rather than served unguarded.
#[derive(Debug)]
pub struct Unguarded;

/// The `on_connect` callback of the HTTP server: starts each connection's watchdog, closing it
/// after `idle` without a request in flight. `idle` 0 starts none (development only; production
/// refuses a 0 head timeout).
pub fn on_connect(idle: Duration, metrics: Arc<Metrics>) -> impl Fn(&dyn Any, &mut Extensions) + Send + Sync + 'static {
    move |io, extensions| {
        if idle.is_zero() {
            return;
        }
        let Some(stream) = io.downcast_ref::<actix_web::rt::net::TcpStream>() else {
            tracing::warn!("a connection that is not TCP: no watchdog, its requests are refused");
            extensions.insert(Unguarded);
            return;
        };
        let socket = match std::os::fd::AsFd::as_fd(stream).try_clone_to_owned() {
            Ok(fd) => std::net::TcpStream::from(fd),
            Err(error) => {
                tracing::warn!(%error, "could not watch a connection; its requests are refused");
                extensions.insert(Unguarded);
                return;
            }
        };
        let shared = Rc::new(Shared {
            in_flight: Cell::new(0),
            deadline: Cell::new(None),
            closed: Cell::new(false),
            changed: Notify::new(),
            idle,
        });
        shared.arm();
        metrics.connection_opened();
        extensions.insert(ConnectionClock { shared: shared.clone(), metrics: metrics.clone() });
        actix_web::rt::spawn(watchdog(shared, socket));
    }
}

/// Waits for the connection's deadline and then shuts its socket down; ends when the connection
/// is gone.
async fn watchdog(shared: Rc<Shared>, socket: std::net::TcpStream) {
    loop {
        if shared.closed.get() {
            return;
        }
        let changed = shared.changed.notified();
        match shared.deadline.get() {
            None => changed.await,
            Some(at) if at <= Instant::now() => {
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

/// Outermost middleware: a request is in flight (its connection's deadline suspended) until its
/// response body is dropped; a body on a method that takes none is refused (400) before any
/// handler, and so is every request of an [`Unguarded`] connection (503).
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<Tracked>, actix_web::Error> {
    let refusal = if req.conn_data::<Unguarded>().is_some() {
        Some(ApiError::Unavailable("this connection could not be watched; connect again".into()))
    } else if takes_no_body(req.method()) && announces_body(req.headers()) {
        Some(ApiError::Malformed { field: None, message: format!("a {} request takes no body", req.method()) })
    } else {
        None
    };
    let in_flight = req.conn_data::<ConnectionClock>().map(|c| c.shared.begin());
    if let Some(error) = refusal {
        let res = req.error_response(error).map_into_boxed_body();
        return Ok(res.map_body(|_, body| Tracked { body, _in_flight: in_flight }));
    }
    // an error (not a response) ends the request here: its answer is written right after
    let res = next.call(req).await?.map_into_boxed_body();
    Ok(res.map_body(|_, body| Tracked { body, _in_flight: in_flight }))
}

/// A response body that keeps its request in flight until it is dropped.
pub struct Tracked {
    body: BoxBody,
    _in_flight: Option<InFlight>,
}

impl MessageBody for Tracked {
    type Error = <BoxBody as MessageBody>::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.body).poll_next(cx)
    }
}
