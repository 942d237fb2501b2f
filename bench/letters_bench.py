"""Letters benchmark (QUALITY.md "Performance"; not a test): rendering a real letter through our service must
take at most 1.15x the time of WeasyPrint alone on the same HTML.

Both sides produce the same document: a 4-page Aufforderung § 15 Abs. 5 to a minor's gesetzliche Vertretung
with the copy to the minor (P5), tagged PDF/A-3a, the same stylesheet and FontConfiguration (parsed once, as
in a worker). "Ours" is `letters.rendering.render_letter_pdf` from the frozen snapshot, i.e. checks, HTML,
one layout per copy, joining, stable structure ids; "WeasyPrint alone" lays out the finished HTML once.
The two alternate, N rounds after a warm-up; medians are compared (one run, same machine state). Before each
timed call the garbage collector runs (untimed), so that one side's garbage is not collected on the other's
clock; the paired per-round ratio is reported too, because the machine is shared.

    .venv/bin/python bench/letters_bench.py [--rounds 15] [--write]

--write replaces the "Letters" section of bench/RESULTS.md with the result and this command.
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_TESTING", "1")  # no secret key needed
os.environ.setdefault("DATABASE_URL", "postgres://127.0.0.1/unused")  # nothing here touches the database

import django  # noqa: E402

django.setup()

import pypdf  # noqa: E402
import weasyprint  # noqa: E402
from weasyprint import HTML  # noqa: E402

from letters.rendering import (  # noqa: E402
    PDF_VARIANT,
    _weasyprint_setup,
    letter_title,
    render_letter_html,
    render_letter_pdf,
    static_url_fetcher,
)
from tests.letters.snapshots import recipients, snapshot  # noqa: E402

TARGET = 1.15
KIND = "AUFF_15_5"
NUMBER = "2026-0000042"


def sample() -> tuple[dict, list[dict]]:
    to = recipients(KIND, minor=True)
    return snapshot(KIND, minor=True), [to[0], to[-1]]  # one gesetzliche Vertretung and the copy to the minor


def ours(snap: dict, to: list[dict]) -> bytes:
    return render_letter_pdf(snap, kind=KIND, recipients=to, letter_number=NUMBER)


def weasyprint_alone(html: str) -> bytes:
    font_config, stylesheet = _weasyprint_setup()
    document = HTML(string=html, url_fetcher=static_url_fetcher).render(
        stylesheets=[stylesheet], font_config=font_config
    )
    document.metadata.title = letter_title(KIND, NUMBER)
    document.metadata.lang = "de"
    return document.write_pdf(pdf_variant=PDF_VARIANT)


def timed(call) -> float:
    # A garbage collection left over from the other side must not land in this measurement.
    gc.collect()
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--write", action="store_true", help="write the result to bench/RESULTS.md")
    args = parser.parse_args()

    snap, to = sample()
    html = render_letter_html(snap, kind=KIND, recipients=to, letter_number=NUMBER)
    for _ in range(2):  # warm-up: fonts, stylesheet, template cache
        ours(snap, to)
        weasyprint_alone(html)
    ours_times: list[float] = []
    alone_times: list[float] = []
    for round_number in range(args.rounds):
        pair = [("ours", lambda: ours(snap, to)), ("alone", lambda: weasyprint_alone(html))]
        for name, call in pair if round_number % 2 == 0 else reversed(pair):
            (ours_times if name == "ours" else alone_times).append(timed(call))
    pages_ours = len(pypdf.PdfReader(io.BytesIO(ours(snap, to))).pages)
    pages_alone = len(pypdf.PdfReader(io.BytesIO(weasyprint_alone(html))).pages)
    median_ours, median_alone = statistics.median(ours_times), statistics.median(alone_times)
    ratio = median_ours / median_alone
    # The machine is shared: the paired ratio (same round) shows how much of the difference is load drift.
    paired = statistics.median(o / a for o, a in zip(ours_times, alone_times, strict=True))
    verdict = "erfüllt" if ratio <= TARGET else "NICHT erfüllt"
    lines = [
        f"- Schreiben: {KIND}, {pages_ours} Seiten (WeasyPrint allein: {pages_alone}), PDF/A-3a, 2 Ausfertigungen (P5)",
        f"- Runden: {args.rounds} je Seite, abwechselnd, nach 2 Aufwärmrunden",
        f"- Median unser Dienst (render_letter_pdf): {median_ours * 1000:.0f} ms",
        f"- Median WeasyPrint {weasyprint.__version__} allein, gleiches HTML: {median_alone * 1000:.0f} ms",
        f"- Verhältnis der Mediane: {ratio:.3f} (Ziel ≤ {TARGET}): {verdict}",
        f"- Median der Verhältnisse je Runde: {paired:.3f}",
        f"- Maschine: {platform.machine()}, {os.cpu_count()} Kerne, Python {platform.python_version()}, "
        f"Last (1 min) {os.getloadavg()[0]:.1f}",
    ]
    print("\n".join(lines))
    if args.write:
        write_results(lines, args.rounds)


def write_results(lines: list[str], rounds: int) -> None:
    path = ROOT / "bench" / "RESULTS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    section = "\n".join(
        [
            "## Letters",
            "",
            f"Gemessen am {time.strftime('%d.%m.%Y %H:%M')} mit:",
            "",
            f"    .venv/bin/python bench/letters_bench.py --rounds {rounds} --write",
            "",
            *lines,
            "",
        ]
    )
    start = text.find("## Letters")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1 :] if end != -1 else "")
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
