//! `rates.csv`: the window statistics behind every abnormal-rate finding, so
//! an auditor can check the figure a finding states.
//!
//! One row per window that a rule flagged, sorted by finding then window:
//!
//! | column | meaning |
//! |---|---|
//! | `finding_id` | the finding (in `findings.csv` / `findings.json`) the window belongs to |
//! | `rule` | the policy's `@id` |
//! | `principal` | the caller's `Identity` id (object id, or `app:<appid>`) |
//! | `principal_name` | display name, when known |
//! | `vault`, `object` | where; `object` only for per-secret (caching) windows |
//! | `window` | `1m`, `5m`, `1h` or `1d` |
//! | `metric` | the count the finding's message quotes (the rule's `@metric`) |
//! | `start`, `end` | the window, RFC 3339 UTC |
//! | `history_days` | earlier days of the identity's own history in its baseline (empty for per-secret windows) |
//! | `<count>`, `<count>_median`, `<count>_p90`, `<count>_max`, `<count>_score` | for each count (`requests`, `secret_reads`, `distinct_secrets`, `denied`, `throttled`, `distinct_ips`): the window's value and its baseline (see `policies/observations.cedarschema`); per-secret windows fill `secret_reads` only |
//! | `run_hours` | per-secret windows: consecutive hours of 30 or more reads |
//!
//! Text cells that come from logs are guarded against formula injection
//! like every kvaudit CSV; numbers are written as numbers.

use std::path::Path;

use anyhow::Context;

use crate::analyze::policy::observations::RateRow;
use crate::analyze::rates::COUNTS;
use crate::files::write_atomically;
use crate::ingest::time::format_time;
use crate::report::csv::neutralise;

pub const RATES_CSV: &str = "rates.csv";

fn header() -> Vec<String> {
    let mut header: Vec<String> = [
        "finding_id",
        "rule",
        "principal",
        "principal_name",
        "vault",
        "object",
        "window",
        "metric",
        "start",
        "end",
        "history_days",
    ]
    .map(str::to_owned)
    .to_vec();
    for count in COUNTS {
        for suffix in ["", "_median", "_p90", "_max", "_score"] {
            header.push(format!("{count}{suffix}"));
        }
    }
    header.push("run_hours".to_owned());
    header
}

fn row(r: &RateRow) -> Vec<String> {
    let text = |s: &str| neutralise(s).into_owned();
    let mut cells = vec![
        text(&r.finding_id),
        text(&r.rule),
        text(&r.principal),
        text(r.principal_name.as_deref().unwrap_or_default()),
        text(&r.vault),
        text(r.object.as_deref().unwrap_or_default()),
        text(&r.window),
        text(&r.metric),
        format_time(r.start),
        format_time(r.end),
        r.history_days.map(|d| d.to_string()).unwrap_or_default(),
    ];
    for i in 0..COUNTS.len() {
        match r.metrics.get(i).copied().flatten() {
            Some(m) if m.history > 0 => cells.extend([
                m.value.to_string(),
                format!("{:.1}", m.median),
                m.p90.to_string(),
                m.max.to_string(),
                format!("{:.1}", m.score),
            ]),
            Some(m) => {
                cells.push(m.value.to_string());
                cells.extend(std::iter::repeat_n(String::new(), 4));
            }
            None => cells.extend(std::iter::repeat_n(String::new(), 5)),
        }
    }
    cells.push(r.run_hours.map(|h| h.to_string()).unwrap_or_default());
    cells
}

/// The CSV bytes.
pub fn rates_csv(rows: &[RateRow]) -> anyhow::Result<Vec<u8>> {
    let mut sorted: Vec<&RateRow> = rows.iter().collect();
    sorted.sort_by(|a, b| {
        (&a.finding_id, a.start, &a.window).cmp(&(&b.finding_id, b.start, &b.window))
    });
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    writer.write_record(header())?;
    for r in sorted {
        writer.write_record(row(r))?;
    }
    writer.into_inner().context("cannot finish rates.csv")
}

pub fn write_rates_csv(dir: &Path, rows: &[RateRow]) -> anyhow::Result<()> {
    write_atomically(&dir.join(RATES_CSV), &rates_csv(rows)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::rates::Metric;

    #[test]
    fn figures_are_numbers_and_log_text_is_guarded() {
        let mut metrics = vec![None; COUNTS.len()];
        metrics[0] = Some(Metric::against(1_801, &[28, 31, 30, 33], 0));
        let rows = [RateRow {
            finding_id: "f1".into(),
            rule: "kv-rate-spike".into(),
            principal: "=cmd|' /C calc'!A0".into(),
            principal_name: None,
            vault: "kv".into(),
            object: None,
            window: "1h".into(),
            metric: "requests".into(),
            start: 0,
            end: 3_600_000_000_000,
            history_days: Some(4),
            metrics,
            run_hours: None,
        }];
        let text = String::from_utf8(rates_csv(&rows).unwrap()).unwrap();
        let mut lines = text.lines();
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("finding_id,rule,principal")
        );
        let data = lines.next().unwrap();
        assert!(data.contains(",'=cmd|"), "{data}");
        assert!(data.contains(",1801,30.5,33,33,"), "{data}");
    }
}
