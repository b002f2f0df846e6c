//! The fake SIP trunk of `watchpost bench invite`: one UDP socket that notes when each INVITE
//! arrives and turns every call away with 486 Busy Here, so that the center's calls end at
//! once and nothing but the INVITE is measured.

use rsipstack::sip::{Header, Method, Request, Response, StatusCode};
use std::sync::Arc;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// An INVITE as it reached the trunk.
#[derive(Debug, Clone)]
pub struct Arrival {
    /// The Request-URI's user part: the number dialled (E.164 for the center's calls).
    pub number: String,
    /// When the datagram was read off the socket.
    pub at: Instant,
}

/// Serves `socket` until `arrivals` is dropped: every INVITE (retransmissions too) is reported
/// and answered 486; ACKs are absorbed; anything else, or a datagram that is not SIP, is
/// ignored (a bench must not stop on a stray packet).
pub async fn serve(socket: Arc<UdpSocket>, arrivals: mpsc::UnboundedSender<Arrival>) {
    let mut buf = vec![0u8; 65_535];
    let mut answered = 0u64;
    loop {
        let Ok((n, from)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        let at = Instant::now();
        let Ok(request) = Request::try_from(&buf[..n]) else {
            tracing::debug!(%from, "bench trunk: not a SIP request");
            continue;
        };
        if request.method != Method::Invite {
            continue;
        }
        let arrival = Arrival {
            number: request.uri.user().unwrap_or_default().to_string(),
            at,
        };
        if arrivals.send(arrival).is_err() {
            return;
        }
        answered += 1;
        let reply = busy(&request, &format!("bench{answered}"));
        if let Err(e) = socket.send_to(&reply.to_bytes(), from).await {
            tracing::debug!(%from, error = %e, "bench trunk: 486 not sent");
        }
    }
}

/// 486 Busy Here to `invite` (RFC 3261 §8.2.6.2): its Via, From, Call-ID and CSeq copied,
/// its To with our `tag` added unless it has one already.
pub fn busy(invite: &Request, tag: &str) -> Response {
    let mut headers = invite.headers.clone();
    headers.retain(|h| {
        matches!(
            h,
            Header::Via(_) | Header::From(_) | Header::To(_) | Header::CallId(_) | Header::CSeq(_)
        )
    });
    for header in headers.iter_mut() {
        if let Header::To(to) = header
            && !to.value().contains(";tag=")
        {
            let tagged = format!("{};tag={tag}", to.value());
            to.replace(tagged);
        }
    }
    headers.push(Header::ContentLength(0u32.into()));
    Response {
        status_code: StatusCode::BusyHere,
        wire_reason: None,
        version: invite.version,
        headers,
        body: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &str = "INVITE sip:+15550001234@127.0.0.1:5080 SIP/2.0\r\n\
        Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc\r\n\
        Max-Forwards: 70\r\n\
        From: <sip:+15555550199@127.0.0.1:5070>;tag=center1\r\n\
        To: <sip:+15550001234@127.0.0.1:5080>\r\n\
        Call-ID: 42@watchpost\r\n\
        CSeq: 1 INVITE\r\n\
        Content-Length: 0\r\n\r\n";

    #[test]
    fn busy_answers_the_invite_s_transaction_with_a_to_tag() {
        let invite = Request::try_from(INVITE).expect("parses");
        assert_eq!(invite.uri.user(), Some("+15550001234"));
        let reply = busy(&invite, "t1").to_bytes();
        let text = String::from_utf8(reply.clone()).expect("ascii");
        assert!(text.starts_with("SIP/2.0 486 Busy Here\r\n"), "{text}");
        let parsed = Response::try_from(reply.as_slice()).expect("a SIP response");
        assert_eq!(parsed.status_code, StatusCode::BusyHere);
        for line in [
            "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc",
            "From: <sip:+15555550199@127.0.0.1:5070>;tag=center1",
            "To: <sip:+15550001234@127.0.0.1:5080>;tag=t1",
            "Call-ID: 42@watchpost",
            "CSeq: 1 INVITE",
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
        assert!(!text.contains("Max-Forwards"), "{text}");
        let tagged = INVITE.replace("5080>\r\nCall-ID", "5080>;tag=old\r\nCall-ID");
        let again = busy(&Request::try_from(tagged.as_str()).unwrap(), "t2").to_string();
        assert!(
            again.contains(";tag=old") && !again.contains("t2"),
            "{again}"
        );
    }

    #[tokio::test]
    async fn invites_are_reported_and_refused() {
        let trunk = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let addr = trunk.local_addr().unwrap();
        let (tx, mut rx) = mpsc::unbounded_channel();
        tokio::spawn(serve(trunk, tx));
        let phone = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        phone.send_to(b"not sip at all", addr).await.unwrap();
        phone.send_to(INVITE.as_bytes(), addr).await.unwrap();
        let arrival = rx.recv().await.expect("reported");
        assert_eq!(arrival.number, "+15550001234");
        let mut buf = [0u8; 2048];
        let (n, _) = phone.recv_from(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"SIP/2.0 486"));
    }
}
