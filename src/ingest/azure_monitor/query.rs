//! The KQL a pull runs, and the time slices it runs over.
//!
//! A query file is plain KQL that filters on `kvaudit_start` and
//! `kvaudit_end`; kvaudit declares them before the text for each slice
//! ([`prelude`]), so the same file runs unchanged over any range and the
//! Kusto language service can check it (`.ci/kql/check.js`, given the same
//! prelude). The request body's `timespan` repeats the slice, and the service
//! intersects both.

use std::fmt;
use std::path::Path;

use anyhow::{Context, bail};
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Timelike, Utc};

/// `queries/keyvault-audit.kql`: both Key Vault tables, every column kvaudit reads.
pub const BUNDLED: &str = include_str!("../../../queries/keyvault-audit.kql");

/// A query and where it came from (for error messages).
#[derive(Debug, Clone)]
pub struct Query {
    pub name: String,
    pub text: String,
}

impl Query {
    pub fn bundled() -> Query {
        Query {
            name: "queries/keyvault-audit.kql (bundled)".into(),
            text: BUNDLED.into(),
        }
    }

    pub fn from_file(path: &Path) -> anyhow::Result<Query> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the query file {}", path.display()))?;
        if !text.contains("kvaudit_start") || !text.contains("kvaudit_end") {
            bail!(
                "{}: the query does not use kvaudit_start and kvaudit_end; filter on \
                 `TimeGenerated >= kvaudit_start and TimeGenerated < kvaudit_end` so each \
                 time slice reads only its own rows",
                path.display()
            );
        }
        Ok(Query {
            name: path.display().to_string(),
            text,
        })
    }

    /// The text sent for one slice: the prelude, then the query.
    pub fn for_slice(&self, slice: &Slice) -> String {
        let mut text = prelude(slice);
        text.push_str(&self.text);
        text
    }
}

/// The `let` statements that declare a slice's bounds, one per line.
pub fn prelude(slice: &Slice) -> String {
    format!(
        "let kvaudit_start = datetime({});\nlet kvaudit_end = datetime({});\n",
        kql_time(slice.start),
        kql_time(slice.end)
    )
}

/// Lines [`prelude`] puts before the query: error positions the service
/// reports are moved back by this many lines to point into the query file.
pub const PRELUDE_LINES: u32 = 2;

/// Slices start and end on whole seconds (see [`Slice::whole_seconds`]).
fn kql_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A half-open time range `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Slice {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The shortest slice worth splitting further: below it, a slice the
/// service cannot answer whole is reported as unfinished.
pub const MIN_SLICE: Duration = Duration::seconds(1);

impl Slice {
    pub fn duration(&self) -> Duration {
        self.end - self.start
    }

    /// ISO 8601 interval for the request body's `timespan`.
    pub fn timespan(&self) -> String {
        format!("{}/{}", kql_time(self.start), kql_time(self.end))
    }

    /// The slice widened to whole seconds, the precision of every bound
    /// kvaudit sends (and of the splits, which halve whole seconds).
    pub fn whole_seconds(self) -> Slice {
        let floor = |t: DateTime<Utc>| t.with_nanosecond(0).unwrap_or(t);
        let end = if floor(self.end) == self.end {
            self.end
        } else {
            floor(self.end) + Duration::seconds(1)
        };
        Slice {
            start: floor(self.start),
            end,
        }
    }

    /// The two halves, or `None` when the slice is already as short as allowed.
    pub fn split(&self) -> Option<(Slice, Slice)> {
        if self.duration() < MIN_SLICE * 2 {
            return None;
        }
        let middle = self.start + Duration::seconds(self.duration().num_seconds() / 2);
        Some((
            Slice {
                start: self.start,
                end: middle,
            },
            Slice {
                start: middle,
                end: self.end,
            },
        ))
    }

    /// Cuts `[start, end)` into consecutive slices of at most `step`.
    pub fn cover(range: Slice, step: Duration) -> Vec<Slice> {
        let mut slices = Vec::new();
        let mut start = range.start;
        while start < range.end {
            let end = (start + step).min(range.end);
            slices.push(Slice { start, end });
            start = end;
        }
        slices
    }
}

impl fmt::Display for Slice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}",
            self.start.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            self.end.to_rfc3339_opts(SecondsFormat::AutoSi, true)
        )
    }
}

/// A time on the command line: a duration back from `now` (`30m`, `12h`,
/// `7d`, `2w`), an RFC 3339 time, or a date (midnight UTC).
pub fn parse_time_arg(value: &str, now: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
    let value = value.trim();
    if let Some(unit) = value.chars().last().filter(char::is_ascii_alphabetic)
        && let Ok(n) = value[..value.len() - 1].parse::<i64>()
    {
        let step = match unit {
            's' => Duration::seconds(n),
            'm' => Duration::minutes(n),
            'h' => Duration::hours(n),
            'd' => Duration::days(n),
            'w' => Duration::weeks(n),
            _ => bail!("{value:?}: unknown unit {unit:?}; use s, m, h, d or w (e.g. 7d)"),
        };
        return Ok(now - step);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Ok(date.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    bail!(
        "{value:?} is not a time: give a duration back from now (30m, 12h, 7d, 2w), \
         an RFC 3339 time (2026-11-20T10:00:00Z) or a date (2026-11-20)"
    )
}

/// A duration on the command line (`6h`, `1d`).
pub fn parse_duration_arg(value: &str) -> anyhow::Result<Duration> {
    let now = DateTime::<Utc>::UNIX_EPOCH + Duration::days(365 * 100);
    let back = parse_time_arg(value, now)?;
    let step = now - back;
    if step <= Duration::zero() || !value.trim().ends_with(|c: char| c.is_ascii_alphabetic()) {
        bail!("{value:?} is not a positive duration (e.g. 6h, 1d)");
    }
    Ok(step)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn slices_cover_the_range_half_open_and_split_in_two() {
        let range = Slice {
            start: t("2026-11-01T00:00:00Z"),
            end: t("2026-11-02T03:00:00Z"),
        };
        let slices = Slice::cover(range, Duration::hours(12));
        assert_eq!(slices.len(), 3);
        assert_eq!(
            slices[2].to_string(),
            "2026-11-02T00:00:00Z/2026-11-02T03:00:00Z"
        );
        let (a, b) = slices[2].split().unwrap();
        assert_eq!(
            (a.end, b.start),
            (t("2026-11-02T01:30:00Z"), t("2026-11-02T01:30:00Z"))
        );
        let tiny = Slice {
            start: range.start,
            end: range.start + Duration::seconds(1),
        };
        assert_eq!(tiny.split(), None);
        let ragged = Slice {
            start: t("2026-11-01T00:00:00.7Z"),
            end: t("2026-11-01T00:00:09.2Z"),
        };
        assert_eq!(
            ragged.whole_seconds().to_string(),
            "2026-11-01T00:00:00Z/2026-11-01T00:00:10Z"
        );
    }

    #[test]
    fn prelude_declares_the_slice() {
        let slice = Slice {
            start: t("2026-11-01T00:00:00Z"),
            end: t("2026-11-01T06:00:00Z"),
        };
        let text = Query::bundled().for_slice(&slice);
        assert!(text.starts_with(
            "let kvaudit_start = datetime(2026-11-01T00:00:00Z);\n\
             let kvaudit_end = datetime(2026-11-01T06:00:00Z);\n//"
        ));
        assert_eq!(prelude(&slice).lines().count() as u32, PRELUDE_LINES);
        assert_eq!(
            slice.timespan(),
            "2026-11-01T00:00:00Z/2026-11-01T06:00:00Z"
        );
    }

    #[test]
    fn command_line_times() {
        let now = t("2026-11-20T12:00:00Z");
        assert_eq!(
            parse_time_arg("7d", now).unwrap(),
            t("2026-11-13T12:00:00Z")
        );
        assert_eq!(
            parse_time_arg("90m", now).unwrap(),
            t("2026-11-20T10:30:00Z")
        );
        assert_eq!(
            parse_time_arg("2026-11-01", now).unwrap(),
            t("2026-11-01T00:00:00Z")
        );
        assert_eq!(
            parse_time_arg("2026-11-01T05:00:00+01:00", now).unwrap(),
            t("2026-11-01T04:00:00Z")
        );
        assert!(parse_time_arg("7y", now).is_err());
        assert!(parse_time_arg("yesterday", now).is_err());
        assert_eq!(parse_duration_arg("6h").unwrap(), Duration::hours(6));
        assert!(parse_duration_arg("0h").is_err());
    }
}
