#!/usr/bin/env python3
"""Memory per event on data shaped like real SDK traffic, which `gen`'s
tidy data hides. From one `gen` file it derives:

- `tidy`: the file as generated (an anonymous id only on identify calls
  and anonymous visits, page paths from a small site);
- `sdk`: every message of an identified user also carries its browser's
  anonymous id, as analytics.js sends it with every call;
- `unique`: every page view has a path and URL nobody else sent (a path
  the definitions read: blog slugs, query strings, order ids).

Each is imported, served once (the first start writes the snapshot), then
restarted three times: the resident memory after the last restart, less
an empty server's, per behavior event. Run it with two binaries to see a
change side by side:

    bench/shapes.py --events 1000000 --bellwether target/release/bellwether \\
        --baseline /path/to/older/bellwether
"""

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness.bellwether import Bellwether  # noqa: E402
from harness.server import Server  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
END = "2026-11-01T00:00:00Z"


def log(message):
    print(f"[shapes] {message}", file=sys.stderr, flush=True)


def derive(tidy: Path, sdk: Path, unique: Path):
    browsers = {}
    with open(tidy) as lines:
        for line in lines:
            m = json.loads(line)
            if m.get("userId") and m.get("anonymousId"):
                browsers[m["userId"]] = m["anonymousId"]
    pages = 0
    with open(tidy) as lines, open(sdk, "w") as sdk_out, open(unique, "w") as unique_out:
        for line in lines:
            m = json.loads(line)
            user = m.get("userId")
            if user in browsers and not m.get("anonymousId"):
                with_browser = dict(m, anonymousId=browsers[user])
                sdk_out.write(json.dumps(with_browser, separators=(",", ":")) + "\n")
            else:
                sdk_out.write(line)
            if m["type"] == "page":
                pages += 1
                path = f"{m['properties']['path']}/v{pages}"
                m["properties"].update(path=path, url=f"https://bellwether.example{path}")
                m.setdefault("context", {}).setdefault("page", {})["path"] = path
                unique_out.write(json.dumps(m, separators=(",", ":")) + "\n")
            else:
                unique_out.write(line)
    return pages


def behavior_events(path: Path) -> int:
    with open(path) as lines:
        return sum(1 for line in lines if json.loads(line)["type"] in ("track", "page", "screen"))


def measure(binary: Path, config: Path, data: Path, work: Path) -> dict:
    log_file = work / "serve.log"
    empty_dir = work / "empty"
    shutil.rmtree(empty_dir, ignore_errors=True)
    empty = Server(binary, config, empty_dir, log_file)
    time.sleep(1)
    empty_rss = empty.rss()
    empty.stop()
    first = Server(binary, config, data, log_file)
    first_start = first.ready_in
    first.stop()
    restarts = []
    for _ in range(3):
        server = Server(binary, config, data, log_file)
        time.sleep(2)
        restarts.append(server.ready_in)
        rss = server.rss()
        server.stop()
    return {"first": first_start, "restart": min(restarts), "grown": rss - empty_rss}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--bellwether", type=Path, default=ROOT / "target/release/bellwether")
    p.add_argument("--baseline", type=Path, help="an older binary, measured alike")
    p.add_argument("--config", type=Path, default=ROOT / "examples/b2b.toml")
    p.add_argument("--work", type=Path, default=ROOT / "bench/work/shapes")
    args = p.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    files = {name: args.work / f"{name}.ndjson" for name in ("tidy", "sdk", "unique")}
    bw = Bellwether(args.bellwether, args.config)
    log(f"generating {args.events:,} messages")
    bw.generate(files["tidy"], args.seed, args.events, args.events // 100, END)
    pages = derive(files["tidy"], files["sdk"], files["unique"])
    events = behavior_events(files["tidy"])
    binaries = [("this", args.bellwether)] + ([("baseline", args.baseline)] if args.baseline else [])
    rows = []
    for shape, source in files.items():
        for label, binary in binaries:
            data = args.work / f"{shape}-{label}"
            shutil.rmtree(data, ignore_errors=True)
            log(f"{shape}: importing and serving with {label} ({binary})")
            Bellwether(binary, args.config).load(source, data)
            rows.append((shape, label, measure(binary, args.config, data, args.work)))
            shutil.rmtree(data, ignore_errors=True)
    print(f"\n{args.events:,} messages, {events:,} behavior events ({pages:,} page views)\n")
    print("| data | binary | first start | restart | memory after a restart, over an empty server |")
    print("|---|---|---|---|---|")
    for shape, label, m in rows:
        print(f"| {shape} | {label} | {m['first']:.2f} s | {m['restart']:.2f} s | "
              f"{m['grown'] / 2**20:,.0f} MiB, {m['grown'] / events:,.0f} B per event |")


if __name__ == "__main__":
    main()
