//! Holdouts: a segment with `holdout = h` withholds a share `h` of its
//! entrants from every action, so reports can compare treated and held-out
//! entrants (causal lift, not correlation).
//!
//! The draw is a pure function of (segment, subject key): the same subject
//! is always treated or always held out for a segment, across restarts,
//! re-evaluations and backends. It uses FNV-1a, spelled out here, because
//! the standard library's hasher may change between Rust releases.

/// Whether `subject_key` (the contact number or account group id, as in
/// `MembershipRecord::subject_key`) is held out of `segment`'s actions
/// when `share` of entrants are (0 ≤ share < 1; 0 holds out no one).
pub fn is_held_out(segment: &str, subject_key: &str, share: f64) -> bool {
    if share.is_nan() || share <= 0.0 {
        return false;
    }
    unit_draw(segment, subject_key) < share
}

/// A number in [0, 1) that looks uniform over subjects.
fn unit_draw(segment: &str, subject_key: &str) -> f64 {
    let mut hash = fnv1a(FNV_OFFSET, segment.as_bytes());
    hash = fnv1a(hash, &[0]);
    hash = fnv1a(hash, subject_key.as_bytes());
    // FNV's low bits mix poorly for short keys: finish with a 64-bit mixer.
    let mixed = mix64(hash);
    (mixed >> 11) as f64 / (1u64 << 53) as f64
}

/// A 64-bit hash of `text` that never changes between releases; `seed`
/// gives independent hashes of the same text.
pub(crate) fn stable_hash(seed: u64, text: &str) -> u64 {
    mix64(fnv1a(FNV_OFFSET ^ seed, text.as_bytes()))
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

/// The SplitMix64 finalizer.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_share_holds_out_no_one() {
        assert!((0..1000).all(|i| !is_held_out("s", &i.to_string(), 0.0)));
    }

    #[test]
    fn the_draw_is_stable() {
        // Pinned: a change here would silently move people between groups.
        let held: Vec<u32> = (0..40)
            .filter(|i| is_held_out("hot_intent", &i.to_string(), 0.1))
            .collect();
        // Computed independently (a Python transcription of FNV-1a and SplitMix64).
        assert_eq!(held, vec![2, 13, 28, 30, 33]);
    }

    #[test]
    fn the_share_is_close_to_the_setting() {
        let n = 100_000;
        let held = (0..n)
            .filter(|i| is_held_out("churn_risk", &i.to_string(), 0.2))
            .count();
        let share = held as f64 / f64::from(n);
        assert!((share - 0.2).abs() < 0.01, "{share}");
    }

    #[test]
    fn segments_draw_independently() {
        let n = 10_000;
        let both = (0..n)
            .filter(|i| {
                is_held_out("a", &i.to_string(), 0.5) && is_held_out("b", &i.to_string(), 0.5)
            })
            .count();
        let share = both as f64 / f64::from(n);
        assert!((share - 0.25).abs() < 0.02, "{share}");
    }
}
