//! The center's SIP user agent on `rsipstack`: UDP and TCP on the configured address, the
//! dialog layer, requests that arrive inside a dialog (BYE, re-INVITE, INFO…) handed to their
//! dialog, REGISTER kept fresh when the trunk wants it.

use crate::Shared;
use crate::config::SipConfig;
use rsipstack::EndpointBuilder;
use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::registration::Registration;
use rsipstack::sip::{Method, StatusCode, Uri};
use rsipstack::transaction::TransactionReceiver;
use rsipstack::transport::TransportLayer;
use rsipstack::transport::tcp_listener::TcpListenerConnection;
use rsipstack::transport::udp::UdpConnection;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Why the SIP side could not start. Each names the key of `[telephony]` at fault.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("telephony.listen: cannot listen on {addr}: {reason}")]
    Listen { addr: String, reason: String },
    #[error("telephony.caller_id: {0:?} is not an E.164 number")]
    CallerId(String),
    #[error("telephony.tts: {0}")]
    Voice(#[from] crate::tts::TtsError),
}

/// The running user agent.
pub struct Endpoint {
    pub dialogs: Arc<DialogLayer>,
    /// Our Contact (`sip:<caller id>@<listen>`).
    pub contact: Uri,
    pub credential: Option<Credential>,
    stop: CancellationToken,
}

impl Endpoint {
    /// Binds UDP and TCP on `config.listen` and starts serving. Returns the endpoint and the
    /// requests that arrive outside any dialog (for `serve_requests`). Errors:
    /// `StartError::Listen`.
    pub async fn start(config: &SipConfig) -> Result<(Endpoint, TransactionReceiver), StartError> {
        let listen_error = |e: &dyn std::fmt::Display| StartError::Listen {
            addr: config.listen.to_string(),
            reason: e.to_string(),
        };
        let stop = CancellationToken::new();
        let transport = TransportLayer::new(stop.clone());
        let udp = UdpConnection::create_connection(config.listen, None, Some(stop.child_token()))
            .await
            .map_err(|e| listen_error(&e))?;
        transport.add_transport(udp.into());
        // rsipstack binds the TCP listener when it serves; bind once here so a taken port is
        // an error at start rather than a log line later.
        drop(std::net::TcpListener::bind(config.listen).map_err(|e| listen_error(&e))?);
        let tcp = TcpListenerConnection::new(config.listen, None)
            .await
            .map_err(|e| listen_error(&e))?;
        transport.add_transport(tcp.into());
        let endpoint = EndpointBuilder::new()
            .with_cancel_token(stop.clone())
            .with_transport_layer(transport)
            .with_user_agent(concat!("watchpost/", env!("CARGO_PKG_VERSION")))
            .build();
        let incoming = endpoint
            .incoming_transactions()
            .map_err(|e| listen_error(&e))?;
        let dialogs = Arc::new(DialogLayer::new(endpoint.inner.clone()));
        let serving = endpoint.inner.clone();
        tokio::spawn(async move {
            if let Err(e) = serving.serve().await {
                tracing::error!(error = %e, "SIP endpoint stopped");
            }
        });
        let contact = Uri::try_from(format!("sip:{}@{}", config.caller_id, config.listen).as_str())
            .map_err(|_| StartError::CallerId(config.caller_id.clone()))?;
        let credential = config.credentials.as_ref().map(|c| Credential {
            username: c.username.clone(),
            password: c.password.clone(),
            realm: None,
            auth_username: None,
        });
        let endpoint = Endpoint {
            dialogs,
            contact,
            credential,
            stop,
        };
        if config.register {
            tokio::spawn(keep_registered(
                endpoint.dialogs.clone(),
                endpoint.credential.clone(),
                config.trunk.uri(),
                endpoint.stop.clone(),
            ));
        }
        Ok((endpoint, incoming))
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Requests from peers: in-dialog ones go to their dialog; OPTIONS (a trunk's keep-alive) is
/// answered; a new INVITE is a call to the center (`inbound`); the rest get 405. Ends when the
/// telephony is dropped.
pub async fn serve_requests(shared: Weak<Shared>, mut incoming: TransactionReceiver) {
    while let Some(mut tx) = incoming.recv().await {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        if let Some(mut dialog) = shared.endpoint.dialogs.match_dialog(&tx) {
            tokio::spawn(async move {
                if let Err(e) = dialog.handle(&mut tx).await {
                    tracing::debug!(error = %e, "in-dialog request");
                }
            });
            continue;
        }
        let status = match tx.original.method {
            Method::Options => StatusCode::OK,
            Method::Ack => continue,
            Method::Bye | Method::Cancel => StatusCode::CallTransactionDoesNotExist,
            Method::Invite => {
                tokio::spawn(crate::inbound::answer(shared, tx));
                continue;
            }
            _ => StatusCode::MethodNotAllowed,
        };
        tokio::spawn(async move {
            let _ = tx.reply(status).await;
        });
    }
}

/// REGISTER now and again before each expiry; a failure is retried every 30 s and logged
/// (without the password).
async fn keep_registered(
    dialogs: Arc<DialogLayer>,
    credential: Option<Credential>,
    registrar: String,
    stop: CancellationToken,
) {
    const EXPIRES: u32 = 300;
    let Ok(server) = Uri::try_from(registrar.as_str()) else {
        tracing::error!(%registrar, "telephony.trunk is not a SIP URI: not registering");
        return;
    };
    let mut registration = Registration::new(dialogs.endpoint.clone(), credential);
    loop {
        let wait = match registration.register(server.clone(), Some(EXPIRES)).await {
            Ok(response) if response.status_code == StatusCode::OK => {
                tracing::info!(%registrar, "registered with the trunk");
                Duration::from_secs(u64::from(EXPIRES) * 3 / 4)
            }
            Ok(response) => {
                tracing::warn!(%registrar, status = %response.status_code, "REGISTER refused");
                Duration::from_secs(30)
            }
            Err(e) => {
                tracing::warn!(%registrar, error = %e, "REGISTER failed");
                Duration::from_secs(30)
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.cancelled() => return,
        }
    }
}
