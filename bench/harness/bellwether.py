"""Bellwether's side: generate data, import it (the load), and time
`bellwether eval` (reads the store into memory, then evaluates)."""

import re
import subprocess
import time
from pathlib import Path

EVAL_SPLIT = re.compile(r"load ([\d.]+) ms, evaluate ([\d.]+) ms")


class Bellwether:
    name = "Bellwether"

    def __init__(self, binary: Path, config: Path):
        self.binary = binary
        self.config = config

    def run(self, *args, capture=True):
        done = subprocess.run(
            [str(self.binary), *map(str, args)], capture_output=capture, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"bellwether {' '.join(map(str, args))} failed:\n{done.stderr}")
        return done

    def version(self) -> str:
        return self.run("--version").stdout.strip()

    def generate(self, out: Path, seed: int, events: int, contacts: int, end: str):
        if out.exists():
            return
        partial = out.with_suffix(".partial")
        self.run("gen", "--seed", seed, "--events", events, "--contacts", contacts,
                 "--end", end, "--out", partial)
        partial.rename(out)

    def load(self, ndjson: Path, data_dir: Path) -> float:
        """`bellwether import` into a fresh store; seconds."""
        started = time.perf_counter()
        self.run("import", ndjson, "--config", self.config, "--data", data_dir)
        return time.perf_counter() - started

    def evaluate(self, data_dir: Path, at: str, out_dir: Path, whole: bool = False):
        """One `bellwether eval` run: (wall seconds, load ms, evaluate ms).
        `whole`: with the engine snapshot (an import leaves one) set aside,
        so the store is read whole."""
        snapshot = data_dir / "engine.snapshot"
        aside = data_dir / "engine.snapshot.aside"
        if whole and snapshot.exists():
            snapshot.rename(aside)
        try:
            started = time.perf_counter()
            done = self.run(
                "eval", "--config", self.config, "--data", data_dir, "--at", at,
                "--out", out_dir / "members.csv", "--scores", out_dir / "scores.csv",
                "--tiers", out_dir / "tiers.csv",
            )
            wall = time.perf_counter() - started
        finally:
            if aside.exists():
                aside.rename(snapshot)
        split = EVAL_SPLIT.search(done.stderr)
        if not split:
            raise RuntimeError(f"unexpected eval output: {done.stderr}")
        return wall, float(split.group(1)) / 1000, float(split.group(2)) / 1000

    def export(self, data_dir: Path, out: Path) -> float:
        """`bellwether export` of the store as bellwether_events; seconds."""
        started = time.perf_counter()
        self.run("export", "--config", self.config, "--data", data_dir, "--out", out)
        return time.perf_counter() - started
