"""The side-by-side benchmark harness: Bellwether vs DuckDB and PostgreSQL."""
