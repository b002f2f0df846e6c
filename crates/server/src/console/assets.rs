//! The console's static files, embedded in the binary: htmx and its SSE extension (vendored,
//! see `assets/LICENSES.md`), the stylesheets (the console's, and period reports',
//! `crate::report`) and the console's small script. Their URLs carry a fingerprint of the
//! contents, so browsers may cache them for a day.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::OnceLock;

const FILES: [(&str, &str, &str); 5] = [
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/htmx.min.js"),
    ),
    (
        "sse.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/sse.js"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/console.js"),
    ),
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("assets/console.css"),
    ),
    (
        "report.css",
        "text/css; charset=utf-8",
        include_str!("assets/report.css"),
    ),
];

/// FNV-1a over every asset: changes whenever one of them does.
fn fingerprint() -> &'static str {
    static PRINT: OnceLock<String> = OnceLock::new();
    PRINT.get_or_init(|| {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for (_, _, body) in FILES {
            for byte in body.bytes() {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{:08x}", hash as u32)
    })
}

/// The URL of an embedded asset.
pub fn url(file: &str) -> String {
    format!("/console/assets/{file}?v={}", fingerprint())
}

pub async fn serve(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, kind, body)) => (
            [
                (header::CONTENT_TYPE, *kind),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}
