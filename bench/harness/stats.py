"""Min / median / max and quantiles, and the machine the figures come from."""

import os
import platform
import statistics


def spread(values):
    return min(values), statistics.median(values), max(values)


def quantile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def total_memory() -> int:
    """The machine's memory, in bytes."""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return 0


def duckdb_config() -> dict:
    """Each in-process DuckDB gets a third of the memory: two of them (the
    hand-written and the compiled SQL) plus the harness share one process,
    and each would take 80% by default, so at 30M events the process was
    killed for want of memory instead of DuckDB spilling to disk."""
    return {"memory_limit": f"{total_memory() // 3 // 2**20}MB"}


def machine() -> str:
    memory = total_memory()
    return (
        f"{os.cpu_count()} cores, {memory / 2**30:.0f} GiB RAM, "
        f"{platform.system()} {platform.machine()}, Python {platform.python_version()}"
    )


def fmt_seconds(s: float) -> str:
    if s < 1:
        return f"{s * 1000:.0f} ms"
    return f"{s:.2f} s"


def fmt_spread(values, unit=fmt_seconds) -> str:
    return " / ".join(unit(v) for v in spread(values))
