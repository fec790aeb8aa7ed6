//! The job's own messages on stderr (warnings, errors, stage timings, start
//! and finish), as text for people or JSON lines for log collectors.
//! Reports never go through here: they are files and stdout.
//!
//! Call sites use `tracing`'s macros and put the whole human-readable
//! sentence in the message, with the machine-readable parts as fields too:
//!
//! ```
//! let (stage, seconds) = ("ingest", 1.25_f64);
//! tracing::info!(stage, seconds, "timing {stage} {seconds:.3}s");
//! tracing::warn!(file = "a.json", line = 3_u64, "a.json:3: truncated record");
//! ```
//!
//! `--log-format text` prints the message alone, as kvaudit always has
//! (`kvaudit: warning: …`, `kvaudit: error: …`, info lines as they are), so
//! fields must not carry anything the message lacks. `--log-format json`
//! prints one object per line: `timestamp`, `level`, `message`, `target` and
//! every field, e.g.
//! `{"timestamp":"…","level":"INFO","message":"timing ingest 1.250s","stage":"ingest","seconds":1.25,"target":"kvaudit::pipeline::timer"}`.
//!
//! Only kvaudit's own events at info and above are printed: the Azure SDK
//! crates log their HTTP retries and credential attempts through `tracing`
//! as well, and those would otherwise appear as kvaudit's warnings. Polars'
//! warnings, which it would print to stderr itself, become kvaudit warnings
//! (`source: "polars"`).

use std::fmt;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;

/// How the job's messages are written to stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    /// Plain lines, `kvaudit: warning: …` and `kvaudit: error: …`.
    #[default]
    Text,
    /// One JSON object per line: timestamp, level, message and the event's fields.
    Json,
}

/// Installs the process-wide subscriber writing `format` to stderr.
///
/// Only the first call takes effect: a later one (a test harness, a second
/// `cli::run` in one process) keeps the subscriber already installed rather
/// than failing the command over its log format.
pub fn init(format: LogFormat) {
    let _ = tracing::subscriber::set_global_default(subscriber(format, std::io::stderr));
    polars::error::set_warning_function(polars_warning);
}

/// Polars prints its warnings (deprecations, checks in debug builds) straight
/// to stderr, which would break the JSON lines; through tracing they take the
/// chosen format like kvaudit's own.
fn polars_warning(message: &str, kind: polars::error::PolarsWarning) {
    tracing::warn!(source = "polars", kind = ?kind, "polars: {message}");
}

/// The subscriber `init` installs, writing to any writer so tests can read it.
fn subscriber<W>(format: LogFormat, writer: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let own_events = Targets::new().with_target(env!("CARGO_CRATE_NAME"), Level::INFO);
    let builder = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false);
    match format {
        LogFormat::Text => Box::new(builder.event_format(TextLine).finish().with(own_events)),
        LogFormat::Json => Box::new(
            builder
                .json()
                // Fields beside `message` at the top level, not under
                // "fields": what log queries (jq, KQL's parse_json) expect.
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .finish()
                .with(own_events),
        ),
    }
}

/// kvaudit's text lines: the level as a `kvaudit:` prefix for warnings and
/// errors, nothing for the rest, no timestamp (a terminal or cron mail does
/// not need one).
struct TextLine;

impl<S, N> FormatEvent<S, N> for TextLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let prefix = match *event.metadata().level() {
            Level::ERROR => "kvaudit: error: ",
            Level::WARN => "kvaudit: warning: ",
            _ => "",
        };
        let mut message = Message(String::new());
        event.record(&mut message);
        // Messages quote file names and log text; their line breaks are kvaudit's own.
        let shown = crate::text::escape_deceptive(&message.0, &['\n']);
        writeln!(writer, "{prefix}{shown}")
    }
}

/// Collects an event's `message` field; the other fields are for JSON only.
struct Message(String);

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // A formatted message arrives as `fmt::Arguments`, whose Debug is the text itself.
        if field.name() == "message" {
            use fmt::Write;
            let _ = write!(self.0, "{value:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A writer the test keeps a handle on, to read what the subscriber wrote.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Emits the same events under `format` and returns what was written.
    fn emit(format: LogFormat) -> String {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = subscriber(format, move || writer.clone());
        tracing::subscriber::with_default(subscriber, || {
            let (stage, seconds) = ("ingest", 1.25_f64);
            tracing::info!(stage, seconds, "timing {stage} {seconds:.3}s");
            tracing::warn!(file = "a.json", line = 3_u64, "a.json:3: truncated record");
            tracing::error!("cannot read /nonexistent");
            polars_warning("a deprecation", polars::error::PolarsWarning::Deprecation);
            tracing::debug!("below info: never printed");
            // The Azure SDK's events, even at warn, are not kvaudit's messages.
            tracing::warn!(target: "azure_core::http::policies::retry", "retrying");
        });
        let bytes = captured.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn text_keeps_the_plain_kvaudit_lines() {
        assert_eq!(
            emit(LogFormat::Text),
            "timing ingest 1.250s\n\
             kvaudit: warning: a.json:3: truncated record\n\
             kvaudit: error: cannot read /nonexistent\n\
             kvaudit: warning: polars: a deprecation\n"
        );
    }

    #[test]
    fn json_is_one_object_per_line_with_the_fields_at_the_top() {
        let output = emit(LogFormat::Json);
        let lines: Vec<serde_json::Value> = output
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect();
        assert_eq!(lines.len(), 4, "{output}");

        let levels: Vec<&str> = lines.iter().map(|l| l["level"].as_str().unwrap()).collect();
        assert_eq!(levels, ["INFO", "WARN", "ERROR", "WARN"]);
        for line in &lines {
            let timestamp = line["timestamp"].as_str().unwrap();
            chrono::DateTime::parse_from_rfc3339(timestamp)
                .unwrap_or_else(|e| panic!("timestamp {timestamp}: {e}"));
            assert!(line["target"].as_str().unwrap().starts_with("kvaudit"));
        }

        assert_eq!(lines[0]["message"], "timing ingest 1.250s");
        assert_eq!(lines[0]["stage"], "ingest");
        assert_eq!(lines[0]["seconds"], 1.25);
        assert_eq!(lines[1]["message"], "a.json:3: truncated record");
        assert_eq!(lines[1]["file"], "a.json");
        assert_eq!(lines[1]["line"], 3);
        assert_eq!(lines[2]["message"], "cannot read /nonexistent");
        assert_eq!(lines[3]["message"], "polars: a deprecation");
        assert_eq!(lines[3]["source"], "polars");
        assert_eq!(lines[3]["kind"], "Deprecation");
    }

    #[test]
    fn the_config_file_names_formats_as_the_command_line_does() {
        #[derive(serde::Deserialize)]
        struct Config {
            log_format: LogFormat,
        }
        let parse = |s: &str| serde_json::from_str::<Config>(s).map(|c| c.log_format);
        assert_eq!(parse(r#"{"log_format":"json"}"#).unwrap(), LogFormat::Json);
        assert_eq!(parse(r#"{"log_format":"text"}"#).unwrap(), LogFormat::Text);
        assert!(parse(r#"{"log_format":"Json"}"#).is_err());
        use clap::ValueEnum;
        assert_eq!(LogFormat::from_str("json", false), Ok(LogFormat::Json));
    }
}
