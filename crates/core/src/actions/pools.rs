//! Owner assignment: a segment's `owner` names a person or a `[[pool]]`;
//! a pool picks a member round robin or by a trait of the subject. Pure:
//! the turn counter is the caller's (the router keeps one per pool).

use serde_json::Value;

use super::config::{PoolConfig, PoolStrategy};

/// Who owns a subject entering a segment whose `owner` is `owner`.
/// `turn` is how many subjects the pool assigned before (round robin);
/// `trait_value` reads a trait of the subject (`territory`,
/// `account.region`). Returns the owner and whether a turn was used.
pub fn assign(
    owner: &str,
    pools: &[PoolConfig],
    turn: u64,
    trait_value: impl Fn(&str) -> Option<Value>,
) -> (String, bool) {
    let Some(pool) = pools.iter().find(|p| p.name == owner) else {
        return (owner.to_owned(), false);
    };
    if pool.strategy == PoolStrategy::ByTrait {
        let routed = pool
            .trait_key
            .as_deref()
            .and_then(&trait_value)
            .map(|value| match value {
                Value::String(text) => text,
                other => other.to_string(),
            })
            .and_then(|value| pool.routes.get(&value));
        if let Some(member) = routed {
            return (member.clone(), false);
        }
    }
    let index = (turn % pool.members.len().max(1) as u64) as usize;
    match pool.members.get(index) {
        Some(member) => (member.clone(), true),
        None => (owner.to_owned(), false),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn pool(strategy: PoolStrategy) -> PoolConfig {
        PoolConfig {
            name: "sdr-pool".into(),
            members: vec!["ana".into(), "ben".into(), "chloe".into()],
            strategy,
            trait_key: Some("account.region".into()),
            routes: BTreeMap::from([("EMEA".into(), "chloe".into())]),
        }
    }

    #[test]
    fn a_person_owns_directly() {
        let (owner, turned) = assign("dana", &[pool(PoolStrategy::RoundRobin)], 7, |_| None);
        assert_eq!((owner.as_str(), turned), ("dana", false));
    }

    #[test]
    fn round_robin_takes_turns_in_order() {
        let pools = [pool(PoolStrategy::RoundRobin)];
        let owners: Vec<String> = (0..5)
            .map(|turn| assign("sdr-pool", &pools, turn, |_| None).0)
            .collect();
        assert_eq!(owners, ["ana", "ben", "chloe", "ana", "ben"]);
    }

    #[test]
    fn by_trait_routes_and_falls_back_to_turns() {
        let pools = [pool(PoolStrategy::ByTrait)];
        let emea = |key: &str| (key == "account.region").then(|| Value::from("EMEA"));
        assert_eq!(assign("sdr-pool", &pools, 4, emea), ("chloe".into(), false));
        let apac = |_: &str| Some(Value::from("APAC"));
        assert_eq!(assign("sdr-pool", &pools, 4, apac), ("ben".into(), true));
        assert_eq!(
            assign("sdr-pool", &pools, 0, |_| None),
            ("ana".into(), true)
        );
    }
}
