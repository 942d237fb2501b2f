"""Pages benchmark (QUALITY.md "Performance"; not a test): worklist, case page and KP editor with 1M plans.

On the database of bench/generate.py, a logged-in IFK (the generator's benchmark user, ~200 cases in a team
of 10) requests through Django's test Client (full middleware: session saved on every request, auth,
LoginRequiredMiddleware, axes, pghistory context, security headers; DEBUG off):

- /arbeitsplatz/ (worklist), /faelle/<id>/ (case page), /faelle/<id>/kp/<draft>/bearbeiten/ (KP editor on
  the draft of a Fortschreibung, i.e. the editable form with the measure catalogue),
- and, in the same run, trivial views: "leer", a logged-in view answering a constant text (everything but
  the page itself), "layout", a logged-in view rendering the site's base.html with an empty content block
  (session, auth, header with the notification badge), and /health/ (public, SELECT 1).

All views alternate in a rotating order, N rounds after 3 warm-up rounds; medians are compared. The
garbage collector runs before each timed request. The query count of each page is taken once, untimed.

    .venv/bin/python bench/pages_bench.py [--db kp_bench] [--rounds 31] [--proposed] [--profile] [--write]

--proposed: the three pages once more in the same rounds with the changes proposed in bench/RESULTS.md
applied in this process only (functions swapped for the one request, then restored; no file is changed):
the user's own id and the covered colleagues' ids as one UNION subquery instead of `user = me OR user IN
(covered)` (notification badge, notification list, worklist cases), the editor's measure catalogue with
`pk IN (measures of this plan)` instead of a LEFT JOIN over all assignments with DISTINCT, and the case facts
computed once per case page instead of twice. Each patched page is checked to render the same HTML as the
original.

--profile: cProfile of each page (bench/data/pages_profile_<page>.txt) and EXPLAIN (ANALYZE, BUFFERS) of
every query of the page (bench/data/pages_explain_<page>.txt), slowest first.
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
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

TARGET = 3.0
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


def proposed_patches() -> list[tuple[object, str, object]]:
    """(module, attribute, replacement) for the changes proposed in RESULTS.md, applied only per request."""
    from django.db.models import Q

    from cases.models import Role, User
    from cases.selectors import case_list_visible
    from kooperationsplan import actions, editor, facts, notifications, selectors, worklist
    from kooperationsplan.editor import CatalogueEntry
    from kooperationsplan.models import Massnahme, MassnahmeZuweisung, Notification
    from kooperationsplan.notifications_cover import covered_user_ids

    def user_and_covered_ids(user, on):
        # `user_id IN (me UNION ALL covered)` can use the (user, …) indexes; `= me OR IN (covered)` cannot.
        return User.objects.filter(pk=user.pk).values("pk").union(covered_user_ids(user, on).order_by(), all=True)

    def notifications_visible(user, *, on):
        visible_cases = case_list_visible(user).values("pk")
        return Notification.objects.filter(
            Q(user_id__in=user_and_covered_ids(user, on)), Q(case__isnull=True) | Q(case__in=visible_cases)
        )

    def worklist_cases(user, *, on):
        cases = case_list_visible(user).filter(closed_on__isnull=True)
        if user.role != Role.TEAMLEITUNG:
            cases = cases.filter(responsible_id__in=user_and_covered_ids(user, on))
        return cases

    def measure_catalogue(plan):
        used = MassnahmeZuweisung.objects.filter(plan=plan).values("massnahme_id")
        rows = Massnahme.objects.filter(Q(active=True) | Q(pk__in=used)).select_related("art").order_by("title", "pk")
        return {
            row.pk: CatalogueEntry(row.pk, row.title, row.traeger_name, row.art.name, row.duration_weeks)
            for row in rows
        }

    original_case_facts = facts.case_facts

    def case_facts_once(case):
        # Stands for "compute the facts once in the view and pass them to case_header and case_next_actions".
        if getattr(case, "_bench_facts", None) is None:
            case._bench_facts = original_case_facts(case)
        return case._bench_facts

    return [
        (notifications, "notifications_visible", notifications_visible),
        (worklist, "worklist_cases", worklist_cases),
        (editor, "measure_catalogue", measure_catalogue),
        (selectors, "case_facts", case_facts_once),
        (actions, "case_facts", case_facts_once),
    ]


class Patched:
    def __init__(self, patches: list[tuple[object, str, object]]) -> None:
        self.patches, self.saved = patches, []

    def __enter__(self) -> None:
        self.saved = [(module, name, getattr(module, name)) for module, name, _ in self.patches]
        for module, name, replacement in self.patches:
            setattr(module, name, replacement)

    def __exit__(self, *exc: object) -> None:
        for module, name, original in self.saved:
            setattr(module, name, original)


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
    parser.add_argument("--proposed", action="store_true", help="also measure the proposed changes (in-process)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--write", action="store_true", help="write the result to bench/RESULTS.md")
    parser.add_argument("--section", default="Pages", help="the section of bench/RESULTS.md to (re)write")
    args = parser.parse_args()
    meta = json.loads((DATA / f"{args.db}.json").read_text())
    _setup(args.db)

    from django.db import connection
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

    variants: dict[str, Patched | None] = {name: None for name in views}
    if args.proposed:
        patches = proposed_patches()
        views["layout+fix"], labels["layout+fix"] = views["layout"], "trivial: base.html leer, mit Vorschlag (Badge)"
        variants["layout+fix"] = Patched(patches)
        for page in pages:
            views[page + "+fix"] = views[page]
            labels[page + "+fix"] = labels[page].split(" ")[0] + " mit Vorschlag"
            variants[page + "+fix"] = Patched(patches)

    def get(name: str):
        patched = variants[name]
        if patched is None:
            response = client.get(views[name])
        else:
            with patched:
                response = client.get(views[name])
        if response.status_code != 200:
            sys.exit(f"{views[name]}: HTTP {response.status_code}")
        return response

    import re

    def normalized(content: bytes) -> str:  # the CSRF token differs from request to request
        text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", content.decode())
        return re.sub(r'"X-CSRFToken": "[^"]+"', "", text)

    sizes, queries, html = {}, {}, {}
    for name in views:
        with CaptureQueriesContext(connection) as captured:
            content = get(name).content
        sizes[name] = len(content)
        html[name] = normalized(content)
        queries[name] = captured.captured_queries
    for name in views:
        original = name.split("+")[0]
        if original != name and html[name] != html[original]:
            sys.exit(f"{name}: the proposed change renders different HTML than {original}")

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

    if args.profile:
        for name in [name for name in names if name.split("+")[0] in pages]:
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
                sql = query["sql"]
                if not sql.lstrip().upper().startswith("SELECT"):
                    explained.append((0.0, sql, "(kein SELECT, nicht erklärt)"))
                    continue
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                total = float(plan.rsplit("Execution Time: ", 1)[1].split(" ms")[0])
                explained.append((total, sql, plan))
            explained.sort(key=lambda item: -item[0])
            (DATA / f"pages_explain_{name}.txt").write_text(
                "\n\n".join(f"=== {ms:.2f} ms\n{sql}\n\n{plan}" for ms, sql, plan in explained)
            )

    base = medians["leer"]

    def layout_of(name: str) -> str:  # the layout with the same code: the badge is on every page
        return "layout+fix" if "+fix" in name and "layout+fix" in medians else "layout"

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
            f"| {medians[name] / base:.2f} | {medians[name] / medians[layout_of(name)]:.2f} |"
        )
    lines.append("")
    lines.append(f"Ziel: Seite ≤ {TARGET:g} × trivialer Ansicht („leer“); „layout“ nur zur Einordnung.")
    lines.append("")
    for name in [name for name in names if name.split("+")[0] in pages]:
        against_empty = medians[name] / base
        verdict = "erfüllt" if against_empty <= TARGET else "NICHT erfüllt"
        lines.append(
            f"- {labels[name]}: {against_empty:.1f} × leer: {verdict} "
            f"({medians[name] / medians[layout_of(name)]:.1f} × {layout_of(name)})"
        )
    lines.append(
        f"- Maschine: {platform.machine()}, {os.cpu_count()} Kerne (mit anderen geteilt), Python "
        f"{platform.python_version()}, PostgreSQL {connection.pg_version // 10000}, Last (1 min) "
        f"{os.getloadavg()[0]:.1f}"
    )
    print("\n".join(lines))
    if args.write:
        from results import write_section

        command = "    .venv/bin/python bench/pages_bench.py " + " ".join(sys.argv[1:])
        write_section(args.section, [f"Gemessen am {time.strftime('%d.%m.%Y %H:%M')} mit:", "", command, "", *lines])


if __name__ == "__main__":
    main()
