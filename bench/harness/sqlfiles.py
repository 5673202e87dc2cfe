"""The hand-written SQL of one peer: files run in name order; each file's
statements end with `;` at the end of a line, and the last statement of a
scores (10_*), segment (20_*) or tier (30_*) file returns its rows."""

from pathlib import Path


def load(directory: Path):
    """[(file name, [statement, ...])] in run order."""
    files = []
    for path in sorted(directory.glob("*.sql")):
        text = "\n".join(
            line for line in path.read_text().splitlines() if not line.lstrip().startswith("--")
        )
        statements = [s.strip() for s in text.split(";\n") if s.strip().rstrip(";").strip()]
        files.append((path.name, [s.rstrip(";") for s in statements]))
    return files


def bind(statement: str, at_ms: int, contacts: str = "true", accounts: str = "true") -> str:
    return (
        statement.replace("{T}", str(at_ms))
        .replace("{CONTACTS}", contacts)
        .replace("{ACCOUNTS}", accounts)
    )


def kind_of(file_name: str):
    """`scores`, `segments`, `tiers`, or None for a file without rows."""
    return {"10": "scores", "20": "segments", "30": "tiers"}.get(file_name[:2])
