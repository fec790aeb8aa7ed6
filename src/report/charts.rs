//! The report's charts: SVG drawn with plotters into a `String`, inlined in
//! report.html.
//!
//! Every chart carries a `<title>` and a `<desc>` (a sentence that states
//! what the picture shows, for screen readers and for readers of the page
//! source) and `role="img"` with `aria-labelledby`. Labels come from the logs
//! and are attacker-controlled: plotters' SVG backend escapes text and
//! attribute values (`<`, `>`, `&`, quotes), and [`label`] also drops control
//! characters and shortens long names before they reach plotters; the title
//! and description are escaped here. The output is deterministic: the same
//! data gives the same bytes.

pub use crate::text::thousands;
use std::fmt::Write as _;

use anyhow::anyhow;
use chrono::DateTime;
use plotters::coord::Shift;
use plotters::prelude::*;
use serde::Serialize;

use crate::analyze::activity::{
    Activity, Bucket, HourOfWeek, IdentityRow, OutcomeClass, Series, Timeline,
};
use crate::analyze::policy::Severity;
use crate::analyze::trends::RunRecord;

/// Chart width and height in SVG user units; the page scales them to fit.
pub const WIDTH: u32 = 960;
pub const HEIGHT: u32 = 340;
/// Vaults drawn as their own line; the rest are summed into one.
pub const MAX_VAULT_LINES: usize = 7;
/// Longest label drawn, in characters.
pub const MAX_LABEL_CHARS: usize = 40;

/// Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(120, 120, 120),
    RGBColor(0, 0, 0),
];
const INK: RGBColor = RGBColor(40, 40, 40);
const GRID: RGBColor = RGBColor(225, 225, 225);
const FAILURE: RGBColor = RGBColor(213, 94, 0);
const FONT: &str = "sans-serif";

/// One rendered chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    /// Unique within a report; used for element ids.
    pub id: String,
    pub title: String,
    /// Text alternative: what the chart shows, in words and numbers.
    pub description: String,
    /// Trusted SVG markup (plotters output plus escaped title and description).
    pub svg: String,
}

/// The activity charts of a report, those that have data to show.
pub fn activity_charts(activity: &Activity) -> anyhow::Result<Vec<Chart>> {
    let mut charts = Vec::new();
    if activity.timeline.starts.is_empty() {
        return Ok(charts);
    }
    charts.push(activity_over_time(activity)?);
    charts.push(outcomes_over_time(activity)?);
    let top = activity.top_identities();
    if !top.is_empty() {
        charts.push(top_identities(&top)?);
    }
    charts.push(hour_of_week(&activity.hour_of_week)?);
    Ok(charts)
}

/// A log value made fit for a chart label: control characters dropped, at
/// most [`MAX_LABEL_CHARS`] characters (escaping is plotters' job).
pub fn label(value: &str) -> String {
    let clean: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.trim();
    if clean.chars().count() <= MAX_LABEL_CHARS {
        clean.to_owned()
    } else {
        let mut short: String = clean.chars().take(MAX_LABEL_CHARS - 1).collect();
        short.push('…');
        short
    }
}

/// Escapes text for XML content and attribute values.
pub fn escape_xml(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Draws onto an SVG string and adds the text alternatives.
fn render(
    id: &str,
    title: &str,
    description: String,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> anyhow::Result<()>,
) -> anyhow::Result<Chart> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        draw(&root)?;
        root.present().map_err(plot_error)?;
    }
    let svg = with_text_alternatives(&svg, id, title, &description)?;
    Ok(Chart {
        id: id.to_owned(),
        title: title.to_owned(),
        description,
        svg,
    })
}

fn plot_error<E: std::error::Error + Send + Sync>(error: DrawingAreaErrorKind<E>) -> anyhow::Error {
    anyhow!("cannot draw a chart: {error}")
}

/// Adds `role`, `aria-labelledby`, `<title>` and `<desc>` to plotters' `<svg>`.
fn with_text_alternatives(
    svg: &str,
    id: &str,
    title: &str,
    description: &str,
) -> anyhow::Result<String> {
    let rest = svg
        .strip_prefix("<svg ")
        .ok_or_else(|| anyhow!("plotters wrote an SVG that does not start with <svg"))?;
    let open_end = rest
        .find('>')
        .ok_or_else(|| anyhow!("plotters wrote an unterminated <svg> tag"))?;
    let (attributes, body) = rest.split_at(open_end);
    let id = escape_xml(id);
    let mut out = String::with_capacity(svg.len() + title.len() + description.len() + 200);
    let _ = write!(
        out,
        "<svg role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" class=\"chart\" {attributes}>\n\
         <title id=\"{id}-title\">{}</title>\n<desc id=\"{id}-desc\">{}</desc>",
        escape_xml(title),
        escape_xml(description),
    );
    out.push_str(&body[1..]);
    Ok(out)
}

fn text_style(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&INK)
}

/// Formats a bucket start for an axis label.
fn bucket_label(bucket: Bucket, start: i64, step: usize) -> String {
    let time = DateTime::from_timestamp_nanos(start);
    match bucket {
        Bucket::Hour if step >= 24 => time.format("%a %d %b").to_string(),
        Bucket::Hour => time.format("%d %b %H:%M").to_string(),
        Bucket::Day => time.format("%Y-%m-%d").to_string(),
    }
}

/// Formats a bucket start for prose: `2026-11-20 14:00 UTC` or `2026-11-20`.
fn bucket_text(bucket: Bucket, start: i64) -> String {
    let time = DateTime::from_timestamp_nanos(start);
    match bucket {
        Bucket::Hour => time.format("%Y-%m-%d %H:00 UTC").to_string(),
        Bucket::Day => time.format("%Y-%m-%d").to_string(),
    }
}

/// Bucket indices to put tick labels on: aligned to whole days (or half,
/// quarter days ...) so that the labels read well, at most ten of them.
fn time_ticks(timeline: &Timeline) -> (Vec<i64>, usize) {
    let steps: &[usize] = match timeline.bucket {
        Bucket::Hour => &[1, 2, 3, 6, 12, 24, 48, 72, 168],
        Bucket::Day => &[1, 2, 7, 14, 28, 56, 91, 182, 364, 728],
    };
    let n = timeline.starts.len();
    let step = steps
        .iter()
        .copied()
        .find(|step| n / step <= 10)
        .unwrap_or(n.max(1));
    let unit = timeline.bucket.nanos();
    let ticks = timeline
        .starts
        .iter()
        .enumerate()
        .filter(|(_, start)| (start.div_euclid(unit) as usize).is_multiple_of(step))
        .map(|(i, _)| i as i64)
        .collect();
    (ticks, step)
}

/// `1 event`, `2 events`.
fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{} {noun}s", thousands(n))
    }
}

/// A y-axis maximum with some head room.
fn y_max(max: u64) -> u64 {
    (max + max / 10).max(max + 1)
}

/// The peak of a series, as `n at time`.
fn peak(timeline: &Timeline, series: &Series) -> Option<String> {
    let (i, n) = series
        .counts
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))?;
    (*n > 0).then(|| {
        format!(
            "peak {} in the {} from {}",
            thousands(*n),
            timeline.bucket.as_str(),
            bucket_text(timeline.bucket, timeline.starts[i])
        )
    })
}

/// Line chart of several series over a timeline, in a drawing area.
fn draw_lines(
    area: &DrawingArea<SVGBackend, Shift>,
    timeline: &Timeline,
    lines: &[(String, &[u64], RGBColor)],
    y_desc: &str,
    x_axis: bool,
) -> anyhow::Result<()> {
    let n = timeline.starts.len() as i64;
    let max = lines
        .iter()
        .flat_map(|(_, counts, _)| counts.iter().copied())
        .max()
        .unwrap_or(0);
    let (ticks, step) = time_ticks(timeline);
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .margin_right(48)
        .x_label_area_size(if x_axis { 36 } else { 8 })
        .y_label_area_size(70)
        .build_cartesian_2d((0..(n - 1).max(1)).with_key_points(ticks), 0..y_max(max))
        .map_err(plot_error)?;
    let starts = &timeline.starts;
    let x_formatter = |i: &i64| {
        usize::try_from(*i)
            .ok()
            .and_then(|i| starts.get(i))
            .map(|start| bucket_label(timeline.bucket, *start, step))
            .unwrap_or_default()
    };
    let y_formatter = |y: &u64| thousands(*y);
    let blank = |_: &i64| String::new();
    let x_labels: &dyn Fn(&i64) -> String = if x_axis { &x_formatter } else { &blank };
    let mut mesh = chart.configure_mesh();
    mesh.light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .axis_style(INK)
        .label_style(text_style(13))
        .axis_desc_style(text_style(13))
        .y_desc(y_desc)
        .y_labels(6)
        .y_label_formatter(&y_formatter)
        .x_label_formatter(x_labels);
    mesh.draw().map_err(plot_error)?;
    for (name, counts, color) in lines {
        let color = *color;
        chart
            .draw_series(LineSeries::new(
                counts.iter().enumerate().map(|(i, n)| (i as i64, *n)),
                color.stroke_width(2),
            ))
            .map_err(plot_error)?
            .label(label(name))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(GRID)
        .label_font(text_style(13))
        .draw()
        .map_err(plot_error)?;
    Ok(())
}

/// Events per vault over time; beyond [`MAX_VAULT_LINES`] vaults the quieter ones are summed.
pub fn activity_over_time(activity: &Activity) -> anyhow::Result<Chart> {
    let timeline = &activity.timeline;
    let mut vaults: Vec<&Series> = activity.per_vault.iter().collect();
    vaults.sort_by(|a, b| b.total().cmp(&a.total()).then_with(|| a.name.cmp(&b.name)));
    let mut lines: Vec<(String, Vec<u64>)> = Vec::new();
    if vaults.len() > MAX_VAULT_LINES + 1 {
        let (shown, rest) = vaults.split_at(MAX_VAULT_LINES);
        lines.extend(shown.iter().map(|s| (s.name.clone(), s.counts.clone())));
        let mut other = vec![0; timeline.starts.len()];
        for series in rest {
            for (sum, n) in other.iter_mut().zip(&series.counts) {
                *sum += n;
            }
        }
        lines.push((format!("{} other vaults", rest.len()), other));
    } else {
        lines.extend(vaults.iter().map(|s| (s.name.clone(), s.counts.clone())));
    }
    let styled: Vec<(String, &[u64], RGBColor)> = lines
        .iter()
        .enumerate()
        .map(|(i, (name, counts))| (name.clone(), counts.as_slice(), PALETTE[i % PALETTE.len()]))
        .collect();

    let mut description = format!(
        "Events per {} for {} vault{} from {} to {}.",
        timeline.bucket.as_str(),
        activity.per_vault.len(),
        if activity.per_vault.len() == 1 {
            ""
        } else {
            "s"
        },
        bucket_text(timeline.bucket, timeline.starts[0]),
        bucket_text(
            timeline.bucket,
            *timeline.starts.last().unwrap_or(&timeline.starts[0])
        ),
    );
    for series in vaults.iter().take(MAX_VAULT_LINES) {
        let _ = write!(
            description,
            " {}: {}",
            series.name,
            count(series.total(), "event")
        );
        if let Some(peak) = peak(timeline, series) {
            let _ = write!(description, ", {peak}");
        }
        description.push('.');
    }
    render(
        "chart-activity",
        "Activity over time per vault",
        description,
        (WIDTH, HEIGHT),
        |root| {
            draw_lines(
                root,
                timeline,
                &styled,
                &format!("events per {}", timeline.bucket.as_str()),
                true,
            )
        },
    )
}

/// Requests by outcome over time: 2xx in a small upper panel, the failure
/// classes below it on their own scale (they would be flat lines beside 2xx).
pub fn outcomes_over_time(activity: &Activity) -> anyhow::Result<Chart> {
    let timeline = &activity.timeline;
    let class = |c: OutcomeClass| {
        activity
            .outcomes
            .iter()
            .find(|s| s.name == c.as_str())
            .map(|s| s.counts.as_slice())
            .unwrap_or(&[])
    };
    let success = [(
        OutcomeClass::Success.as_str().to_owned(),
        class(OutcomeClass::Success),
        PALETTE[0],
    )];
    let failures = [
        (
            OutcomeClass::Denied.as_str().to_owned(),
            class(OutcomeClass::Denied),
            FAILURE,
        ),
        (
            OutcomeClass::Throttled.as_str().to_owned(),
            class(OutcomeClass::Throttled),
            PALETTE[1],
        ),
        (
            OutcomeClass::Other.as_str().to_owned(),
            class(OutcomeClass::Other),
            PALETTE[4],
        ),
    ];
    let mut description = format!(
        "Requests per {} by outcome. Upper panel: successful requests; lower panel: failures by class.",
        timeline.bucket.as_str()
    );
    for series in &activity.outcomes {
        let name = OutcomeClass::ALL
            .iter()
            .find(|c| c.as_str() == series.name)
            .map_or(series.name.as_str(), |c| c.description());
        let _ = write!(description, " {name}: {}", thousands(series.total()));
        if series.name != OutcomeClass::Success.as_str()
            && let Some(peak) = peak(timeline, series)
        {
            let _ = write!(description, ", {peak}");
        }
        description.push('.');
    }
    let _ = write!(
        description,
        " {} routine authentication challenges (the 401 that precedes every token) are not counted.",
        thousands(activity.authentication_challenges)
    );
    render(
        "chart-outcomes",
        "Requests and failures over time by class",
        description,
        (WIDTH, HEIGHT + 80),
        |root| {
            let (upper, lower) = root.split_vertically(130);
            draw_lines(&upper, timeline, &success, "2xx", false)?;
            draw_lines(&lower, timeline, &failures, "failures", true)
        },
    )
}

/// Horizontal bars: events per identity, failures overlaid.
pub fn top_identities(top: &[&IdentityRow]) -> anyhow::Result<Chart> {
    let n = top.len() as u32;
    let max = top.iter().map(|r| r.events).max().unwrap_or(0);
    let names: Vec<String> = top
        .iter()
        .map(|r| label(&format!("{} ({})", r.display_name, r.kind)))
        .collect();
    let mut description = format!("The {} identities with the most events.", top.len());
    for row in top {
        let _ = write!(
            description,
            " {} ({}): {}, {} failed.",
            row.display_name,
            row.kind,
            count(row.events, "event"),
            thousands(row.failures)
        );
    }
    let height = 60 + 30 * n;
    render(
        "chart-identities",
        "Top identities by events",
        description,
        (WIDTH, height),
        |root| {
            let mut chart = ChartBuilder::on(root)
                .margin(10)
                .margin_right(30)
                .x_label_area_size(30)
                .y_label_area_size(330)
                // plotters' integer ranges include their end: 0..n-1 is n rows.
                .build_cartesian_2d(0..y_max(max), (0..n.saturating_sub(1)).into_segmented())
                .map_err(plot_error)?;
            let y_formatter = |v: &SegmentValue<u32>| match v {
                // Row 0 (the busiest) at the top.
                SegmentValue::CenterOf(i) if *i < n => names[(n - 1 - i) as usize].clone(),
                _ => String::new(),
            };
            let x_formatter = |x: &u64| thousands(*x);
            chart
                .configure_mesh()
                .light_line_style(TRANSPARENT)
                .bold_line_style(GRID)
                .axis_style(INK)
                .disable_y_mesh()
                .label_style(text_style(13))
                .y_labels(n as usize)
                .y_label_formatter(&y_formatter)
                .x_labels(6)
                .x_label_formatter(&x_formatter)
                .draw()
                .map_err(plot_error)?;
            let bar = |value: u64, i: u32, color: RGBColor| {
                let row = n - 1 - i;
                let mut rect = Rectangle::new(
                    [
                        (0, SegmentValue::Exact(row)),
                        (value, SegmentValue::Exact(row + 1)),
                    ],
                    color.filled(),
                );
                rect.set_margin(5, 5, 0, 0);
                rect
            };
            chart
                .draw_series(
                    top.iter()
                        .enumerate()
                        .map(|(i, r)| bar(r.events, i as u32, PALETTE[0])),
                )
                .map_err(plot_error)?
                .label("events")
                .legend(|(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], PALETTE[0].filled())
                });
            chart
                .draw_series(
                    top.iter()
                        .enumerate()
                        .map(|(i, r)| bar(r.failures, i as u32, FAILURE)),
                )
                .map_err(plot_error)?
                .label("failed (non-2xx)")
                .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], FAILURE.filled()));
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .background_style(WHITE.mix(0.85))
                .border_style(GRID)
                .label_font(text_style(13))
                .draw()
                .map_err(plot_error)?;
            Ok(())
        },
    )
}

/// The stylesheet's severity colours (`--critical` ... `--info`), most severe first.
const SEVERITY_COLOURS: [(Severity, RGBColor); 5] = [
    (Severity::Critical, RGBColor(127, 0, 0)),
    (Severity::High, RGBColor(192, 57, 43)),
    (Severity::Medium, RGBColor(213, 94, 0)),
    (Severity::Low, RGBColor(0, 114, 178)),
    (Severity::Info, RGBColor(107, 114, 128)),
];

/// The scheduled job's findings over its runs: active findings per severity
/// in the upper panel, new and resolved findings per run below. One point
/// per run; needs at least two runs to draw a line.
pub fn findings_trend(history: &[RunRecord]) -> anyhow::Result<Chart> {
    let (first, last) = match history {
        [first, .., last] => (first, last),
        _ => return Err(anyhow!("a trend needs at least two runs")),
    };
    let starts = history
        .iter()
        .map(|r| {
            DateTime::parse_from_rfc3339(&r.run_at)
                .ok()
                .and_then(|t| t.timestamp_nanos_opt())
                .ok_or_else(|| {
                    anyhow!(
                        "the run history has a run time that is not RFC 3339: `{}`",
                        r.run_at
                    )
                })
        })
        .collect::<anyhow::Result<Vec<i64>>>()?;
    // One point per run, drawn at even spacing whatever the gaps between
    // runs: draw_lines places points by index and labels them by day.
    let timeline = Timeline {
        bucket: Bucket::Day,
        starts,
    };
    let series =
        |value: &dyn Fn(&RunRecord) -> u64| history.iter().map(value).collect::<Vec<u64>>();
    let per_severity: Vec<(Severity, RGBColor, Vec<u64>)> = SEVERITY_COLOURS
        .iter()
        .map(|(severity, colour)| {
            let name = severity.as_str();
            let counts = series(&|r| r.by_severity.get(name).copied().unwrap_or(0));
            (*severity, *colour, counts)
        })
        .collect();
    let active: Vec<(String, &[u64], RGBColor)> = per_severity
        .iter()
        .map(|(severity, colour, counts)| {
            (severity.as_str().to_owned(), counts.as_slice(), *colour)
        })
        .collect();
    let new = series(&|r| r.new);
    let resolved = series(&|r| r.resolved);
    let changes = [
        ("new".to_owned(), new.as_slice(), PALETTE[1]),
        ("resolved".to_owned(), resolved.as_slice(), PALETTE[2]),
    ];

    let day = |r: &RunRecord| r.run_at.get(..10).unwrap_or(&r.run_at).to_owned();
    let mut description = format!(
        "Findings of the scheduled job's last {} runs, from {} to {}. Upper panel: active findings per severity; lower panel: new and resolved findings per run. Latest run: {}",
        history.len(),
        day(first),
        day(last),
        count(last.active(), "active finding"),
    );
    let latest: Vec<String> = per_severity
        .iter()
        .map(|(severity, _, counts)| format!("{severity} {}", counts.last().copied().unwrap_or(0)))
        .collect();
    let _ = write!(
        description,
        " ({}), {} new, {} resolved, {} suppressed.",
        latest.join(", "),
        thousands(last.new),
        thousands(last.resolved),
        thousands(last.suppressed)
    );
    let _ = write!(
        description,
        " Over all runs: {} new, {} resolved.",
        thousands(new.iter().sum()),
        thousands(resolved.iter().sum())
    );
    render(
        "chart-findings-trend",
        "Findings per run",
        description,
        (WIDTH, HEIGHT + 80),
        |root| {
            let (upper, lower) = root.split_vertically(HEIGHT - 90);
            draw_lines(&upper, &timeline, &active, "active findings", false)?;
            draw_lines(&lower, &timeline, &changes, "per run", true)
        },
    )
}

pub const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Colour of a heatmap cell: white to dark blue, square-root scaled so that
/// quiet hours with some activity still show.
fn heat(count: u64, max: u64) -> RGBColor {
    if count == 0 || max == 0 {
        return RGBColor(248, 248, 248);
    }
    let t = (count as f64 / max as f64).sqrt();
    let lerp = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
    RGBColor(lerp(222, 8), lerp(235, 48), lerp(247, 107))
}

/// A 7 x 24 grid: events by weekday and hour of day, UTC.
pub fn hour_of_week(heatmap: &HourOfWeek) -> anyhow::Result<Chart> {
    let max = heatmap.max();
    let mut description =
        String::from("Events by weekday and hour of day (UTC); darker cells had more events.");
    if let Some((day, hour, events)) = heatmap.busiest() {
        let _ = write!(
            description,
            " Busiest: {} {hour:02}:00-{hour:02}:59 with {}.",
            WEEKDAYS[day],
            count(events, "event")
        );
    }
    let totals: Vec<String> = heatmap
        .counts
        .iter()
        .zip(WEEKDAYS)
        .map(|(hours, day)| format!("{day} {}", thousands(hours.iter().sum())))
        .collect();
    let _ = write!(description, " Events per weekday: {}.", totals.join(", "));
    let quiet: u64 = heatmap
        .counts
        .iter()
        .map(|hours| hours[..6].iter().chain(&hours[22..]).sum::<u64>())
        .sum();
    let _ = write!(
        description,
        " Between 22:00 and 06:00: {}.",
        count(quiet, "event")
    );

    render(
        "chart-heatmap",
        "Hour-of-week heatmap (UTC)",
        description,
        (WIDTH, 300),
        |root| {
            let (grid, legend) = root.split_horizontally(WIDTH - 90);
            let mut chart = ChartBuilder::on(&grid)
                .margin(10)
                .x_label_area_size(30)
                .y_label_area_size(50)
                // plotters' integer ranges include their end: 24 hours, 7 days.
                .build_cartesian_2d((0u32..23).into_segmented(), (0u32..6).into_segmented())
                .map_err(plot_error)?;
            let x_formatter = |v: &SegmentValue<u32>| match v {
                SegmentValue::CenterOf(h) if *h < 24 => format!("{h:02}"),
                _ => String::new(),
            };
            let y_formatter = |v: &SegmentValue<u32>| match v {
                // Monday at the top.
                SegmentValue::CenterOf(d) if *d < 7 => WEEKDAYS[(6 - d) as usize].to_owned(),
                _ => String::new(),
            };
            chart
                .configure_mesh()
                .disable_mesh()
                .axis_style(INK)
                .label_style(text_style(13))
                .x_labels(24)
                .y_labels(7)
                .x_label_formatter(&x_formatter)
                .y_label_formatter(&y_formatter)
                .draw()
                .map_err(plot_error)?;
            let cells = (0u32..7).flat_map(|day| (0u32..24).map(move |hour| (day, hour)));
            chart
                .draw_series(cells.map(|(day, hour)| {
                    let count = heatmap.counts[day as usize][hour as usize];
                    let row = 6 - day;
                    let mut rect = Rectangle::new(
                        [
                            (SegmentValue::Exact(hour), SegmentValue::Exact(row)),
                            (SegmentValue::Exact(hour + 1), SegmentValue::Exact(row + 1)),
                        ],
                        heat(count, max).filled(),
                    );
                    rect.set_margin(1, 1, 1, 1);
                    rect
                }))
                .map_err(plot_error)?;

            // Colour scale.
            let legend = legend.margin(20, 40, 10, 20);
            let (_, height) = legend.dim_in_pixel();
            let steps = 20;
            let step_height = (height as i32 - 20) / steps;
            for s in 0..steps {
                // Top: the maximum; bottom: zero (the colour of an empty cell).
                let value = max as f64 * f64::from(steps - 1 - s) / f64::from(steps - 1);
                let y = s * step_height;
                legend
                    .draw(&Rectangle::new(
                        [(0, y), (18, y + step_height)],
                        heat(value.round() as u64, max).filled(),
                    ))
                    .map_err(plot_error)?;
            }
            let bottom = steps * step_height;
            legend
                .draw(&Text::new(thousands(max), (24, 0), text_style(12)))
                .map_err(plot_error)?;
            legend
                .draw(&Text::new("0", (24, bottom - 12), text_style(12)))
                .map_err(plot_error)?;
            Ok(())
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::activity::{Bucket, Timeline};

    const HOUR: i64 = 3_600 * 1_000_000_000;
    const T0: i64 = 1_794_787_200 * 1_000_000_000;

    fn activity() -> Activity {
        let starts: Vec<i64> = (0..48).map(|i| T0 + i * HOUR).collect();
        let wave = |k: u64| (0..48u64).map(|i| (i * k) % 17).collect::<Vec<_>>();
        let identity = |name: &str, events| IdentityRow {
            principal_id: Some(format!("id-{name}")),
            display_name: name.to_owned(),
            kind: "user".to_owned(),
            credentials: vec!["none".to_owned()],
            app_id: None,
            upn: Some(name.to_owned()),
            managed_identity: None,
            vaults: vec!["kv-a".to_owned()],
            operations: vec!["SecretGet".to_owned()],
            clients: vec![],
            first_seen: String::new(),
            last_seen: String::new(),
            events,
            failures: events / 4,
        };
        let mut heat = HourOfWeek::default();
        heat.counts[1][14] = 40;
        heat.counts[4][3] = 2;
        Activity {
            timeline: Timeline {
                bucket: Bucket::Hour,
                starts,
            },
            per_vault: vec![
                Series {
                    name: "kv-a".into(),
                    counts: wave(3),
                },
                Series {
                    name: "<script>alert(1)</script>".into(),
                    counts: wave(5),
                },
            ],
            outcomes: OutcomeClass::ALL
                .iter()
                .enumerate()
                .map(|(i, c)| Series {
                    name: c.as_str().into(),
                    counts: wave(i as u64 + 1),
                })
                .collect(),
            authentication_challenges: 7,
            hour_of_week: heat,
            identities: vec![
                identity("alice@contoso.com", 120),
                identity("<img src=x onerror=\"document.title='pwned'\">", 60),
            ],
        }
    }

    #[test]
    fn labels_drop_control_characters_and_get_shortened() {
        assert_eq!(label("a\u{0}b\nc"), "a b c");
        let long = "x".repeat(100);
        assert_eq!(label(&long).chars().count(), MAX_LABEL_CHARS);
        assert!(label(&long).ends_with('…'));
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn every_chart_has_text_alternatives() {
        let charts = activity_charts(&activity()).unwrap();
        let ids: Vec<_> = charts.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "chart-activity",
                "chart-outcomes",
                "chart-identities",
                "chart-heatmap"
            ]
        );
        for chart in &charts {
            assert!(chart.svg.starts_with("<svg role=\"img\""), "{}", chart.id);
            assert!(
                chart
                    .svg
                    .contains(&format!("aria-labelledby=\"{0}-title {0}-desc\"", chart.id))
            );
            assert!(
                chart
                    .svg
                    .contains(&format!("<title id=\"{}-title\">", chart.id))
            );
            assert!(chart.svg.contains("<desc id="));
            assert!(chart.svg.contains("viewBox="));
            assert!(chart.svg.trim_end().ends_with("</svg>"));
            assert!(!chart.description.is_empty());
        }
    }

    #[test]
    fn hostile_labels_are_escaped_in_the_svg() {
        for chart in activity_charts(&activity()).unwrap() {
            assert!(!chart.svg.contains("<script"), "{}", chart.id);
            assert!(!chart.svg.contains("<img"), "{}", chart.id);
        }
        let charts = activity_charts(&activity()).unwrap();
        assert!(
            charts[0]
                .svg
                .contains("&lt;script&gt;alert(1)&lt;/script&gt;")
        );
        assert!(
            charts[0].description.contains("<script>"),
            "the description is plain text"
        );
        assert!(
            charts[0]
                .svg
                .contains("&lt;script&gt;alert(1)&lt;/script&gt;: ")
        );
        assert!(charts[2].svg.contains("&lt;img src=x onerror="));
    }

    #[test]
    fn charts_are_deterministic() {
        let a = activity_charts(&activity()).unwrap();
        let b = activity_charts(&activity()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn no_events_no_charts() {
        let mut empty = activity();
        empty.timeline.starts.clear();
        assert!(activity_charts(&empty).unwrap().is_empty());
    }

    fn run(day: u32, new: u64, resolved: u64, high: u64) -> RunRecord {
        RunRecord {
            run_at: format!("2026-11-{day:02}T02:00:00Z"),
            new,
            open: (high + 2).saturating_sub(new),
            resolved,
            suppressed: 1,
            by_severity: [("high".to_owned(), high), ("medium".to_owned(), 2)].into(),
        }
    }

    #[test]
    fn the_trend_chart_draws_every_severity_and_says_what_it_shows() {
        let history: Vec<RunRecord> = (1..=20)
            .map(|d| run(d, d as u64 % 3, 1, 5 + d as u64))
            .collect();
        let chart = findings_trend(&history).unwrap();
        assert_eq!(chart.id, "chart-findings-trend");
        assert!(chart.svg.starts_with("<svg role=\"img\""));
        for name in [
            "critical", "high", "medium", "low", "info", "new", "resolved",
        ] {
            assert!(
                chart.svg.contains(&format!(">\n{name}\n</text>")),
                "legend {name}"
            );
        }
        assert!(chart.svg.contains("2026-11-"), "days on the x axis");
        assert!(
            chart
                .description
                .contains("last 20 runs, from 2026-11-01 to 2026-11-20"),
            "{}",
            chart.description
        );
        assert!(
            chart
                .description
                .contains("Latest run: 27 active findings (critical 0, high 25, medium 2, low 0, info 0), 2 new, 1 resolved, 1 suppressed."),
            "{}",
            chart.description
        );
        assert_eq!(chart, findings_trend(&history).unwrap(), "deterministic");
    }

    #[test]
    fn the_trend_chart_needs_two_runs_with_valid_times() {
        assert!(findings_trend(&[run(1, 1, 0, 1)]).is_err());
        let mut history = vec![run(1, 1, 0, 1), run(2, 0, 0, 1)];
        history[1].run_at = "yesterday".into();
        let error = findings_trend(&history).unwrap_err().to_string();
        assert!(error.contains("`yesterday`"), "{error}");
    }

    #[test]
    fn ticks_fall_on_whole_days_for_a_week_of_hours() {
        let timeline = Timeline {
            bucket: Bucket::Hour,
            starts: (0..168).map(|i| T0 + 5 * HOUR + i * HOUR).collect(),
        };
        let (ticks, step) = time_ticks(&timeline);
        assert_eq!(step, 24);
        assert_eq!(ticks[0], 19, "the first midnight");
        assert!(ticks.windows(2).all(|w| w[1] - w[0] == 24));
        assert_eq!(bucket_label(Bucket::Hour, T0, 24), "Mon 16 Nov");
    }
}
