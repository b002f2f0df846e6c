//! Serving the HTTP router (API and console) on its listener: the connection caps, the
//! header-read timeout (which also ends idle keep-alive connections and bounds the TLS
//! handshake), the request timeout (bounding a slow body, and any write the client does not
//! take), TLS when configured, and a graceful end on stop.

use crate::listen::{Acceptor, Admitted, Gate, HttpListen};
use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_io_timeout::TimeoutStream;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;
use tower_http::timeout::TimeoutLayer;

/// Serves `router` until `stop`, each request carrying `ConnectInfo<SocketAddr>` (the
/// peer). After `stop`, connections finish the request in hand and close.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    rules: HttpListen,
    tls: Option<TlsAcceptor>,
    stop: watch::Receiver<bool>,
) {
    let bound = listener
        .local_addr()
        .map_or(std::net::Ipv4Addr::LOCALHOST.into(), |a| a.ip());
    let hosts = Arc::new(crate::host::Hosts::new(&rules.hosts, bound, tls.is_some()));
    let mut acceptor = Acceptor::new(listener, Gate::new("HTTP", rules.caps));
    let router = router
        .layer(axum::middleware::from_fn_with_state(
            hosts,
            crate::host::known_host,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            rules.request_timeout,
        ));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(rules.header_timeout)
        .keep_alive(true);
    let builder = Arc::new(builder);
    loop {
        let mut stopping = stop.clone();
        let (stream, peer, place) = tokio::select! {
            next = acceptor.next() => next,
            _ = stopping.changed() => return,
        };
        let _ = stream.set_nodelay(true);
        // A write that makes no progress for the request timeout fails and ends the
        // connection: a client that sends requests and never reads the answers would
        // otherwise hold its place under the caps for as long as it liked.
        let mut stream = TimeoutStream::new(stream);
        stream.set_write_timeout(Some(rules.request_timeout));
        let stream = Box::pin(stream);
        let (router, builder, tls, stop) =
            (router.clone(), builder.clone(), tls.clone(), stop.clone());
        let header_timeout = rules.header_timeout;
        tokio::spawn(async move {
            match tls {
                None => connection(&builder, stream, peer, router, place, stop).await,
                Some(tls) => {
                    // The handshake is bounded like a request's headers: a client that
                    // opens a connection and stalls holds it no longer.
                    // A place given to a newer connection is given up during the handshake
                    // too: the descriptor must not outlive it.
                    let handshake = tokio::select! {
                        done = tokio::time::timeout(header_timeout, tls.accept(stream)) => done,
                        _ = place.evicted() => {
                            tracing::debug!("TLS handshake from {peer} ended: its place went to a newer one");
                            return;
                        }
                    };
                    match handshake {
                        Ok(Ok(stream)) => {
                            connection(&builder, stream, peer, router, place, stop).await
                        }
                        Ok(Err(e)) => tracing::debug!("TLS handshake from {peer} failed: {e}"),
                        Err(_) => tracing::debug!("TLS handshake from {peer} timed out"),
                    }
                }
            }
        });
    }
}

async fn connection<S>(
    builder: &http1::Builder,
    stream: S,
    peer: SocketAddr,
    router: Router,
    place: Admitted,
    mut stop: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let place = Arc::new(place);
    let proven = place.clone();
    let service = router.map_request(move |mut request: hyper::Request<hyper::body::Incoming>| {
        proven.proven();
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    });
    let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        tokio::select! {
            served = conn.as_mut() => {
                if let Err(e) = served {
                    tracing::debug!("HTTP connection from {peer} ended: {e}");
                }
                break;
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
            // Full, the listener gave this connection's place (it had sent no request, or its
            // source held more than its share) to a newer one.
            _ = place.evicted() => {
                tracing::debug!("HTTP connection from {peer} closed: its place went to a newer one");
                break;
            }
        }
    }
}
