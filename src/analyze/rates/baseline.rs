//! An identity's own baseline for a count: median, spread and a robust score
//! over its history, where the windows it was quiet in count as zeros.
//!
//! Medians and the median absolute deviation (MAD) are used instead of mean
//! and standard deviation because one burst in the history must not raise
//! the bar for the next one.

use serde::Serialize;

/// A count in one window and where it stands against the history.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Metric {
    pub value: i64,
    /// Number of history windows (zeros included); 0 means no baseline.
    pub history: usize,
    pub median: f64,
    pub p10: i64,
    pub p90: i64,
    pub max: i64,
    /// 1.4826 × MAD, floored at √median and at 1.
    pub spread: f64,
    /// `(value - median) / spread`; 0 without history.
    pub score: f64,
}

impl Metric {
    /// A value with no history to compare against.
    pub fn without_history(value: i64) -> Metric {
        Metric {
            value,
            ..Metric::default()
        }
    }

    /// `value` against `present` (the non-empty history windows' counts, in
    /// any order) plus `zeros` windows without events.
    pub fn against(value: i64, present: &[i64], zeros: usize) -> Metric {
        let n = present.len() + zeros;
        if n == 0 {
            return Metric::without_history(value);
        }
        let mut history: Vec<i64> = Vec::with_capacity(n);
        history.resize(zeros, 0);
        history.extend_from_slice(present);
        history.sort_unstable();
        let median = median_of_sorted(&history);
        let mut deviations: Vec<f64> = history.iter().map(|&x| (x as f64 - median).abs()).collect();
        deviations.sort_unstable_by(f64::total_cmp);
        let mad = median_of_sorted_f64(&deviations);
        let spread = (1.4826 * mad).max(median.sqrt()).max(1.0);
        Metric {
            value,
            history: n,
            median,
            p10: nearest_rank(&history, 0.10),
            p90: nearest_rank(&history, 0.90),
            max: history[n - 1],
            spread,
            score: (value as f64 - median) / spread,
        }
    }

    /// The Cedar record: whole numbers (Cedar has no floating point).
    pub fn cedar_median(&self) -> i64 {
        self.median.round() as i64
    }

    pub fn cedar_score(&self) -> i64 {
        self.score.clamp(-1e9, 1e9).trunc() as i64
    }

    /// Whether the value is above what the history usually shows (always
    /// true without history: there is nothing to call it usual against).
    pub fn above_usual(&self) -> bool {
        self.history == 0 || self.value > self.p90
    }
}

fn median_of_sorted(sorted: &[i64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2] as f64
    } else {
        (sorted[n / 2 - 1] as f64 + sorted[n / 2] as f64) / 2.0
    }
}

fn median_of_sorted_f64(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// Nearest-rank percentile of a sorted, non-empty slice.
fn nearest_rank(sorted: &[i64], q: f64) -> i64 {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steady_workload_is_not_far_from_its_median() {
        // ~30 requests an hour for four days at this hour.
        let m = Metric::against(38, &[28, 31, 30, 33], 0);
        assert_eq!(m.median, 30.5);
        assert!(m.score < 2.0, "{m:?}");
        assert_eq!(m.p90, 33);
        assert!(m.above_usual());
    }

    #[test]
    fn a_spike_scores_far_above_its_history() {
        let m = Metric::against(1_801, &[28, 31, 30, 33], 0);
        assert!(m.score > 100.0, "{m:?}");
        assert_eq!(m.cedar_median(), 31);
    }

    #[test]
    fn quiet_windows_count_as_zeros() {
        // Active in 2 of 10 history windows.
        let m = Metric::against(5, &[4, 6], 8);
        assert_eq!(m.history, 10);
        assert_eq!(m.median, 0.0);
        assert_eq!(m.p90, 4);
        // MAD is 0: the spread falls back to 1, so the score is the value.
        assert_eq!(m.spread, 1.0);
        assert_eq!(m.cedar_score(), 5);
    }

    #[test]
    fn one_burst_in_the_history_does_not_raise_the_bar() {
        let m = Metric::against(1_800, &[30, 29, 31, 1_800, 30, 32], 0);
        assert_eq!(m.median, 30.5);
        assert!(m.score > 100.0, "{m:?}");
    }

    #[test]
    fn no_history_has_no_score() {
        let m = Metric::against(55, &[], 0);
        assert_eq!(m.history, 0);
        assert_eq!(m.cedar_score(), 0);
        assert!(m.above_usual());
    }
}
