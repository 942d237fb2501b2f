"""Writing one section of bench/RESULTS.md, keeping the others (the same rule as letters_bench.py)."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(title: str, lines: list[str]) -> None:
    """Replace the section "## <title>" (up to the next "## ") with `lines`, or append it."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    heading = f"## {title}"
    section = "\n".join([heading, "", *lines, ""])
    start = text.find(heading + "\n")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1 :] if end != -1 else "")
    RESULTS.write_text(text, encoding="utf-8")
