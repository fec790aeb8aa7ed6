// TEMPORARY scratch (helper-3): renders a report for a visual check. Deleted before hand-off.
use chrono::Utc;
use indicatif::ProgressBar;
use kvaudit::analyze::overview::Overview;
use kvaudit::report::html::{ReportContext, write_html};

#[test]
#[ignore]
fn scratch_render() {
    let paths: Vec<String> = std::env::var("SCRATCH_INPUTS").unwrap().split(',').map(str::to_owned).collect();
    let out = std::path::PathBuf::from(std::env::var("SCRATCH_OUT").unwrap());
    let inputs = kvaudit::ingest::inputs::expand(&paths).unwrap();
    let ingested = kvaudit::ingest::ingest(&inputs, &ProgressBar::hidden()).unwrap();
    let overview = Overview::of(&ingested.events).unwrap();
    let findings = vec![];
    let ctx = ReportContext {
        ingested: &ingested,
        overview: &overview,
        findings: &findings,
        policies: &["default pack (9 policies)".to_owned()],
        inputs_described: &paths,
        generated_at: Utc::now(),
    };
    write_html(&out, &ctx).unwrap();
    kvaudit::report::csv::write_csv(&out, &ctx).unwrap();
}
