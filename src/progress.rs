//! Progress bars on stderr for long work, drawn only when stderr is a
//! terminal (a scheduled job's log stays clean).

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Bytes of log files read.
pub const READING: &str =
    "{spinner} reading {bytes}/{total_bytes} [{wide_bar}] {bytes_per_sec}, {eta} left";
/// Time slices of a Log Analytics pull.
pub const SLICES: &str = "{spinner} slices {pos}/{len} [{wide_bar}] {msg}, {elapsed} elapsed";

/// A bar of `total` steps drawn with `template` (one of this module's), or
/// a hidden one when `quiet` or when stderr is not a terminal.
pub fn bar(template: &str, total: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let style =
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style.progress_chars("=> "));
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_templates_are_valid() {
        for template in [READING, SLICES] {
            assert!(ProgressStyle::with_template(template).is_ok(), "{template}");
        }
    }
}
