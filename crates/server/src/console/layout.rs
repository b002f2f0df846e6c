//! The page shell every console page shares: head with the embedded assets, the top bar
//! (queue, supervisor, the account search box, who is signed in, sign out), and the keyboard
//! legend at the bottom.

use super::assets::url;
use super::csrf;
use maud::{DOCTYPE, Markup, html};
use watchpost_store::{Role, User};

/// A keyboard shortcut as the legend shows it.
pub type Key = (&'static str, &'static str);

/// A whole page. `live` connects the page to `/api/events` (htmx SSE extension) so that
/// elements inside can refresh on `sse:alarm`.
pub fn page(title: &str, user: Option<&User>, live: bool, keys: &[Key], content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · watchpost" }
                // The Content-Security-Policy allows no inline style and no eval: htmx must
                // not add its indicator <style> nor evaluate anything (`crate::api::headers`).
                meta name="htmx-config"
                    content=r#"{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false}"#;
                @if user.is_some() {
                    // For console.js, which sends it with every htmx request.
                    meta name="csrf-token" content=(csrf::current());
                }
                link rel="stylesheet" href=(url("console.css"));
                script defer src=(url("htmx.min.js")) {}
                script defer src=(url("sse.js")) {}
                script defer src=(url("console.js")) {}
            }
            body data-now=(crate::now_ms()) {
                @if let Some(user) = user {
                    (top_bar(user))
                    // The unattended-alarms banner: supervisors only; it polls, because
                    // an alarm becomes unattended by time passing, not by an event.
                    @if user.role >= Role::Supervisor {
                        div #unattended hx-get="/console/unattended" hx-trigger="load, every 5s"
                            hx-swap="innerHTML" {}
                    }
                }
                @if live {
                    main hx-ext="sse" sse-connect="/api/events" {
                        // Untaken priority 1 and 2 alarms, for console.js's sound and title.
                        @if user.is_some() {
                            div #arrivals hidden hx-get="/console/arrivals"
                                hx-trigger="load, sse:alarm" hx-swap="innerHTML" {}
                        }
                        (content)
                    }
                } @else {
                    main { (content) }
                }
                @if !keys.is_empty() {
                    footer.keys aria-label="Keyboard shortcuts" {
                        "Keys: "
                        @for (key, what) in keys {
                            span { kbd { (key) } " " (what) }
                        }
                    }
                }
            }
        }
    }
}

fn top_bar(user: &User) -> Markup {
    html! {
        header.top {
            a.brand href="/console" { "WATCHPOST" }
            nav {
                a href="/console" { "Queue" }
                @if user.role >= Role::Supervisor {
                    a href="/console/supervisor" { "Supervisor" }
                }
            }
            form.inline.search role="search" method="get" action="/console/accounts" {
                input type="search" name="q" placeholder="Account: number, name, phone, address"
                    aria-label="Search accounts" required;
                button type="submit" { "Find" }
            }
            span.who { (user.name) " (" (user.role) ")" }
            form.inline method="post" action="/logout" {
                (csrf::field())
                button type="submit" { "Sign out" }
            }
        }
    }
}

/// A button that shows and answers to its keyboard shortcut.
pub fn key_button(key: &str, label: &str, class: &str, name: Option<(&str, &str)>) -> Markup {
    html! {
        @match name {
            Some((name, value)) => button type="submit" class=(class) name=(name) value=(value)
                data-key=(key) { (label) " " kbd { (key) } },
            None => button type="submit" class=(class) data-key=(key) { (label) " " kbd { (key) } },
        }
    }
}
