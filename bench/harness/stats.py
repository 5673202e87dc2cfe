"""Min / median / max and quantiles, and the machine the figures come from."""

import os
import platform
import statistics


def spread(values):
    return min(values), statistics.median(values), max(values)


def quantile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def machine() -> str:
    memory = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
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
