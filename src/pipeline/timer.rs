//! `--timings`: how long each stage took and the memory it raised.

use std::time::Instant;

/// Prints how long each stage took, when asked to.
pub struct StageTimer {
    enabled: bool,
    last: Instant,
}

impl StageTimer {
    pub fn new(enabled: bool) -> Self {
        StageTimer {
            enabled,
            last: Instant::now(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    pub fn done(&mut self, stage: &str) {
        if self.enabled {
            let seconds = self.last.elapsed().as_secs_f64();
            match peak_rss_mb() {
                Some(mb) => tracing::info!(
                    stage,
                    seconds,
                    peak_rss_mb = mb,
                    "timing {stage} {seconds:.3}s peak-rss {mb}MB"
                ),
                None => tracing::info!(stage, seconds, "timing {stage} {seconds:.3}s"),
            }
        }
        self.last = Instant::now();
    }
}

/// The process's peak resident memory so far (Linux only), so the stage that
/// raised it shows in the timings.
fn peak_rss_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}
