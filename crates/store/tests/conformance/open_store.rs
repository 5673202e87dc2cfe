//! `open_store` picks the backend from the `database` setting.

use bellwether_store::open_store;

use crate::harness::{pg_admin, pg_url, unique_schema};

#[test]
fn no_database_url_opens_sqlite_in_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nested").join("data");
    let store = open_store(None, &data).unwrap();
    assert_eq!(store.backend(), "sqlite");
    assert!(data.join("bellwether.db").exists());
    let store = open_store(Some("sqlite"), &data).unwrap();
    assert_eq!(store.backend(), "sqlite");
}

#[test]
fn a_postgres_url_opens_postgres_with_url_options() {
    let schema = unique_schema("bw_open");
    let mut admin = pg_admin();
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .unwrap();
    let separator = if pg_url().contains('?') { '&' } else { '?' };
    let url = format!("{}{separator}options=-csearch_path%3D{schema}", pg_url());
    let opened = open_store(Some(&url), std::path::Path::new("/nonexistent"))
        .map(|store| (store.backend(), store.event_count()));
    let tables: i64 = admin
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1",
            &[&schema],
        )
        .unwrap()
        .get(0);
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
    let (backend, count) = opened.unwrap();
    assert_eq!(backend, "postgres");
    assert_eq!(count.unwrap(), 0);
    assert!(
        tables >= 10,
        "the schema from the URL holds the tables ({tables})"
    );
}
