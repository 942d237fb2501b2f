"""Pages benchmark (QUALITY.md "Performance"; not a test): worklist, case page and KP editor with 1M plans.

On the database of bench/generate.py, a logged-in IFK (the generator's benchmark user, ~200 cases in a team
of 10) requests through Django's test Client (full middleware: session saved on every request, auth,
LoginRequiredMiddleware, axes, pghistory context, security headers; DEBUG off):

- /arbeitsplatz/ (worklist), /faelle/<id>/ (case page), /faelle/<id>/kp/<draft>/bearbeiten/ (KP editor on
  the draft of a Fortschreibung, i.e. the editable form with the measure catalogue),
- and, in the same run, trivial views: "leer", a logged-in view answering a constant text (everything but
  the page itself), "layout", a logged-in view rendering the site's base.html with an empty content block
  (session, auth, header with the user's team and the notification badge), and /health/ (public, SELECT 1).

The target's "trivial Django view" is "leer" (bench/RESULTS.md, "Pages: Befund"); the ratio to "layout" is
reported as well: it shows what a page adds to the frame every page of the application carries.

All views alternate in a rotating order, N rounds after 3 warm-up rounds; medians are compared. The
garbage collector runs before each timed request. The query count of each page is taken once, untimed.

    .venv/bin/python bench/pages_bench.py [--db kp_bench] [--rounds 31] [--profile] [--write]

--profile: where the time of each view goes (database, templates, the rest; printed and written with the
result), cProfile of each page (bench/data/pages_profile_<page>.txt) and EXPLAIN (ANALYZE, BUFFERS) of every
query of the page (bench/data/pages_explain_<page>.txt), slowest first.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import re
import shlex
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

TARGET = 3.0
PGHISTORY_CONTEXT = re.compile(r"^SELECT set_config\('pghistory\.context_id'.*?, true\); ", re.S)
WARMUP = 3

# --- The trivial views, mounted in front of the project's URLs (ROOT_URLCONF = "pages_bench") ----------

if __name__ != "__main__":  # imported as the URLconf, after django.setup()
    from django.http import HttpRequest, HttpResponse
    from django.template import engines
    from django.urls import path

    import config.urls

    def bench_empty(request: HttpRequest) -> HttpResponse:
        return HttpResponse("leer", content_type="text/plain; charset=utf-8")

    LAYOUT = engines["django"].from_string(
        '{% extends "base.html" %}{% block title %}Leer{% endblock %}{% block content %}<p>leer</p>{% endblock %}'
    )

    def bench_layout(request: HttpRequest) -> HttpResponse:
        return HttpResponse(LAYOUT.render({}, request))

    urlpatterns = [
        path("bench/leer/", bench_empty, name="bench_empty"),
        path("bench/layout/", bench_layout, name="bench_layout"),
        *config.urls.urlpatterns,
    ]
    handler400 = config.urls.handler400
    handler403 = config.urls.handler403
    handler404 = config.urls.handler404
    handler500 = config.urls.handler500


def breakdown(get, names: list[str], rounds: int) -> dict[str, tuple[float, float, float, float]]:
    """Median (total, database, templates, rest) in seconds per view, from extra instrumented rounds (not the
    timed ones): database is the time inside cursor.execute (sending, PostgreSQL, receiving the rows),
    templates the outermost template render without the database time of the queries it runs (the header's
    team and badge), rest everything else (middleware, building the ORM queries, forms, rules, building the
    model instances). Each part is its own median, so the parts add up to the total only roughly."""
    from django.db import connection
    from django.template.backends.django import Template

    spent = {"db": 0.0, "template": 0.0, "db_in_template": 0.0}
    depth = {"template": 0}

    def timed_execute(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - start
            spent["db"] += elapsed
            if depth["template"]:
                spent["db_in_template"] += elapsed

    render = Template.render

    def timed_render(self, *args, **kwargs):
        depth["template"] += 1
        start = time.perf_counter()
        try:
            return render(self, *args, **kwargs)
        finally:
            depth["template"] -= 1
            if not depth["template"]:
                spent["template"] += time.perf_counter() - start

    samples: dict[str, list[tuple[float, float, float, float]]] = {name: [] for name in names}
    Template.render = timed_render
    try:
        with connection.execute_wrapper(timed_execute):
            for _ in range(rounds):
                for name in names:
                    spent.update(db=0.0, template=0.0, db_in_template=0.0)
                    gc.collect()
                    start = time.perf_counter()
                    get(name)
                    total = time.perf_counter() - start
                    template = spent["template"] - spent["db_in_template"]
                    samples[name].append((total, spent["db"], template, total - spent["db"] - template))
    finally:
        Template.render = render
    return {
        name: tuple(statistics.median(sample[part] for sample in values) for part in range(4))  # type: ignore[misc]
        for name, values in samples.items()
    }


def _setup(db: str) -> None:
    os.environ["DATABASE_URL"] = f"{os.environ.get('BENCH_PG', 'postgres://postgres@127.0.0.1:5432')}/{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_TESTING", "1")  # no secret key; production settings otherwise (DEBUG off)
    import django
    from django.conf import settings

    settings.ROOT_URLCONF = "pages_bench"
    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="kp_bench")
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--write", action="store_true", help="write the result to bench/RESULTS.md")
    parser.add_argument("--section", default="Pages", help="the section of bench/RESULTS.md to (re)write")
    args = parser.parse_args()
    meta = json.loads((DATA / f"{args.db}.json").read_text())
    _setup(args.db)

    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from cases.models import User

    user = User.objects.select_related("team").get(pk=meta["bench_user_id"])
    case_id, draft_id = meta["sample_case_id"], meta["sample_draft_plan_id"]
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    views = {
        "leer": "/bench/leer/",
        "layout": "/bench/layout/",
        "health": "/health/",
        "worklist": "/arbeitsplatz/",
        "case": f"/faelle/{case_id}/",
        "editor": f"/faelle/{case_id}/kp/{draft_id}/bearbeiten/",
    }
    pages = ("worklist", "case", "editor")
    labels = {
        "leer": "trivial: angemeldet, konstante Antwort",
        "layout": "trivial: angemeldet, base.html leer",
        "health": "/health/ (öffentlich, SELECT 1)",
        "worklist": "Arbeitsplatz /arbeitsplatz/",
        "case": f"Fallseite /faelle/{case_id}/",
        "editor": f"KP-Editor /faelle/{case_id}/kp/{draft_id}/bearbeiten/ (Entwurf)",
    }

    def get(name: str):
        response = client.get(views[name])
        if response.status_code != 200:
            sys.exit(f"{views[name]}: HTTP {response.status_code}")
        return response

    sizes, queries = {}, {}
    for name in views:
        with CaptureQueriesContext(connection) as captured:
            content = get(name).content
        sizes[name] = len(content)
        queries[name] = captured.captured_queries

    names = list(views)
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(WARMUP + args.rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            start = time.perf_counter()
            get(name)
            elapsed = time.perf_counter() - start
            if round_number >= WARMUP:
                times[name].append(elapsed)
    medians = {name: statistics.median(values) for name, values in times.items()}

    parts: dict[str, tuple[float, float, float, float]] = {}
    if args.profile:
        parts = breakdown(get, [name for name in names if name != "health"], 21)
        for name in pages:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(10):
                get(name)
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
            (DATA / f"pages_profile_{name}.txt").write_text(out.getvalue())
            explained = []
            for query in queries[name]:
                # pghistory puts its context in front of statements that are not a SELECT (EXECUTE too).
                sql = PGHISTORY_CONTEXT.sub("", query["sql"])
                if not sql.lstrip().upper().startswith(("SELECT", "EXECUTE")):
                    explained.append((0.0, sql, "(kein SELECT, nicht erklärt)"))
                    continue
                # EXPLAIN ANALYZE runs the statement: in a transaction that is rolled back (the case page's
                # statement writes its access-log row).
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                    transaction.set_rollback(True)
                total = float(plan.rsplit("Execution Time: ", 1)[1].split(" ms")[0])
                explained.append((total, sql, plan))
            explained.sort(key=lambda item: -item[0])
            (DATA / f"pages_explain_{name}.txt").write_text(
                "\n\n".join(f"=== {ms:.2f} ms\n{sql}\n\n{plan}" for ms, sql, plan in explained)
            )

    base, layout = medians["leer"], medians["layout"]
    lines = [
        f"- Daten: {meta['counts']['kooperationsplan_kooperationsplan']:,} Pläne, "
        f"{meta['counts']['cases_elb']:,} eLb/Fälle, {meta['counts']['kooperationsplan_reminder']:,} Erinnerungen, "
        f"{meta['counts']['kooperationsplan_notification']:,} Benachrichtigungen (Datenbank {args.db}); angemeldet "
        f"als IFK {user.username} (Team {user.team.name}, {user.responsible_cases.count()} Fälle)",
        f"- Runden: {args.rounds} je Ansicht, reihum in wechselnder Reihenfolge, nach {WARMUP} Aufwärmrunden; "
        "Django-Testclient, volle Middleware, DEBUG aus",
        "- „leer“: angemeldete Ansicht mit konstanter Antwort (Session, Auth, Middleware, sonst nichts); "
        "„layout“: dieselbe mit base.html und leerem Inhalt (Kopfzeile mit Benachrichtigungs-Badge)",
        "",
        "| Ansicht | Median | Abfragen | Größe | × leer | × layout |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in names:
        lines.append(
            f"| {labels[name]} | {medians[name] * 1000:.1f} ms | {len(queries[name])} | {sizes[name] / 1024:.0f} KiB "
            f"| {medians[name] / base:.2f} | {medians[name] / layout:.2f} |"
        )
    lines.append("")
    lines.append(f"Ziel: Seite ≤ {TARGET:g} × trivialer Ansicht („leer“); „layout“ zur Einordnung.")
    lines.append("")
    for name in pages:
        against_empty = medians[name] / base
        verdict = "erfüllt" if against_empty <= TARGET else "NICHT erfüllt"
        lines.append(
            f"- {labels[name]}: {against_empty:.1f} × leer: {verdict} ({medians[name] / layout:.1f} × layout, "
            f"{'≤' if medians[name] / layout <= TARGET else '>'} {TARGET:g})"
        )
    if parts:
        lines += [
            "",
            "Wohin die Zeit geht (--profile, Mediane aus 21 weiteren Runden; Datenbank: Zeit in cursor.execute, "
            "Vorlagen: ohne die Datenbankzeit der Abfragen, die sie auslösen, Rest: Middleware, ORM-Abfragen bauen, "
            "Formulare, Regeln, Modellobjekte):",
            "",
            "| Ansicht | gesamt | Datenbank | Vorlagen | Rest |",
            "|---|---:|---:|---:|---:|",
            *(
                f"| {labels[name]} | " + " | ".join(f"{value * 1000:.1f} ms" for value in parts[name]) + " |"
                for name in parts
            ),
            "",
        ]
    lines.append(
        f"- Maschine: {platform.machine()}, {os.cpu_count()} Kerne (mit anderen geteilt), Python "
        f"{platform.python_version()}, PostgreSQL {connection.pg_version // 10000}, Last (1 min) "
        f"{os.getloadavg()[0]:.1f}"
    )
    lines.append("")
    print("\n".join(lines))
    if args.write:
        from results import write_section

        command = "    .venv/bin/python bench/pages_bench.py " + shlex.join(sys.argv[1:])
        write_section(args.section, [f"Gemessen am {time.strftime('%d.%m.%Y %H:%M')} mit:", "", command, "", *lines])


if __name__ == "__main__":
    main()
