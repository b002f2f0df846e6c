//! `--report FILE.html`: a self-contained page (inline SVG, no scripts) a center owner can
//! read without help: response times per level and kind, and queue depth through the run.

use super::Results;
use super::config::Metric;
use super::stats::LevelSummary;
use std::fmt::Write;

const COLOURS: [&str; 4] = ["#c0392b", "#e67e22", "#2980b9", "#27ae60"];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Grouped bars: one group per alarm kind, one bar per level (p90), a tick at p50.
fn bars(out: &mut String, levels: &[LevelSummary], metric: Metric, title: &str) {
    let mut kinds: Vec<_> = levels
        .iter()
        .flat_map(|l| l.by_kind.iter().map(|(k, _)| *k))
        .collect();
    kinds.sort();
    kinds.dedup();
    let value = |l: &LevelSummary, k, p: &str| {
        l.kind(k)
            .and_then(|g| g.metric(metric))
            .and_then(|s| s.percentile(p))
    };
    let max = levels
        .iter()
        .flat_map(|l| kinds.iter().filter_map(move |k| value(l, *k, "p90")))
        .fold(1.0f64, f64::max);
    let (w, h, left, bottom) = (900.0, 260.0, 50.0, 40.0);
    let group_w = (w - left) / kinds.len().max(1) as f64;
    let bar_w = group_w * 0.8 / levels.len().max(1) as f64;
    let _ = writeln!(
        out,
        "<h3>{}</h3><svg width=\"{w}\" height=\"{h}\" role=\"img\">",
        esc(title)
    );
    for i in 0..=4 {
        let v = max * i as f64 / 4.0;
        let y = h - bottom - (h - bottom - 10.0) * i as f64 / 4.0;
        let _ = writeln!(
            out,
            "<line x1=\"{left}\" x2=\"{w}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\">{v:.0}s</text>",
            left - 4.0,
            y + 3.0
        );
    }
    for (ki, k) in kinds.iter().enumerate() {
        let gx = left + group_w * ki as f64 + group_w * 0.1;
        for (li, l) in levels.iter().enumerate() {
            let Some(p90) = value(l, *k, "p90") else {
                continue;
            };
            let scale = (h - bottom - 10.0) / max;
            let x = gx + bar_w * li as f64;
            let bh = p90 * scale;
            let _ = writeln!(
                out,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{}\">\
                 <title>{} {}: p90 {p90:.0} s</title></rect>",
                h - bottom - bh,
                bar_w * 0.9,
                COLOURS[li % 4],
                l.level,
                k
            );
            if let Some(p50) = value(l, *k, "p50") {
                let y = h - bottom - p50 * scale;
                let _ = writeln!(
                    out,
                    "<line x1=\"{x:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#000\"/>",
                    x + bar_w * 0.9
                );
            }
        }
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{k}</text>",
            gx + group_w * 0.4,
            h - bottom + 15.0
        );
    }
    let _ = writeln!(out, "</svg>");
}

fn queue_depth(out: &mut String, levels: &[LevelSummary]) {
    let (w, h, left, bottom) = (900.0, 240.0, 50.0, 30.0);
    let n = levels
        .iter()
        .map(|l| l.queue.depth.len())
        .max()
        .unwrap_or(1)
        .max(2);
    let max = levels
        .iter()
        .map(|l| l.queue.max_depth)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let bucket_h = levels.first().map_or(300, |l| l.queue.bucket_s) as f64 / 3600.0;
    let _ = writeln!(
        out,
        "<h3>Alarms waiting for an agent (longest queue per {} min)</h3>\
         <svg width=\"{w}\" height=\"{h}\" role=\"img\">",
        bucket_h * 60.0
    );
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"14\" font-size=\"10\" text-anchor=\"end\">{max:.0}</text>\
         <text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">0</text>\
         <text x=\"{w}\" y=\"{}\" font-size=\"10\" text-anchor=\"end\">{:.1} h</text>",
        left - 4.0,
        left - 4.0,
        h - bottom,
        h - bottom + 15.0,
        n as f64 * bucket_h
    );
    for (li, l) in levels.iter().enumerate() {
        let points: Vec<String> = l
            .queue
            .depth
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let x = left + (w - left) * i as f64 / (n - 1) as f64;
                let y = h - bottom - (h - bottom - 10.0) * *d as f64 / max;
                format!("{x:.1},{y:.1}")
            })
            .collect();
        let _ = writeln!(
            out,
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" points=\"{}\"/>",
            COLOURS[li % 4],
            points.join(" ")
        );
    }
    let _ = writeln!(out, "</svg>");
}

pub fn render(results: &Results) -> String {
    let mut out = String::new();
    let o = &results.options;
    let _ = writeln!(
        out,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>watchpost simulation</title>\
         <style>body{{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}}\
         pre{{background:#f6f6f6;padding:1em;overflow:auto;font-size:12px}}</style></head><body>\
         <h1>How fast help arrives</h1><p>{} alarm signals from {} accounts, {} agents, seed {}{}.\
         Bars are the 90th percentile (9 alarms in 10 are faster), the black tick the median.</p>",
        results.signals,
        o.accounts,
        o.agents,
        o.seed,
        if o.storms.is_empty() {
            ""
        } else {
            ", with a storm"
        }
    );
    let legend: Vec<String> = results
        .levels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            format!(
                "<span style=\"color:{}\">■ {}</span>",
                COLOURS[i % 4],
                l.level
            )
        })
        .collect();
    let _ = writeln!(out, "<p>{}</p>", legend.join(" &nbsp; "));
    bars(
        &mut out,
        &results.levels,
        Metric::FirstCall,
        "Signal → first call placed (s)",
    );
    bars(
        &mut out,
        &results.levels,
        Metric::Dispatch,
        "Signal → help requested from the agency (s)",
    );
    bars(
        &mut out,
        &results.levels,
        Metric::QueueWait,
        "Waiting for an agent (s)",
    );
    bars(
        &mut out,
        &results.levels,
        Metric::Closed,
        "Signal → alarm closed (s)",
    );
    queue_depth(&mut out, &results.levels);
    let _ = writeln!(
        out,
        "<h3>Numbers</h3><pre>{}</pre></body></html>",
        esc(&super::table::render(results))
    );
    out
}
