//! Security headers on every HTTP answer, the API's and the console's (issue 13, item 7):
//! no MIME sniffing, no referrer sent to other sites, never shown inside another site's frame,
//! scripts and styles only from the binary's own assets (`POLICY`), and nothing that shows personal data kept in a browser's or proxy's cache (answers that set
//! their own caching, such as the console's fingerprinted assets, keep it).

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::middleware::Next;
use axum::response::Response;

/// The Content-Security-Policy: everything from the center itself, nothing inline (no
/// `<script>` or `style=` in a page, no `on…=` handler, no `eval`: htmx runs with
/// `allowEval: false` and without its inline indicator style, see `console::layout`), images
/// also as `data:` URLs, no plugins, no `<base>`, forms post only to the center, and no
/// framing by anyone.
pub const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; media-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // X-Frame-Options for browsers that predate CSP's frame-ancestors.
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers
        .entry(CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(POLICY));
    headers
        .entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}
