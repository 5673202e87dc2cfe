//! Summaries of repeated measurements.

/// min / median / max of a set of samples.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spread {
    pub(crate) min: f64,
    pub(crate) median: f64,
    pub(crate) max: f64,
}

impl Spread {
    pub(crate) fn of(samples: &[f64]) -> Self {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let pick = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
        Self {
            min: sorted[0],
            median: pick(0.5),
            max: sorted[sorted.len() - 1],
        }
    }

    pub(crate) fn show(&self, unit: &str) -> String {
        let digits = usize::from(unit == "ms");
        format!(
            "{:.digits$} / {:.digits$} / {:.digits$} {unit}",
            self.min, self.median, self.max
        )
    }
}

/// The `q` quantile (0..=1) of samples.
pub(crate) fn quantile(samples: &mut [f64], q: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    if samples.is_empty() {
        return 0.0;
    }
    samples[((samples.len() - 1) as f64 * q).round() as usize]
}
