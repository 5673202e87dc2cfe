"""Checks that every engine computed the same memberships, tier levels and
(within a tolerance) scores; lists the first differences."""

import csv
from collections import Counter
from pathlib import Path

SCORE_TOLERANCE = 1e-6


def read_csv(path: Path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return [tuple(r) for r in rows[1:]]


def normalize(results):
    """Rows as comparable values: segments and tiers as multisets of string
    tuples, scores as {(kind, id, name): value}."""
    scores = {}
    for kind, ident, name, value in results["scores"]:
        scores[(kind, ident, name)] = float(value)
    return {
        "segments": Counter(tuple(map(str, r)) for r in results["segments"]),
        "tiers": Counter(tuple(map(str, r)) for r in results["tiers"]),
        "scores": scores,
    }


def bellwether_results(members: Path, scores: Path, tiers: Path):
    return {
        "segments": read_csv(members),
        "scores": read_csv(scores),
        "tiers": read_csv(tiers),
    }


def differences(reference, other, limit=10):
    """Human-readable differences of `other` against `reference` (normalized)."""
    found = []
    for part in ("segments", "tiers"):
        missing = reference[part] - other[part]
        extra = other[part] - reference[part]
        found += [f"{part}: missing {row}" for row in sorted(missing)[:limit]]
        found += [f"{part}: extra {row}" for row in sorted(extra)[:limit]]
        if missing or extra:
            found.append(f"{part}: {sum(missing.values())} missing, {sum(extra.values())} extra in all")
    ref, oth = reference["scores"], other["scores"]
    for key in sorted(set(ref) | set(oth)):
        a, b = ref.get(key), oth.get(key)
        if a is None or b is None or abs(a - b) > SCORE_TOLERANCE:
            found.append(f"scores: {key} {a} vs {b}")
            if len([d for d in found if d.startswith("scores")]) >= limit:
                break
    return found


def summary(normalized):
    """Members per segment, for the report."""
    sizes = Counter(row[2] for row in normalized["segments"].elements())
    return dict(sorted(sizes.items()))


def read_csv_plain(path: Path):
    """Rows of a header-less CSV file."""
    with open(path, newline="") as f:
        return [tuple(r) for r in csv.reader(f)]
