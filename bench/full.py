#!/usr/bin/env python3
"""Full evaluation side by side: Bellwether vs DuckDB and PostgreSQL.

    .venv/bin/python bench/full.py --scale small          # ~1M events
    .venv/bin/python bench/full.py --scale quick --runs 1 # CI: seconds
    .venv/bin/python bench/full.py --scale large --peers duckdb  # 30M, DuckDB alone

Generates data (`bellwether gen`), imports it (`bellwether import`), exports
the store's events with their resolved contacts for the peers, loads each
engine (load time reported apart from query time), evaluates the 13 segments,
3 scores and 2 tiers of examples/b2b.toml at the data's last instant several
times, checks that every engine got the same memberships, tier levels and
scores (within 1e-6) and exits 1 otherwise, printing the first differences.
The peers run the definitions twice: as the hand-written SQL in bench/sql
(an independent check) and as compiled by `bellwether sql` over the table
`bellwether export` writes, in DuckDB, PostgreSQL and ClickHouse (chDB).
Then (unless --no-server) starts `bellwether serve` on the store for its
resident memory and one-new-event latency, against re-running the SQL for
that contact's account in DuckDB. Prints Markdown for BENCHMARKS.md.
"""

import argparse
import random
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import compare, export, stats  # noqa: E402
from harness.compiled import CompiledClickHouse, CompiledDuck, CompiledPostgres  # noqa: E402
from harness.bellwether import Bellwether  # noqa: E402
from harness.duck import Duck  # noqa: E402
from harness.pg import Postgres  # noqa: E402
from harness.server import Server  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCALES = {  # events, contacts
    "quick": (20_000, 400),
    "small": (1_000_000, 10_000),
    "medium": (10_000_000, 100_000),
    "large": (30_000_000, 300_000),
}
END = "2026-11-01T00:00:00Z"


def arguments():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", choices=SCALES, default="small")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--bellwether", type=Path, default=ROOT / "target/release/bellwether")
    p.add_argument("--config", type=Path, default=ROOT / "examples/b2b.toml")
    p.add_argument("--work", type=Path, default=ROOT / "bench/work")
    p.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/test")
    p.add_argument("--pg-schema", default="bench_full")
    p.add_argument("--sql", type=Path, default=ROOT / "bench/sql",
                   help="folder with duckdb/ and postgres/ SQL files")
    p.add_argument("--export", choices=["auto", "shell", "module"], default="auto",
                   help="export the store with the sqlite3 shell or Python's sqlite3 module")
    p.add_argument("--samples", type=int, default=200, help="one-event samples (0: skip)")
    p.add_argument("--no-server", action="store_true", help="skip memory and one-event latency")
    p.add_argument("--peers", choices=["all", "duckdb"], default="all",
                   help="duckdb: compare with DuckDB alone (hand-written and compiled SQL), "
                        "for a scale where PostgreSQL would take hours or a machine without it")
    return p.parse_args()


def log(message):
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main():
    args = arguments()
    events, contacts = SCALES[args.scale]
    work = args.work / args.scale
    work.mkdir(parents=True, exist_ok=True)
    at_ms = int(datetime.fromisoformat(END.replace("Z", "+00:00")).timestamp() * 1000)
    bw = Bellwether(args.bellwether, args.config)

    ndjson = work / f"seed{args.seed}-{events}.ndjson"
    log(f"generating {events} messages for {contacts} contacts")
    bw.generate(ndjson, args.seed, events, contacts, END)
    store = work / "store"
    shutil.rmtree(store, ignore_errors=True)
    log("importing into Bellwether")
    loads = {"Bellwether": bw.load(ndjson, store)}
    log("exporting the store for the peers")
    csv_dir = work / "csv"
    export_seconds = export.export(store / "bellwether.db", csv_dir, args.export)

    everyone = args.peers == "all"
    duck = Duck(args.sql / "duckdb")
    pg = Postgres(args.pg_url, args.pg_schema, args.sql / "postgres") if everyone else None
    log("loading DuckDB" + (" and PostgreSQL" if pg else ""))
    loads["DuckDB"] = duck.load(csv_dir)
    if pg:
        loads["PostgreSQL"] = pg.load(csv_dir)

    log("exporting bellwether_events and compiling the definitions (bellwether sql)")
    events_csv = work / "bellwether_events.csv"
    compiled_export = bw.export(store, events_csv)
    compiled_pg = CompiledPostgres(bw, END, args.pg_url, args.pg_schema + "_compiled") if everyone else None
    compiled_ch = CompiledClickHouse(bw, END) if everyone else None
    compiled = [e for e in (CompiledDuck(bw, END), compiled_pg, compiled_ch) if e]
    sql_peers = [e for e in (duck, pg) if e]
    for engine in compiled:
        loads[engine.name] = engine.load(events_csv)

    times = {"Bellwether": [], "Bellwether eval (store to CSV)": []}
    times.update({engine.name: [] for engine in sql_peers})
    times.update({engine.name: [] for engine in compiled})
    results = {}
    out = work / "eval"
    out.mkdir(exist_ok=True)
    for run in range(args.runs):
        log(f"run {run + 1}/{args.runs}")
        wall, _load, evaluate = bw.evaluate(store, END, out, whole=True)
        times["Bellwether"].append(evaluate)
        times["Bellwether eval (store to CSV)"].append(wall)
        for engine in (*sql_peers, *compiled):
            started = time.perf_counter()
            results[engine.name] = engine.evaluate(at_ms)
            times[engine.name].append(time.perf_counter() - started)
    results["Bellwether"] = compare.bellwether_results(
        out / "members.csv", out / "scores.csv", out / "tiers.csv")

    reference = compare.normalize(results["Bellwether"])
    failed = False
    for peer in (engine.name for engine in (*sql_peers, *compiled)):
        found = compare.differences(reference, compare.normalize(results[peer]))
        if found:
            failed = True
            print(f"MISMATCH: {peer} differs from Bellwether:", file=sys.stderr)
            for line in found:
                print("  " + line, file=sys.stderr)
    sizes = compare.summary(reference)
    log(f"segment sizes: {sizes}")
    if failed:
        drop(pg, compiled_pg)
        sys.exit(1)
    log("identical results: memberships, tier levels and scores agree on every engine")

    server_figures = None
    if not args.no_server:
        server_figures = measure_server(args, bw, store, csv_dir, duck, at_ms, events, contacts)
    drop(pg, compiled_pg)
    versions = [bw.version(), duck.version()]
    versions += [e.version() for e in (pg, compiled_ch) if e]
    report(args, events, contacts, loads, (export_seconds, compiled_export), times, sizes, versions,
           server_figures)


def drop(*schemas):
    """Drops the PostgreSQL schemas the run made (none with `--peers duckdb`)."""
    for schema in schemas:
        if schema:
            schema.drop()


def measure_server(args, bw, store, csv_dir, duck, at_ms, events, contacts):
    log("starting bellwether serve on an empty store, then on the loaded one")
    empty_store = store.parent / "empty-store"
    shutil.rmtree(empty_store, ignore_errors=True)
    empty = Server(args.bellwether, args.config, empty_store, store.parent / "serve-empty.log")
    empty_rss = empty.rss()
    empty.stop()
    # The first start on a copy of the store without the snapshot the
    # import left (`import --no-snapshot`, or a stale one): the store is
    # read whole, then walked.
    whole_store = store.parent / "store-read-whole"
    shutil.rmtree(whole_store, ignore_errors=True)
    shutil.copytree(store, whole_store, ignore=shutil.ignore_patterns("engine.snapshot*"))
    whole = Server(args.bellwether, args.config, whole_store, store.parent / "serve-whole.log")
    ready_whole = whole.ready_in
    whole.stop()
    shutil.rmtree(whole_store, ignore_errors=True)
    server = Server(args.bellwether, args.config, store, store.parent / "serve.log")
    try:
        time.sleep(1)
        rss = server.rss()
        retained = sum(1 for _ in open(csv_dir / "events.csv", "rb"))
        figures = {"rss": rss, "empty_rss": empty_rss, "ready": server.ready_in,
                   "ready_whole": ready_whole, "events": retained}
        if args.samples:
            rows = [r for r in compare.read_csv_plain(csv_dir / "contacts.csv") if r[1].startswith("person-")]
            rng = random.Random(args.seed)
            picked = [rng.choice(rows) for _ in range(args.samples)]
            figures["bellwether"] = server.track_latencies([r[1] for r in picked], "Demo Requested")
            figures["duckdb"] = duck_one_event(duck, rows, picked)
    finally:
        server.stop()
    # The clean stop wrote the engine snapshot: a restart and `eval` now
    # replay only what was stored after it (nothing here).
    figures["restart"] = []
    for run in range(3):
        log(f"restarting bellwether serve (engine snapshot), {run + 1}/3")
        restarted = Server(args.bellwether, args.config, store, store.parent / "serve-restart.log")
        try:
            time.sleep(1)
            figures["restart"].append(restarted.ready_in)
            figures["restart_rss"] = restarted.rss()
        finally:
            restarted.stop()
    out = store.parent / "eval-snapshot"
    out.mkdir(exist_ok=True)
    figures["eval_snapshot"] = min(bw.evaluate(store, END, out)[0] for _ in range(args.runs))
    return figures


def duck_one_event(duck, rows, picked):
    """Per sample: insert the event, re-run every definition for the contact
    and its account (the account's contacts listed, so DuckDB can prune)."""
    by_account = {}
    for contact_id, _label, group_id in rows:
        by_account.setdefault(group_id, []).append(contact_id)
    latencies = []
    seq = 1 << 40
    for contact_id, _label, group_id in picked:
        members = by_account.get(group_id, [contact_id]) if group_id else [contact_id]
        now = int(time.time() * 1000)
        started = time.perf_counter()
        seq += 1
        duck.add_event(seq, int(contact_id), "Demo Requested", now)
        scope = f"contact_id IN ({', '.join(members)})"
        accounts = f"group_id = '{group_id}'" if group_id else "false"
        duck.evaluate(now, scope, accounts)
        latencies.append(time.perf_counter() - started)
    return latencies


def report(args, events, contacts, loads, export_seconds, times, sizes, versions, server):
    print(f"\n### Full evaluation, scale `{args.scale}`: {events:,} messages, {contacts:,} contacts\n")
    print(f"Machine: {stats.machine()}. Versions: {', '.join(versions)}.\n")
    peers = " --peers duckdb" if args.peers == "duckdb" else ""
    print(f"```sh\n.venv/bin/python bench/full.py --scale {args.scale} --runs {args.runs}{peers}\n```\n")
    medians = {engine: stats.spread(values)[1] for engine, values in times.items()}
    with_pg = "PostgreSQL" in medians
    print("| engine | load (once) | full evaluation (min / median / max) | ratio to DuckDB |"
          + (" ratio to PostgreSQL |" if with_pg else ""))
    print("|---|---|---|---|" + ("---|" if with_pg else ""))
    for engine, values in times.items():
        load = loads.get(engine)
        load_text = stats.fmt_seconds(load) if load is not None else "(in the time)"
        pg_ratio = f" {medians[engine] / medians['PostgreSQL']:.2f}× |" if with_pg else ""
        print(f"| {engine} | {load_text} | {stats.fmt_spread(values)} "
              f"| {medians[engine] / medians['DuckDB']:.2f}× |{pg_ratio}")
    print(f"\nExport of the store for the peers: {stats.fmt_seconds(export_seconds[0])} (their "
          f"tables), {stats.fmt_seconds(export_seconds[1])} (`bellwether export`, for the "
          f"compiled SQL). "
          f"Segment sizes: {', '.join(f'{k} {v:,}' for k, v in sizes.items())}.")
    if server and "restart" in server:
        duck = loads["DuckDB"] + medians["DuckDB"]
        print(f"\nStarts beside DuckDB's load + full SQL ({stats.fmt_seconds(duck)}):\n")
        print("| measure | Bellwether | ratio to DuckDB load + SQL |")
        print("|---|---|---|")
        rows = (
            ("first start after the import (history backfilled at true instants)", server["ready"]),
            ("first start, store read whole (no snapshot from the import)", server["ready_whole"]),
            ("restart (engine snapshot, nothing stored since), median of 3", stats.spread(server["restart"])[1]),
            ("`eval` whole process, store read whole", medians["Bellwether eval (store to CSV)"]),
            ("`eval` whole process, from the engine snapshot", server["eval_snapshot"]),
        )
        for name, seconds in rows:
            print(f"| {name} | {stats.fmt_seconds(seconds)} | {seconds / duck:.2f}× |")
        print(f"\nRestarts (min / median / max): {stats.fmt_spread(server['restart'])}.")
        grown = server["restart_rss"] - server["empty_rss"]
        print(f"\nResident memory after the restart: {server['restart_rss'] / 2**20:,.0f} MiB, "
              f"{grown / 2**20:,.0f} MiB over an empty server = {grown / contacts / 1024:.2f} KiB "
              f"per contact, {grown / server['events']:.0f} B per retained behavior event.")
    if server:
        rss, empty = server["rss"], server["empty_rss"]
        grown = rss - empty
        print(f"\nResident memory of `bellwether serve` after loading the store (ready in "
              f"{stats.fmt_seconds(server['ready'])}): {rss / 2**20:,.0f} MiB, of which "
              f"{grown / 2**20:,.0f} MiB over the same server on an empty store "
              f"({empty / 2**20:,.0f} MiB) = {grown / contacts / 1024:.2f} KiB per contact, "
              f"{grown / server['events']:.0f} B per retained behavior event.")
        if "bellwether" in server:
            ms = lambda s: f"{s * 1000:.2f} ms"  # noqa: E731
            b, d = server["bellwether"], server["duckdb"]
            print(f"\nOne new event to the contact's updated memberships ({len(b)} samples):\n")
            print("| measure | Bellwether (`/v1/track`, ack = durable + re-evaluated) "
                  "| DuckDB (insert + the SQL for the contact's account) | ratio |")
            print("|---|---|---|---|")
            for name, q in (("p50", 0.5), ("p99", 0.99)):
                bq, dq = stats.quantile(b, q), stats.quantile(d, q)
                print(f"| {name} | {ms(bq)} | {ms(dq)} | {bq / dq:.3f}× |")


if __name__ == "__main__":
    main()
