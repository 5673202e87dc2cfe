//! Server-rendered SVG charts with axes, units and labels: a line (or
//! step) chart over time, diverging daily bars (entries up, exits down)
//! and a sparkline. No JavaScript; every chart has a text alternative.

use maud::{html, Markup};

use super::format;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 200.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 26.0;

/// Maps a domain interval linearly onto a range of pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scale {
    domain: (f64, f64),
    range: (f64, f64),
}

impl Scale {
    pub(crate) fn new(domain: (f64, f64), range: (f64, f64)) -> Self {
        Self { domain, range }
    }

    /// Where `value` lands; the middle of the range for an empty domain.
    pub(crate) fn map(&self, value: f64) -> f64 {
        let (d0, d1) = self.domain;
        let (r0, r1) = self.range;
        if (d1 - d0).abs() < f64::EPSILON {
            return (r0 + r1) / 2.0;
        }
        r0 + (value - d0) / (d1 - d0) * (r1 - r0)
    }
}

/// Round tick values (steps of 1, 2, 2.5 or 5 × 10ⁿ) covering `[low, high]`,
/// about `target` of them; the first ≤ `low`, the last ≥ `high`.
pub(crate) fn nice_ticks(low: f64, high: f64, target: usize) -> Vec<f64> {
    let (low, high) = if high > low {
        (low, high)
    } else {
        (low, low + 1.0)
    };
    let raw = (high - low) / target.max(1) as f64;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power);
    let first = (low / step).floor() as i64;
    let last = (high / step).ceil() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// Tick instants for a time axis: whole minutes, hours or days, at most
/// about six, with the label format that fits the step.
pub(crate) fn time_ticks(start: i64, end: i64) -> Vec<(i64, String)> {
    const MIN: i64 = 60_000;
    const HOUR: i64 = 60 * MIN;
    const DAY: i64 = 24 * HOUR;
    let span = (end - start).max(1);
    let steps = [
        MIN,
        5 * MIN,
        15 * MIN,
        HOUR,
        3 * HOUR,
        6 * HOUR,
        DAY,
        2 * DAY,
        7 * DAY,
        14 * DAY,
        30 * DAY,
        90 * DAY,
        365 * DAY,
    ];
    let step = steps
        .into_iter()
        .find(|s| span / s < 6)
        .unwrap_or(365 * DAY);
    let mut at = start.div_euclid(step) * step;
    if at < start {
        at += step;
    }
    let mut ticks = Vec::new();
    while at <= end {
        let text = if step >= DAY {
            format::day_month(at)
        } else {
            format::clock(at)[..5].to_owned()
        };
        ticks.push((at, text));
        at += step;
    }
    ticks
}

/// A value over time.
pub(crate) struct LineChart<'a> {
    /// What the chart shows, for screen readers and the caption.
    pub(crate) title: &'a str,
    /// Unit of the y axis, e.g. `members`, `points`.
    pub(crate) unit: &'a str,
    /// `(instant, value)`, oldest first.
    pub(crate) points: &'a [(i64, f64)],
    /// The x axis spans this interval (points outside are clipped away).
    pub(crate) span: (i64, i64),
    /// Hold each value until the next point (sizes), instead of a straight line.
    pub(crate) step: bool,
}

fn frame(y: &Scale, ticks: &[f64], unit: &str) -> Markup {
    html! {
        @for tick in ticks {
            @let at = y.map(*tick);
            line.grid x1=(LEFT) x2=(WIDTH - RIGHT) y1=(px(at)) y2=(px(at)) {}
            text.tick x=(LEFT - 6.0) y=(px(at + 4.0)) text-anchor="end" { (format::compact(*tick)) }
        }
        text.unit x="4" y="12" { (unit) }
    }
}

fn time_axis(x: &Scale, span: (i64, i64)) -> Markup {
    html! {
        line.axis x1=(LEFT) x2=(WIDTH - RIGHT) y1=(HEIGHT - BOTTOM) y2=(HEIGHT - BOTTOM) {}
        @for (at, text) in time_ticks(span.0, span.1) {
            @let left = x.map(at as f64);
            line.axis x1=(px(left)) x2=(px(left)) y1=(HEIGHT - BOTTOM) y2=(HEIGHT - BOTTOM + 4.0) {}
            text.tick x=(px(left)) y=(HEIGHT - 8.0) text-anchor="middle" { (text) }
        }
    }
}

/// Pixel coordinates with one decimal (small, stable markup).
fn px(value: f64) -> String {
    format!("{:.1}", value)
}

/// The path of a line or step chart through `points`.
fn line_path(points: &[(f64, f64)], step: bool) -> String {
    let mut path = String::new();
    for (i, (x, y)) in points.iter().enumerate() {
        if i == 0 {
            path.push_str(&format!("M{} {}", px(*x), px(*y)));
        } else if step {
            path.push_str(&format!("H{}V{}", px(*x), px(*y)));
        } else {
            path.push_str(&format!("L{} {}", px(*x), px(*y)));
        }
    }
    path
}

/// A line (or step) chart with a y axis from zero (or the lowest value
/// when negative) and a time axis.
pub(crate) fn line_chart(chart: &LineChart<'_>) -> Markup {
    let values = chart.points.iter().map(|(_, v)| *v);
    let low = values.clone().fold(0.0f64, f64::min);
    let high = values.fold(0.0f64, f64::max);
    let ticks = nice_ticks(low, high, 4);
    let (first, last) = (ticks[0], ticks[ticks.len() - 1]);
    let x = Scale::new(
        (chart.span.0 as f64, chart.span.1 as f64),
        (LEFT, WIDTH - RIGHT),
    );
    let y = Scale::new((first, last), (HEIGHT - BOTTOM, TOP));
    let mut placed: Vec<(f64, f64)> = chart
        .points
        .iter()
        .filter(|(at, _)| (chart.span.0..=chart.span.1).contains(at))
        .map(|(at, v)| (x.map(*at as f64), y.map(*v)))
        .collect();
    if chart.step {
        if let Some(&(_, last_y)) = placed.last() {
            placed.push((WIDTH - RIGHT, last_y));
        }
    }
    let summary = describe(chart);
    html! {
        figure.chart {
            svg viewBox={"0 0 " (WIDTH) " " (HEIGHT)} role="img" aria-label=(summary) preserveAspectRatio="xMidYMid meet" {
                title { (summary) }
                (frame(&y, &ticks, chart.unit))
                (time_axis(&x, chart.span))
                @if placed.is_empty() {
                    text.empty x=(WIDTH / 2.0) y=(HEIGHT / 2.0) text-anchor="middle" { "no data in this period" }
                } @else {
                    path.line d=(line_path(&placed, chart.step)) {}
                    @if placed.len() == 1 {
                        circle.dot cx=(px(placed[0].0)) cy=(px(placed[0].1)) r="3" {}
                    }
                }
            }
            figcaption { (chart.title) }
        }
    }
}

fn describe(chart: &LineChart<'_>) -> String {
    match (chart.points.first(), chart.points.last()) {
        (Some(first), Some(last)) => format!(
            "{}: from {} to {} {} between {} and {}",
            chart.title,
            format::compact(first.1),
            format::compact(last.1),
            chart.unit,
            format::day_month(chart.span.0),
            format::day_month(chart.span.1)
        ),
        _ => format!("{}: no data", chart.title),
    }
}

/// One bar of a diverging bar chart: a day (or minute) and its ups and downs.
pub(crate) struct Bar {
    pub(crate) at: i64,
    pub(crate) up: f64,
    pub(crate) down: f64,
}

/// Bars above the axis for `up` (entries) and below for `down` (exits),
/// one slot per bar, over the span of the bars.
pub(crate) fn bar_chart(title: &str, unit: &str, bars: &[Bar], slot_ms: i64) -> Markup {
    let high = bars.iter().map(|b| b.up).fold(0.0f64, f64::max);
    let low = -bars.iter().map(|b| b.down).fold(0.0f64, f64::max);
    let ticks = nice_ticks(low, high, 4);
    let y = Scale::new((ticks[0], ticks[ticks.len() - 1]), (HEIGHT - BOTTOM, TOP));
    let start = bars.first().map_or(0, |b| b.at);
    let end = bars.last().map_or(0, |b| b.at) + slot_ms;
    let x = Scale::new((start as f64, end as f64), (LEFT, WIDTH - RIGHT));
    let width = ((WIDTH - LEFT - RIGHT) / bars.len().max(1) as f64 * 0.7).max(1.0);
    let zero = y.map(0.0);
    let total_up: f64 = bars.iter().map(|b| b.up).sum();
    let total_down: f64 = bars.iter().map(|b| b.down).sum();
    let summary = format!(
        "{title}: {} up, {} down in {} bars",
        format::compact(total_up),
        format::compact(total_down),
        bars.len()
    );
    html! {
        figure.chart {
            svg viewBox={"0 0 " (WIDTH) " " (HEIGHT)} role="img" aria-label=(summary) {
                title { (summary) }
                (frame(&y, &ticks, unit))
                (time_axis(&x, (start, end)))
                @for bar in bars {
                    @let left = x.map(bar.at as f64 + slot_ms as f64 / 2.0) - width / 2.0;
                    @if bar.up > 0.0 {
                        rect.up x=(px(left)) y=(px(y.map(bar.up))) width=(px(width)) height=(px(zero - y.map(bar.up))) {
                            title { (format::day_month(bar.at)) ": " (format::compact(bar.up)) }
                        }
                    }
                    @if bar.down > 0.0 {
                        rect.down x=(px(left)) y=(px(zero)) width=(px(width)) height=(px(y.map(-bar.down) - zero)) {
                            title { (format::day_month(bar.at)) ": " (format::compact(bar.down)) }
                        }
                    }
                }
                line.axis x1=(LEFT) x2=(WIDTH - RIGHT) y1=(px(zero)) y2=(px(zero)) {}
            }
            figcaption { (title) }
        }
    }
}

/// A small trend line for tables (no axes; the caption is the label).
pub(crate) fn sparkline(values: &[f64], label: &str) -> Markup {
    const W: f64 = 120.0;
    const H: f64 = 28.0;
    let high = values.iter().copied().fold(f64::MIN, f64::max);
    let low = values.iter().copied().fold(f64::MAX, f64::min);
    let x = Scale::new((0.0, values.len().saturating_sub(1) as f64), (1.0, W - 1.0));
    let y = Scale::new((low.min(high - 1.0), high), (H - 2.0, 2.0));
    let points: Vec<(f64, f64)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (x.map(i as f64), y.map(*v)))
        .collect();
    html! {
        svg.spark viewBox={"0 0 " (W) " " (H)} width=(W) height=(H) role="img" aria-label=(label) {
            title { (label) }
            @if !points.is_empty() {
                path.line d=(line_path(&points, false)) {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_map_linearly_and_invert_ranges() {
        let y = Scale::new((0.0, 100.0), (200.0, 0.0));
        assert_eq!(y.map(0.0), 200.0);
        assert_eq!(y.map(25.0), 150.0);
        assert_eq!(y.map(100.0), 0.0);
        let flat = Scale::new((5.0, 5.0), (0.0, 10.0));
        assert_eq!(flat.map(5.0), 5.0, "an empty domain maps to the middle");
    }

    #[test]
    fn ticks_are_round_and_cover_the_data() {
        assert_eq!(nice_ticks(0.0, 93.0, 4), [0.0, 25.0, 50.0, 75.0, 100.0]);
        assert_eq!(nice_ticks(0.0, 4.0, 4), [0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(nice_ticks(-12.0, 30.0, 4), [-20.0, 0.0, 20.0, 40.0]);
        assert_eq!(
            nice_ticks(0.0, 0.0, 4),
            [0.0, 0.25, 0.5, 0.75, 1.0],
            "a flat series still has an axis"
        );
        assert_eq!(
            nice_ticks(0.0, 12_400.0, 4),
            [0.0, 5_000.0, 10_000.0, 15_000.0]
        );
    }

    #[test]
    fn time_ticks_pick_a_step_that_fits() {
        const DAY: i64 = 86_400_000;
        let start = 20_000 * DAY;
        let days = time_ticks(start, start + 30 * DAY);
        assert!(days.len() <= 6 && days.len() >= 3, "{days:?}");
        assert!(days.iter().all(|(at, _)| at % DAY == 0));
        let hours = time_ticks(start, start + DAY / 4);
        assert_eq!(hours[0].1, "00:00");
        assert!(hours.len() <= 6);
    }

    #[test]
    fn a_line_chart_has_axes_units_and_a_text_alternative() {
        const DAY: i64 = 86_400_000;
        let points = [(10 * DAY, 3.0), (11 * DAY, 5.0), (12 * DAY, 4.0)];
        let chart = LineChart {
            title: "Size",
            unit: "members",
            points: &points,
            span: (10 * DAY, 12 * DAY),
            step: true,
        };
        let svg = line_chart(&chart).into_string();
        assert!(
            svg.contains(r#"aria-label="Size: from 3 to 4 members between 11 Jan and 13 Jan""#),
            "{svg}"
        );
        assert!(svg.contains(">members</text>"));
        assert!(svg.contains(">11 Jan</text>"));
        assert!(svg.contains("<path class=\"line\" d=\"M52.0"));
        let empty = LineChart {
            points: &[],
            ..chart
        };
        assert!(line_chart(&empty)
            .into_string()
            .contains("no data in this period"));
    }

    #[test]
    fn bars_go_up_for_entries_and_down_for_exits() {
        let bars = [
            Bar {
                at: 0,
                up: 4.0,
                down: 0.0,
            },
            Bar {
                at: 1_000,
                up: 0.0,
                down: 2.0,
            },
        ];
        let svg = bar_chart("Entries and exits", "per day", &bars, 1_000).into_string();
        assert_eq!(svg.matches("<rect class=\"up\"").count(), 1);
        assert_eq!(svg.matches("<rect class=\"down\"").count(), 1);
        assert!(svg.contains("4 up, 2 down in 2 bars"));
    }
}
