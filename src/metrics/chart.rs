//! Server-rendered SVG charts (no script, no CDN: they work offline and print): lines
//! over days, bars, and a scatter plot. Every text is escaped here, so the markup can
//! be embedded as is.

use std::fmt::Write;

const W: f64 = 640.0;
const H: f64 = 220.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 34.0;

/// The colors series take, in order.
pub const COLORS: [&str; 4] = ["#e8590c", "#1c7ed6", "#2b8a3e", "#862e9c"];

/// Escapes text for SVG/HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// How values are shown on the axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Fractions shown as percentages.
    Percent,
    Seconds,
    Count,
}

fn label(v: f64, unit: Unit) -> String {
    // Whole numbers stay whole; axis steps such as 0.5 keep their decimal.
    let num = |v: f64| {
        if (v - v.round()).abs() < 1e-9 {
            format!("{v:.0}")
        } else {
            format!("{v:.1}")
        }
    };
    match unit {
        Unit::Percent => format!("{}%", num(v * 100.0)),
        Unit::Seconds => format!("{}秒", num(v)),
        Unit::Count => num(v),
    }
}

/// A named line of values, one per x label (`None`: nothing measured that day).
pub struct Series<'a> {
    pub name: &'a str,
    pub values: Vec<Option<f64>>,
}

fn svg_open(out: &mut String, title: &str) {
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        esc(title)
    );
}

/// The y axis from 0 to a round maximum, with grid lines; returns the maximum.
fn y_axis(out: &mut String, max: f64, unit: Unit) -> f64 {
    let top = match unit {
        Unit::Percent => max.max(1.0),
        _ => nice(max.max(1.0)),
    };
    for i in 0..=4 {
        let v = top * f64::from(i) / 4.0;
        let y = y_of(v, top);
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#e9ecef"/><text x="{}" y="{:.1}" font-size="10" text-anchor="end" fill="#646a73">{}</text>"##,
            W - RIGHT,
            LEFT - 4.0,
            y + 3.0,
            esc(&label(v, unit))
        );
    }
    top
}

fn nice(v: f64) -> f64 {
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if v <= m * p {
            return m * p;
        }
    }
    10.0 * p
}

fn y_of(v: f64, top: f64) -> f64 {
    TOP + (H - TOP - BOTTOM) * (1.0 - v / top)
}

fn x_of(i: usize, n: usize) -> f64 {
    let span = W - LEFT - RIGHT;
    if n <= 1 {
        LEFT + span / 2.0
    } else {
        LEFT + span * i as f64 / (n - 1) as f64
    }
}

fn x_labels(out: &mut String, labels: &[String], at: impl Fn(usize) -> f64) {
    let step = labels.len().div_ceil(8).max(1);
    for (i, l) in labels.iter().enumerate().step_by(step) {
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{}" font-size="10" text-anchor="middle" fill="#646a73">{}</text>"##,
            at(i),
            H - BOTTOM + 14.0,
            esc(l)
        );
    }
}

fn legend(out: &mut String, names: &[&str]) {
    for (i, n) in names.iter().enumerate() {
        let x = LEFT + 8.0 + i as f64 * 130.0;
        let _ = write!(
            out,
            r##"<rect x="{x}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}" font-size="11" fill="#1f2329">{}</text>"##,
            H - 14.0,
            COLORS[i % COLORS.len()],
            x + 14.0,
            H - 5.0,
            esc(n)
        );
    }
}

/// Lines over `labels` (e.g. days); gaps where a value is missing.
pub fn lines(title: &str, labels: &[String], series: &[Series], unit: Unit) -> String {
    let mut out = String::new();
    svg_open(&mut out, title);
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .fold(0.0f64, |a, b| a.max(*b));
    let top = y_axis(&mut out, max, unit);
    let n = labels.len();
    x_labels(&mut out, labels, |i| x_of(i, n));
    for (k, s) in series.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        let mut path = String::new();
        let mut pen_down = false;
        for (i, v) in s.values.iter().enumerate() {
            match v {
                Some(v) => {
                    let _ = write!(
                        path,
                        "{}{:.1},{:.1} ",
                        if pen_down { "L" } else { "M" },
                        x_of(i, n),
                        y_of(*v, top)
                    );
                    pen_down = true;
                    let _ = write!(
                        out,
                        r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{color}"><title>{} {}：{}</title></circle>"#,
                        x_of(i, n),
                        y_of(*v, top),
                        esc(&labels[i]),
                        esc(s.name),
                        esc(&label(*v, unit))
                    );
                }
                None => pen_down = false,
            }
        }
        if !path.is_empty() {
            let _ = write!(
                out,
                r#"<path d="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
                path.trim_end()
            );
        }
    }
    legend(&mut out, &series.iter().map(|s| s.name).collect::<Vec<_>>());
    out.push_str("</svg>");
    out
}

/// One bar per label.
pub fn bars(title: &str, labels: &[String], values: &[f64], unit: Unit) -> String {
    let mut out = String::new();
    svg_open(&mut out, title);
    let max = values.iter().fold(0.0f64, |a, b| a.max(*b));
    let top = y_axis(&mut out, max, unit);
    let n = labels.len().max(1);
    let slot = (W - LEFT - RIGHT) / n as f64;
    let width = (slot * 0.7).min(48.0);
    let at = |i: usize| LEFT + slot * (i as f64 + 0.5);
    x_labels(&mut out, labels, at);
    for (i, v) in values.iter().enumerate() {
        let y = y_of(*v, top);
        let _ = write!(
            out,
            r#"<rect x="{:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{}：{}</title></rect>"#,
            at(i) - width / 2.0,
            width,
            (H - BOTTOM - y).max(0.0),
            COLORS[0],
            esc(labels.get(i).map(String::as_str).unwrap_or("")),
            esc(&label(*v, unit))
        );
    }
    out.push_str("</svg>");
    out
}

/// Points (x, y, name) with axis titles; x is a count, y a fraction.
pub fn scatter(title: &str, points: &[(f64, f64, String)], x_title: &str, y_title: &str) -> String {
    let mut out = String::new();
    svg_open(&mut out, title);
    let top = y_axis(&mut out, 1.0, Unit::Percent);
    let xmax = nice(points.iter().fold(1.0f64, |a, p| a.max(p.0)));
    let x = |v: f64| LEFT + (W - LEFT - RIGHT) * v / xmax;
    for i in 0..=4 {
        let v = xmax * f64::from(i) / 4.0;
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{}" font-size="10" text-anchor="middle" fill="#646a73">{}</text>"##,
            x(v),
            H - BOTTOM + 14.0,
            esc(&label(v, Unit::Count))
        );
    }
    for (px, py, name) in points {
        let _ = write!(
            out,
            r##"<circle cx="{:.1}" cy="{:.1}" r="5" fill="{}" fill-opacity=".75"><title>{}：{} · {}</title></circle><text x="{:.1}" y="{:.1}" font-size="10" fill="#1f2329">{}</text>"##,
            x(*px),
            y_of(*py, top),
            COLORS[1],
            esc(name),
            esc(&label(*px, Unit::Count)),
            esc(&label(*py, Unit::Percent)),
            x(*px) + 7.0,
            y_of(*py, top) + 3.0,
            esc(name)
        );
    }
    let _ = write!(
        out,
        r##"<text x="{}" y="{}" font-size="11" text-anchor="end" fill="#646a73">{}</text><text x="{}" y="{}" font-size="11" fill="#646a73">{}</text>"##,
        W - RIGHT,
        H - 4.0,
        esc(x_title),
        LEFT + 4.0,
        TOP + 10.0,
        esc(y_title)
    );
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_gaps_break_the_line() {
        let labels = vec!["11-01".to_string(), "11-02".into(), "<b>".into()];
        let svg = lines(
            "标题<script>",
            &labels,
            &[Series {
                name: "a&b",
                values: vec![Some(0.5), None, Some(1.0)],
            }],
            Unit::Percent,
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(!svg.contains("<script>") && !svg.contains("<b>"));
        assert!(svg.contains("标题&lt;script&gt;") && svg.contains("a&amp;b"));
        // Two separate pieces: the missing day is not bridged.
        let path = svg.split("<path d=\"").nth(1).unwrap();
        assert_eq!(path.split('"').next().unwrap().matches('M').count(), 2);
        assert!(svg.contains("50%"));
        assert_eq!(label(0.5, Unit::Count), "0.5");
        assert_eq!(label(2.0, Unit::Count), "2");
        assert_eq!(label(0.125, Unit::Percent), "12.5%");
    }

    #[test]
    fn labels_speak_chinese_units() {
        assert_eq!(label(12.5, Unit::Seconds), "12.5秒");
        assert_eq!(label(0.5, Unit::Percent), "50%");
        assert_eq!(label(3.0, Unit::Count), "3");
    }

    #[test]
    fn bars_and_scatter_plot_every_point() {
        let svg = bars(
            "会话数",
            &["a".into(), "b".into()],
            &[3.0, 7.0],
            Unit::Count,
        );
        assert_eq!(svg.matches("<rect").count(), 2);
        let svg = scatter(
            "满意度",
            &[(10.0, 0.9, "小美".into()), (30.0, 0.5, "<x>".into())],
            "接待量",
            "满意率",
        );
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains("&lt;x&gt;") && !svg.contains("<x>"));
        assert_eq!(nice(7.0), 10.0);
        assert_eq!(nice(120.0), 200.0);
    }
}
