//! The statistics reports use, as pure functions: Wilson 95 % intervals,
//! the two-proportion z test, AUC (Mann–Whitney, ties counted half) and
//! deciles. Checked against values computed once with scipy/statsmodels
//! (`tests/fixtures/stats.json`, produced by `tests/fixtures/stats.py`).

use serde::Serialize;

/// The 97.5 % quantile of the standard normal distribution.
pub const Z_95: f64 = 1.959_963_984_540_054;

/// A proportion with its Wilson score interval (95 %).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Proportion {
    pub count: u64,
    pub total: u64,
    /// `count / total`; `None` when `total` is 0.
    pub rate: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

impl Proportion {
    pub fn new(count: u64, total: u64) -> Self {
        let interval = wilson_interval(count, total);
        Self {
            count,
            total,
            rate: (total > 0).then(|| count as f64 / total as f64),
            low: interval.map(|(low, _)| low),
            high: interval.map(|(_, high)| high),
        }
    }
}

/// The lower quartile, median and upper quartile of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quartiles {
    pub p25: f64,
    pub median: f64,
    pub p75: f64,
}

/// The quartiles of `values`, interpolated linearly between order
/// statistics (numpy's default, Python's `statistics.quantiles(...,
/// method="inclusive")`); `None` for no values. Sorts `values`.
pub fn quartiles(values: &mut [f64]) -> Option<Quartiles> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let position = q * (values.len() - 1) as f64;
        let (below, fraction) = (position.floor() as usize, position.fract());
        let next = values.get(below + 1).copied().unwrap_or(values[below]);
        values[below] + (next - values[below]) * fraction
    };
    Some(Quartiles {
        p25: at(0.25),
        median: at(0.5),
        p75: at(0.75),
    })
}

/// The Wilson score interval of `count` successes in `total` trials at
/// 95 %; `None` for no trials.
pub fn wilson_interval(count: u64, total: u64) -> Option<(f64, f64)> {
    if total == 0 {
        return None;
    }
    let n = total as f64;
    let p = count.min(total) as f64 / n;
    let z2 = Z_95 * Z_95;
    let denominator = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denominator;
    let half = Z_95 / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(((center - half).max(0.0), (center + half).min(1.0)))
}

/// The two-sided p-value of the pooled two-proportion z test of
/// `count_a / total_a` against `count_b / total_b`; `None` when it is
/// undefined (an empty group, or both rates 0 or both 1).
pub fn two_proportion_p_value(
    count_a: u64,
    total_a: u64,
    count_b: u64,
    total_b: u64,
) -> Option<f64> {
    let z = two_proportion_z(count_a, total_a, count_b, total_b)?;
    Some(erfc(z.abs() / std::f64::consts::SQRT_2))
}

/// The z statistic of the pooled two-proportion test.
pub fn two_proportion_z(count_a: u64, total_a: u64, count_b: u64, total_b: u64) -> Option<f64> {
    if total_a == 0 || total_b == 0 {
        return None;
    }
    let (na, nb) = (total_a as f64, total_b as f64);
    let (pa, pb) = (count_a as f64 / na, count_b as f64 / nb);
    let pooled = (count_a + count_b) as f64 / (na + nb);
    let variance = pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb);
    if variance <= 0.0 {
        return None;
    }
    Some((pa - pb) / variance.sqrt())
}

/// The complementary error function, to about 1e-13 relative: the Taylor
/// series of erf below 2.5, a continued fraction above.
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 2.5 {
        return 1.0 - erf_series(x);
    }
    // erfc(x) = exp(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))),
    // evaluated from the tail.
    let mut tail = x;
    for n in (1..=120).rev() {
        tail = x + (f64::from(n) / 2.0) / tail;
    }
    (-x * x).exp() / (std::f64::consts::PI.sqrt() * tail)
}

/// erf(x) = 2/√π Σ (−1)ⁿ x²ⁿ⁺¹ / (n! (2n+1)).
fn erf_series(x: f64) -> f64 {
    let mut term = x;
    let mut sum = x;
    for n in 1..200 {
        term *= -x * x / f64::from(n);
        let next = term / f64::from(2 * n + 1);
        sum += next;
        if next.abs() < 1e-17 * sum.abs() {
            break;
        }
    }
    sum * 2.0 / std::f64::consts::PI.sqrt()
}

/// The area under the ROC curve of `scores` for `positive` outcomes: the
/// probability that a random positive scores above a random negative, ties
/// counted half (the Mann–Whitney U statistic over n₊·n₋). `None` without
/// both a positive and a negative.
pub fn auc(observations: &[(f64, bool)]) -> Option<f64> {
    let positives = observations.iter().filter(|(_, p)| *p).count();
    let negatives = observations.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut sorted: Vec<(f64, bool)> = observations.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Sum of the positives' ranks, ties sharing their average rank.
    let mut rank_sum = 0.0;
    let mut start = 0;
    while start < sorted.len() {
        let mut end = start;
        while end < sorted.len() && sorted[end].0 == sorted[start].0 {
            end += 1;
        }
        let average_rank = (start + 1 + end) as f64 / 2.0;
        let tied_positives = sorted[start..end].iter().filter(|(_, p)| *p).count();
        rank_sum += average_rank * tied_positives as f64;
        start = end;
    }
    let (np, nn) = (positives as f64, negatives as f64);
    let u = rank_sum - np * (np + 1.0) / 2.0;
    Some(u / (np * nn))
}

/// One tenth of a population ranked by score, highest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decile {
    /// 1 = the highest scores.
    pub decile: u32,
    pub min_score: f64,
    pub max_score: f64,
    pub conversion: Proportion,
}

/// Ranks `observations` by score, highest first (ties keep their given
/// order), and splits them into ten groups: group i (0-based) holds ranks
/// `⌊i·n/10⌋ .. ⌊(i+1)·n/10⌋`. Empty groups (n < 10) are left out.
pub fn deciles(observations: &[(f64, bool)]) -> Vec<Decile> {
    let mut ranked: Vec<(f64, bool)> = observations.to_vec();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    let n = ranked.len();
    (0..10)
        .filter_map(|i| {
            let group = &ranked[i * n / 10..(i + 1) * n / 10];
            let first = group.first()?;
            let last = group.last()?;
            let converted = group.iter().filter(|(_, c)| *c).count() as u64;
            Some(Decile {
                decile: i as u32 + 1,
                min_score: last.0,
                max_score: first.0,
                conversion: Proportion::new(converted, group.len() as u64),
            })
        })
        .collect()
}

#[cfg(test)]
#[path = "stats_tests.rs"]
mod tests;
