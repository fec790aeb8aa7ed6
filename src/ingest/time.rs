//! Event times in every spelling the exports use, as nanoseconds since the
//! Unix epoch (UTC).
//!
//! Raw logs write `2016-01-05T01:32:01.2691226Z` (seven fractional digits);
//! `az` exports write ISO 8601 too; the portal's CSV export writes the US
//! locale form `1/5/2016, 1:32:01.269 AM`.

use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// The earliest event time kvaudit accepts: 2015-01-01T00:00:00Z. Azure Key
/// Vault was in preview from January 2015 (generally available in June
/// 2015), so no Key Vault wrote an audit record before; an earlier time is a
/// default or a damaged value (`0001-01-01`, `1900-01-01`, the Unix epoch).
pub const EARLIEST_NS: i64 = 1_420_070_400 * 1_000_000_000;

/// How far after the run's start an event may be dated: one day, for clocks
/// that are off and exports that misapply a time zone. Later times are
/// damage (`2262-04-11`, the end of the nanosecond range) or a wrong clock.
pub const LATEST_AFTER_START_NS: i64 = 86_400 * 1_000_000_000;

/// When this run started reading (the first call), in nanoseconds since the epoch.
pub fn run_start() -> i64 {
    static START: OnceLock<i64> = OnceLock::new();
    *START.get_or_init(|| {
        chrono::Utc::now()
            .timestamp_nanos_opt()
            .unwrap_or(i64::MAX - LATEST_AFTER_START_NS)
    })
}

/// Whether an event time can be that of a Key Vault record read now; if
/// not, why (the value and the bound it breaks).
pub fn plausible(nanos: i64) -> Result<(), String> {
    if nanos < EARLIEST_NS {
        return Err(format!(
            "time {} is before 2015-01-01, before Key Vault existed",
            format_time(nanos)
        ));
    }
    let latest = run_start().saturating_add(LATEST_AFTER_START_NS);
    if nanos > latest {
        return Err(format!(
            "time {} is more than a day after this run started ({})",
            format_time(nanos),
            format_time(run_start())
        ));
    }
    Ok(())
}

/// Parses an event time; `None` when it is not a time kvaudit knows.
pub fn parse_time(value: &str) -> Option<i64> {
    let value = value.trim();
    parse_iso_utc_fast(value.as_bytes()).or_else(|| parse_time_slow(value))
}

fn digits(bytes: &[u8]) -> Option<i64> {
    let mut n = 0i64;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(b - b'0');
    }
    Some(n)
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, the form of nearly every record: parsed
/// without chrono's general machinery because ingest calls it per record.
fn parse_iso_utc_fast(b: &[u8]) -> Option<i64> {
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' || *b.last()? != b'Z' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        digits(&b[0..4])? as i32,
        digits(&b[5..7])? as u32,
        digits(&b[8..10])? as u32,
    )?;
    let (hour, minute, second) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let fraction = &b[19..b.len() - 1];
    let nanos = match fraction {
        [] => 0,
        [b'.', rest @ ..] if !rest.is_empty() && rest.len() <= 9 => {
            digits(rest)? * 10i64.pow(9 - rest.len() as u32)
        }
        _ => return None,
    };
    let days = date
        .signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1)?)
        .num_days();
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second;
    seconds.checked_mul(1_000_000_000)?.checked_add(nanos)
}

const LOCAL_FORMATS: [&str; 6] = [
    "%m/%d/%Y, %I:%M:%S%.f %p",
    "%m/%d/%Y %I:%M:%S%.f %p",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%m/%d/%Y %H:%M:%S%.f",
    "%m/%d/%Y, %H:%M:%S%.f",
];

fn parse_time_slow(value: &str) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return t.timestamp_nanos_opt();
    }
    LOCAL_FORMATS.iter().find_map(|format| {
        NaiveDateTime::parse_from_str(value, format)
            .ok()
            .and_then(|t| t.and_utc().timestamp_nanos_opt())
    })
}

/// Formats nanoseconds since the epoch as RFC 3339 UTC with 7 decimal
/// places: Key Vault writes its times to 100 ns, and a report keeps that
/// precision (two events 100 ns apart stay apart, and a time can be found
/// again in the record it came from).
pub fn format_time(nanos: i64) -> String {
    let ticks = nanos.rem_euclid(1_000_000_000) / 100;
    format!(
        "{}.{ticks:07}Z",
        DateTime::from_timestamp_nanos(nanos).format("%Y-%m-%dT%H:%M:%S")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc3339(nanos: i64) -> String {
        DateTime::from_timestamp_nanos(nanos).to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
    }

    #[test]
    fn times_are_written_to_the_100_ns_of_the_record() {
        let nanos = parse_time("2026-11-20T10:00:00.1234567Z").unwrap();
        assert_eq!(format_time(nanos), "2026-11-20T10:00:00.1234567Z");
        let whole = parse_time("2026-11-20T10:00:00Z").unwrap();
        assert_eq!(format_time(whole), "2026-11-20T10:00:00.0000000Z");
        assert_eq!(format_time(whole + 100), "2026-11-20T10:00:00.0000001Z");
    }

    #[test]
    fn raw_log_time_with_seven_fractional_digits() {
        let t = parse_time("2016-01-05T01:32:01.2691226Z").unwrap();
        assert_eq!(rfc3339(t), "2016-01-05T01:32:01.269122600Z");
    }

    #[test]
    fn fast_path_agrees_with_chrono() {
        for s in [
            "2026-11-25T23:59:59Z",
            "2024-02-29T12:00:00.5Z",
            "1999-12-31T00:00:00.123456789Z",
        ] {
            let expected = DateTime::parse_from_rfc3339(s)
                .unwrap()
                .timestamp_nanos_opt();
            assert_eq!(parse_iso_utc_fast(s.as_bytes()), expected, "{s}");
        }
    }

    #[test]
    fn offsets_and_portal_csv_times() {
        assert_eq!(
            parse_time("2016-01-05T02:32:01+01:00"),
            parse_time("2016-01-05T01:32:01Z")
        );
        assert_eq!(
            parse_time("1/5/2016, 1:32:01.269 PM"),
            parse_time("2016-01-05T13:32:01.269Z")
        );
    }

    #[test]
    fn plausible_times_are_those_of_key_vault_and_not_of_the_future() {
        assert!(plausible(parse_time("2016-01-05T01:32:01Z").unwrap()).is_ok());
        assert!(plausible(run_start()).is_ok());
        let early = plausible(parse_time("1900-01-01T00:00:00Z").unwrap()).unwrap_err();
        assert!(early.contains("1900-01-01T00:00:00"), "{early}");
        assert!(plausible(EARLIEST_NS - 1).is_err());
        let late = plausible(parse_time("2262-04-11T00:00:00Z").unwrap()).unwrap_err();
        assert!(late.contains("2262-04-11"), "{late}");
        assert!(plausible(run_start() + LATEST_AFTER_START_NS + 1).is_err());
    }

    #[test]
    fn rejects_what_is_not_a_time() {
        for s in [
            "",
            "yesterday",
            "2016-13-05T01:32:01Z",
            "2016-01-05T25:00:00Z",
        ] {
            assert_eq!(parse_time(s), None, "{s}");
        }
    }
}
