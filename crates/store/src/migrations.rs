//! The numbered schema migrations of both backends, embedded at build time.
//!
//! A migration is never edited once released: change the schema by adding
//! the next number to both lists, with equivalent SQL.

use bellwether_core::store::StoreError;

pub(crate) struct Migration {
    pub(crate) version: u32,
    pub(crate) name: &'static str,
    pub(crate) sql: &'static str,
}

pub(crate) const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/sqlite/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "memberships",
        sql: include_str!("../migrations/sqlite/0002_memberships.sql"),
    },
    Migration {
        version: 3,
        name: "score_history",
        sql: include_str!("../migrations/sqlite/0003_score_history.sql"),
    },
    Migration {
        version: 4,
        name: "outbox",
        sql: include_str!("../migrations/sqlite/0004_outbox.sql"),
    },
    Migration {
        version: 5,
        name: "identity_rules",
        sql: include_str!("../migrations/sqlite/0005_identity_rules.sql"),
    },
    Migration {
        version: 6,
        name: "subject_deliveries",
        sql: include_str!("../migrations/sqlite/0006_subject_deliveries.sql"),
    },
    Migration {
        version: 7,
        name: "privacy",
        sql: include_str!("../migrations/sqlite/0007_privacy.sql"),
    },
    Migration {
        version: 8,
        name: "latest_state",
        sql: include_str!("../migrations/sqlite/0008_latest_state.sql"),
    },
    Migration {
        version: 9,
        name: "enrichment",
        sql: include_str!("../migrations/sqlite/0009_enrichment.sql"),
    },
    Migration {
        version: 10,
        name: "digests",
        sql: include_str!("../migrations/sqlite/0010_digests.sql"),
    },
    Migration {
        version: 11,
        name: "score_index",
        sql: include_str!("../migrations/sqlite/0011_score_index.sql"),
    },
    Migration {
        version: 12,
        name: "score_runs",
        sql: include_str!("../migrations/sqlite/0012_score_runs.sql"),
    },
];

pub(crate) const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "memberships",
        sql: include_str!("../migrations/postgres/0002_memberships.sql"),
    },
    Migration {
        version: 3,
        name: "score_history",
        sql: include_str!("../migrations/postgres/0003_score_history.sql"),
    },
    Migration {
        version: 4,
        name: "outbox",
        sql: include_str!("../migrations/postgres/0004_outbox.sql"),
    },
    Migration {
        version: 5,
        name: "identity_rules",
        sql: include_str!("../migrations/postgres/0005_identity_rules.sql"),
    },
    Migration {
        version: 6,
        name: "subject_deliveries",
        sql: include_str!("../migrations/postgres/0006_subject_deliveries.sql"),
    },
    Migration {
        version: 7,
        name: "privacy",
        sql: include_str!("../migrations/postgres/0007_privacy.sql"),
    },
    Migration {
        version: 8,
        name: "latest_state",
        sql: include_str!("../migrations/postgres/0008_latest_state.sql"),
    },
    Migration {
        version: 9,
        name: "enrichment",
        sql: include_str!("../migrations/postgres/0009_enrichment.sql"),
    },
    Migration {
        version: 10,
        name: "digests",
        sql: include_str!("../migrations/postgres/0010_digests.sql"),
    },
    Migration {
        version: 11,
        name: "score_index",
        sql: include_str!("../migrations/postgres/0011_score_index.sql"),
    },
    Migration {
        version: 12,
        name: "score_runs",
        sql: include_str!("../migrations/postgres/0012_score_runs.sql"),
    },
];

/// The migrations of `known` not yet in `applied`, in order. Fails when the
/// database was migrated by a newer Bellwether than this one.
pub(crate) fn pending<'a>(
    known: &'a [Migration],
    applied: &[u32],
) -> Result<Vec<&'a Migration>, StoreError> {
    let newest_known = known.iter().map(|m| m.version).max().unwrap_or(0);
    if let Some(unknown) = applied.iter().find(|v| **v > newest_known) {
        return Err(StoreError::Migration {
            version: *unknown,
            reason: format!(
                "the database has migration {unknown} but this binary knows only up to {newest_known}; \
                 upgrade Bellwether"
            ),
        });
    }
    Ok(known
        .iter()
        .filter(|m| !applied.contains(&m.version))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::{pending, POSTGRES, SQLITE};

    #[test]
    fn both_backends_have_the_same_numbered_migrations() {
        let numbers =
            |list: &[super::Migration]| list.iter().map(|m| m.version).collect::<Vec<_>>();
        assert_eq!(numbers(SQLITE), numbers(POSTGRES));
        let expected: Vec<u32> = (1..=u32::try_from(SQLITE.len()).unwrap()).collect();
        assert_eq!(
            numbers(SQLITE),
            expected,
            "migrations are numbered 1, 2, … without gaps"
        );
    }

    #[test]
    fn pending_skips_applied_and_refuses_newer_databases() {
        assert_eq!(pending(SQLITE, &[]).unwrap().len(), SQLITE.len());
        assert!(pending(SQLITE, &[1])
            .unwrap()
            .iter()
            .all(|m| m.version != 1));
        let error = pending(SQLITE, &[1, 999]).err().unwrap();
        assert!(error.to_string().contains("999"), "{error}");
    }
}
