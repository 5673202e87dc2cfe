//! The statistics against values computed independently with scipy and
//! statsmodels (see `fixtures/stats.py`), plus the edge cases.

use serde_json::Value;

use super::*;

const FIXTURE: &str = include_str!("fixtures/stats.json");

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).expect("the fixture is JSON")
}

fn close(actual: f64, expected: f64, tolerance: f64) -> bool {
    (actual - expected).abs() <= tolerance * expected.abs().max(1e-300) || actual == expected
}

fn cases(name: &str) -> Vec<Value> {
    fixture()[name].as_array().cloned().unwrap_or_default()
}

fn u(case: &Value, key: &str) -> u64 {
    case[key].as_u64().unwrap_or(u64::MAX)
}

fn f(case: &Value, key: &str) -> f64 {
    case[key].as_f64().unwrap_or(f64::NAN)
}

#[test]
fn wilson_intervals_match_statsmodels() {
    let all = cases("wilson_95");
    assert!(all.len() >= 10);
    for case in &all {
        let (low, high) = wilson_interval(u(case, "count"), u(case, "total")).expect("trials");
        // Absolute tolerance: statsmodels computes the bounds at 0 and 1 with
        // rounding noise of ~1e-16.
        assert!((low - f(case, "low")).abs() < 1e-12, "{case}: low {low}");
        assert!(
            (high - f(case, "high")).abs() < 1e-12,
            "{case}: high {high}"
        );
    }
}

#[test]
fn two_proportion_tests_match_statsmodels() {
    let all = cases("two_proportion_ztest");
    assert!(all.len() >= 5);
    for case in &all {
        let args = (
            u(case, "count_a"),
            u(case, "total_a"),
            u(case, "count_b"),
            u(case, "total_b"),
        );
        let z = two_proportion_z(args.0, args.1, args.2, args.3).expect("defined");
        let p = two_proportion_p_value(args.0, args.1, args.2, args.3).expect("defined");
        assert!(close(z, f(case, "z"), 1e-10), "{case}: z {z}");
        assert!(close(p, f(case, "p_value"), 1e-9), "{case}: p {p}");
    }
}

#[test]
fn erfc_matches_scipy() {
    for case in &cases("erfc") {
        let x = f(case, "x");
        assert!(
            close(erfc(x), f(case, "erfc"), 1e-12),
            "{case}: {}",
            erfc(x)
        );
    }
}

#[test]
fn auc_matches_scipy_mann_whitney() {
    let all = cases("auc_mann_whitney");
    assert!(all.len() >= 4);
    for case in &all {
        let scores = case["scores"].as_array().cloned().unwrap_or_default();
        let outcomes = case["outcomes"].as_array().cloned().unwrap_or_default();
        let observations: Vec<(f64, bool)> = scores
            .iter()
            .zip(&outcomes)
            .map(|(s, o)| (s.as_f64().unwrap_or(f64::NAN), o.as_bool().unwrap_or(false)))
            .collect();
        let value = auc(&observations).expect("both outcomes present");
        assert!(
            close(value, f(case, "auc"), 1e-12),
            "auc {value} vs {}",
            case["auc"]
        );
    }
}

#[test]
fn undefined_statistics_are_none_not_nan() {
    assert_eq!(wilson_interval(0, 0), None);
    assert_eq!(two_proportion_p_value(0, 10, 0, 20), None, "both rates 0");
    assert_eq!(two_proportion_p_value(10, 10, 20, 20), None, "both rates 1");
    assert_eq!(two_proportion_p_value(1, 0, 0, 20), None, "an empty group");
    assert_eq!(auc(&[(1.0, true), (2.0, true)]), None);
    assert_eq!(auc(&[]), None);
    let empty = Proportion::new(0, 0);
    assert_eq!((empty.rate, empty.low, empty.high), (None, None, None));
}

#[test]
fn auc_counts_ties_half_and_ranks_perfectly_separated_scores_one() {
    assert_eq!(auc(&[(1.0, true), (1.0, false)]), Some(0.5));
    assert_eq!(auc(&[(3.0, true), (2.0, false), (1.0, false)]), Some(1.0));
    assert_eq!(auc(&[(1.0, true), (2.0, false)]), Some(0.0));
}

#[test]
fn deciles_split_the_ranking_highest_first() {
    // 25 subjects scoring 0..25; the top 5 (20..24) converted.
    let observations: Vec<(f64, bool)> = (0..25).map(|i| (f64::from(i), i >= 20)).collect();
    let groups = deciles(&observations);
    assert_eq!(groups.len(), 10);
    let sizes: Vec<u64> = groups.iter().map(|d| d.conversion.total).collect();
    // ⌊i·25/10⌋: 0, 2, 5, 7, 10, 12, 15, 17, 20, 22, 25.
    assert_eq!(sizes, [2, 3, 2, 3, 2, 3, 2, 3, 2, 3]);
    assert_eq!((groups[0].max_score, groups[0].min_score), (24.0, 23.0));
    assert_eq!(groups[0].conversion.rate, Some(1.0));
    assert_eq!(groups[1].conversion.count, 3, "20..=22");
    assert_eq!(groups[2].conversion.count, 0);
    assert_eq!(groups[9].min_score, 0.0);
    // Fewer than ten: empty groups are left out.
    assert_eq!(deciles(&[(1.0, true), (0.0, false)]).len(), 2);
}

#[test]
fn quartiles_interpolate_like_python_inclusive_quantiles() {
    // Expected values from `statistics.quantiles(v, n=4, method="inclusive")`.
    let cases: [(&[f64], [f64; 3]); 5] = [
        (&[5.0], [5.0, 5.0, 5.0]),
        (&[1.0, 2.0], [1.25, 1.5, 1.75]),
        (&[3.0, 1.0, 2.0], [1.5, 2.0, 2.5]),
        (&[1.0, 2.0, 3.0, 4.0], [1.75, 2.5, 3.25]),
        (&[10.0, 0.0, 7.0, 3.0, 9.0, 100.0], [4.0, 8.0, 9.75]),
    ];
    for (values, [p25, median, p75]) in cases {
        let got = quartiles(&mut values.to_vec()).expect("values");
        assert_eq!(got, Quartiles { p25, median, p75 }, "{values:?}");
    }
    assert_eq!(quartiles(&mut []), None);
}
