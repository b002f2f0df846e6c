//! The cross-site guard on every request that changes something (any method but GET, HEAD,
//! OPTIONS), the API's and the console's (issue 13, item 4): a browser says where a request
//! comes from (`Sec-Fetch-Site`, `Origin`), and a request another site's page made it send is
//! refused (403) before any handler runs: `Sec-Fetch-Site` when the browser sends it, else
//! `Origin`. `same-site` is refused too: another port or subdomain of the same host is
//! another site to the center. A request with neither header
//! (curl, a panel's app, an old browser) passes: the API then needs its bearer token and the
//! console its CSRF token (`crate::console`), neither of which another site can send.

use super::ApiError;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn same_origin(request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let authority = request.uri().authority().map(|a| a.as_str().to_string());
    match cross_site(request.headers(), authority.as_deref()) {
        None => next.run(request).await,
        Some(why) => {
            let message = format!("refused: this request came from another site ({why})");
            if request.uri().path().starts_with("/api/") {
                ApiError::new(StatusCode::FORBIDDEN, message).into_response()
            } else {
                (StatusCode::FORBIDDEN, message).into_response()
            }
        }
    }
}

/// Why a request is cross-site, or `None` when nothing says it is. `authority`: the request
/// URI's, which HTTP/2 sends instead of `Host`.
fn cross_site(headers: &HeaderMap, authority: Option<&str>) -> Option<String> {
    // A browser that sends `Sec-Fetch-Site` (no page can set or change it) has said where the
    // request comes from; `Origin` is then not asked: the console's own forms go out with
    // `Origin: null`, since its pages send no referrer (`Referrer-Policy: no-referrer`).
    if let Some(site) = headers.get("sec-fetch-site") {
        let site = String::from_utf8_lossy(site.as_bytes());
        // `none`: the user's own action (typed address, bookmark).
        return (!matches!(site.as_ref(), "same-origin" | "none"))
            .then(|| format!("Sec-Fetch-Site: {site}"));
    }
    // An older browser: its `Origin` must be this host (`null`, an opaque origin, is not).
    let origin = headers.get(header::ORIGIN)?;
    let origin = String::from_utf8_lossy(origin.as_bytes());
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or(authority);
    // `scheme://host[:port]`; the scheme is not compared: behind a TLS proxy the center
    // itself is reached over plain HTTP. The proxy must pass the `Host` header on.
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    match (origin_host, host) {
        (Some(from), Some(host)) if from.eq_ignore_ascii_case(host) => None,
        _ => Some(format!("Origin: {}", shorten(&origin))),
    }
}

fn shorten(text: &str) -> String {
    let mut shown: String = text.chars().take(80).collect();
    if text.chars().count() > 80 {
        shown.push('…');
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn only_requests_from_this_origin_or_of_unknown_origin_pass() {
        let host = ("host", "127.0.0.1:8080");
        for passes in [
            vec![host],
            vec![host, ("origin", "http://127.0.0.1:8080")],
            vec![host, ("origin", "https://127.0.0.1:8080")],
            vec![host, ("sec-fetch-site", "same-origin")],
            vec![host, ("sec-fetch-site", "none")],
            vec![host, ("sec-fetch-site", "same-origin"), ("origin", "null")],
        ] {
            assert_eq!(cross_site(&headers(&passes), None), None, "{passes:?}");
        }
        for refused in [
            vec![host, ("sec-fetch-site", "cross-site")],
            vec![host, ("sec-fetch-site", "same-site")],
            vec![host, ("origin", "http://127.0.0.1:9090")],
            vec![host, ("origin", "http://evil.example")],
            vec![host, ("origin", "null")],
            vec![("origin", "http://127.0.0.1:8080")],
            vec![
                host,
                ("sec-fetch-site", "cross-site"),
                ("origin", "http://127.0.0.1:8080"),
            ],
        ] {
            assert!(
                cross_site(&headers(&refused), None).is_some(),
                "{refused:?}"
            );
        }
        // HTTP/2: the authority instead of Host.
        let h2 = headers(&[("origin", "https://center.example")]);
        assert_eq!(cross_site(&h2, Some("center.example")), None);
    }
}
