//! Horizontal bar charts as inline SVG, drawn on the server: no script, and colours as SVG
//! presentation attributes (`fill`), which the center's Content-Security-Policy allows where
//! it forbids `style`.

use maud::{Markup, html};

/// One bar: its label, its length (any unit, compared with the chart's other bars) and the
/// figure written after it.
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub text: String,
    /// An SVG colour (`#2563eb`).
    pub fill: &'static str,
}

const WIDTH: f64 = 760.0;
const LABELS: f64 = 230.0;
const FIGURES: f64 = 160.0;
const ROW: f64 = 26.0;
const BAR: f64 = 18.0;

/// A chart of `bars`, longest scale for the largest value, titled `title` (read by screen
/// readers and shown as a tooltip); a sentence instead when there is nothing to draw.
pub fn bars(title: &str, bars: &[Bar]) -> Markup {
    let max = bars.iter().map(|b| b.value).fold(0.0, f64::max);
    if bars.is_empty() {
        return html! { p.empty { "None in this period." } };
    }
    let height = ROW * bars.len() as f64 + 8.0;
    let scale = if max > 0.0 {
        (WIDTH - LABELS - FIGURES) / max
    } else {
        0.0
    };
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" role="img" width=(WIDTH) height=(height)
            viewBox=(format!("0 0 {WIDTH} {height}")) font-family="sans-serif" font-size="14" {
            title { (title) }
            @for (i, bar) in bars.iter().enumerate() {
                @let y = 4.0 + ROW * i as f64;
                @let length = if bar.value > 0.0 { (bar.value * scale).max(2.0) } else { 0.0 };
                g.bar {
                    text x=(LABELS - 8.0) y=(y + BAR - 4.0) text-anchor="end" fill="#1f2937" {
                        (bar.label)
                    }
                    rect x=(LABELS) y=(y) width=(length) height=(BAR) rx="2" fill=(bar.fill) {
                        title { (bar.label) ": " (bar.text) }
                    }
                    text x=(LABELS + length + 6.0) y=(y + BAR - 4.0) fill="#111827"
                        font-weight="600" { (bar.text) }
                }
            }
            line x1=(LABELS) y1="0" x2=(LABELS) y2=(height) stroke="#6b7280" stroke-width="1" {}
        }
    }
}
