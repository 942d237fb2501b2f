"""Nightly benchmark (QUALITY.md "Performance"; not a test): our D-01 review scan against the bare SQL.

On the database of bench/generate.py, for one day, in one process and one database session:

(a) ours: the real D-01 scan, called as `manage.py run_nightly` calls it
    (`nightly.scan_run(scan, on)` for the D-01 entry of `nightly.SCANS`);
(b) bare: one hand-written INSERT ... SELECT ... ON CONFLICT DO NOTHING that finds the same due plans and
    writes the same reminders and notifications (the assignee's, and the team leads' at the first stage 14
    or more days overdue), straight on the psycopg connection.

Both run alternately (ours first in even rounds, bare first in odd ones) after one untimed warm-up each,
always from the same state: after every run the rows it created are deleted, the two tables vacuumed and a
CHECKPOINT taken (untimed), so both sides see the same indexes, the same free space, a warm cache and pay the
same full-page writes. Before each timed call the garbage collector runs. The warm-up runs check that both
sides create exactly the same reminders and notifications (every column that a scan sets). Then the second
run: ours again on top of its own first run must create nothing, timed the same way (and bare's second run
for comparison).

    .venv/bin/python bench/nightly_bench.py [--db kp_bench] [--date 2026-12-01] [--rounds 11] [--explain] [--write]

--explain writes EXPLAIN (ANALYZE, BUFFERS) of both statements to bench/data/nightly_explain.txt (rolled
back); --write replaces the "Nightly (D-01)" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _setup(db: str) -> None:
    os.environ["DATABASE_URL"] = f"{os.environ.get('BENCH_PG', 'postgres://postgres@127.0.0.1:5432')}/{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_TESTING", "1")  # no secret key needed
    import django

    django.setup()


TARGET = 2.0

# The bare statement: nothing generic, the D-01 lead times written out (checked against rules.deadlines).
BARE_SQL = """
WITH due AS (
    SELECT p.id AS plan_id, p.case_id, c.responsible_id, p.review_due,
           CASE WHEN p.review_due <= %(on)s THEN p.review_due + ((%(on)s - p.review_due) / 7) * 7
                WHEN p.review_due - 7 <= %(on)s THEN p.review_due - 7
                ELSE p.review_due - 28 END AS remind_on
    FROM kooperationsplan_kooperationsplan p
    JOIN cases_case c ON c.id = p.case_id
    WHERE p.status IN ('ACTIVE', 'UNDER_REVIEW') AND c.closed_on IS NULL AND p.review_due <= %(on)s + 28
), new AS (
    INSERT INTO kooperationsplan_reminder
        (case_id, assignee_id, kind, subject_type, subject_id, due_on, remind_on, rule_id, status)
    SELECT case_id, responsible_id, 'D01_REVIEW', 'kooperationsplan.Kooperationsplan', plan_id, review_due,
           remind_on, 'R-FS-1', 'OPEN'
    FROM due
    ON CONFLICT DO NOTHING
    RETURNING id, case_id, assignee_id, subject_id, due_on, remind_on
), notes AS (
    INSERT INTO kooperationsplan_notification (user_id, case_id, reminder_id, message)
    SELECT assignee_id, case_id, id,
           CASE WHEN remind_on <= due_on THEN %(pre_a)s || to_char(due_on, 'DD.MM.YYYY') || %(pre_b)s
                ELSE %(over_a)s || to_char(due_on, 'DD.MM.YYYY') || %(over_b)s END
    FROM new
    UNION ALL
    SELECT tl.id, n.case_id, n.id, %(lead_a)s || to_char(n.due_on, 'DD.MM.YYYY') || %(lead_b)s
    FROM new n
    JOIN cases_case c ON c.id = n.case_id
    JOIN cases_user tl ON tl.team_id = c.team_id AND tl.role = 'TL' AND tl.is_active AND tl.id <> n.assignee_id
    WHERE n.remind_on >= n.due_on + 14
      AND NOT EXISTS (
          SELECT 1 FROM kooperationsplan_reminder e
          WHERE e.subject_type = 'kooperationsplan.Kooperationsplan' AND e.subject_id = n.subject_id
            AND e.kind = 'D01_REVIEW' AND e.due_on = n.due_on AND e.remind_on >= n.due_on + 14)
    ON CONFLICT DO NOTHING
    RETURNING id
)
SELECT (SELECT count(*) FROM new), (SELECT count(*) FROM notes)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="kp_bench")
    parser.add_argument("--date", type=date.fromisoformat, help="scan day (default: the generator's day)")
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--write", action="store_true", help="write the result to bench/RESULTS.md")
    args = parser.parse_args()
    meta_path = DATA / f"{args.db}.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    on: date = args.date or date.fromisoformat(meta["day"])
    _setup(args.db)

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kooperationsplan import nightly
    from rules import deadlines as dl

    if (dl.D01_LEAD_DAYS, dl.D01_OVERDUE_EVERY_DAYS, dl.D01_TEAM_LEAD_AFTER_DAYS) != ((28, 7, 0), 7, 14):
        sys.exit("rules.deadlines changed the D-01 lead times: update BARE_SQL first.")
    scan = next(scan for scan in nightly.SCANS if scan.run is nightly.d01_review)

    def texts(template: str, name: str) -> dict[str, str]:
        before, _, after = template.partition("{due}")
        return {f"{name}_a": before, f"{name}_b": after}

    bare_params = {
        "on": on,
        **texts(nightly.D01_PRE, "pre"),
        **texts(nightly.D01_OVERDUE, "over"),
        **texts(nightly.D01_TEAM_LEAD, "lead"),
    }
    connection.ensure_connection()
    raw = connection.connection  # the same psycopg session Django uses (autocommit)

    def scalar(sql: str, params: dict | None = None):
        with raw.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()

    watermark_r = scalar("SELECT coalesce(max(id), 0) FROM kooperationsplan_reminder")[0]
    watermark_n = scalar("SELECT coalesce(max(id), 0) FROM kooperationsplan_notification")[0]
    if scalar(
        "SELECT count(*) FROM kooperationsplan_reminder WHERE kind = 'D01_REVIEW' AND created_at::date >= %(on)s",
        {"on": on},
    )[0]:
        sys.exit(f"The database already has D-01 reminders of {on}: regenerate it (bench/generate.py).")

    def reset() -> None:
        with raw.cursor() as cursor:
            cursor.execute("DELETE FROM kooperationsplan_notification WHERE id > %s", [watermark_n])
            cursor.execute("DELETE FROM kooperationsplan_reminder WHERE id > %s", [watermark_r])
            cursor.execute("VACUUM (ANALYZE) kooperationsplan_notification, kooperationsplan_reminder")
            cursor.execute("CHECKPOINT")

    def ours() -> tuple[int, int]:
        result = nightly.scan_run(scan, on)
        return result.reminders, result.notifications

    def bare() -> tuple[int, int]:
        with raw.cursor() as cursor:
            cursor.execute(BARE_SQL, bare_params)
            reminders, notes = cursor.fetchone()
        return reminders, notes

    def timed(call) -> tuple[float, tuple[int, int]]:
        gc.collect()
        start = time.perf_counter()
        created = call()
        return time.perf_counter() - start, created

    def created_rows() -> tuple[set, set]:
        with raw.cursor() as cursor:
            cursor.execute(
                """SELECT case_id, assignee_id, kind, subject_type, subject_id, due_on, remind_on, rule_id, status,
                          done_at FROM kooperationsplan_reminder WHERE id > %s""",
                [watermark_r],
            )
            reminders = set(cursor.fetchall())
            cursor.execute(
                """SELECT n.user_id, n.case_id, r.subject_id, r.due_on, r.remind_on, n.message, n.key, n.read_at,
                          n.emailed_at
                   FROM kooperationsplan_notification n JOIN kooperationsplan_reminder r ON r.id = n.reminder_id
                   WHERE n.id > %s""",
                [watermark_n],
            )
            notes = set(cursor.fetchall())
        return reminders, notes

    print(f"D-01 am {on:%d.%m.%Y} auf {args.db}: Aufwärmen und Vergleich …", flush=True)
    reset()
    ours_created = ours()
    ours_rows = created_rows()
    reset()
    bare_created = bare()
    bare_rows = created_rows()
    reset()
    same = ours_rows == bare_rows and ours_created == bare_created
    print(
        f"  unser Scan: {ours_created[0]:,} Erinnerungen, {ours_created[1]:,} Benachrichtigungen; "
        f"reines SQL: {bare_created[0]:,} / {bare_created[1]:,}; gleiche Zeilen: {'ja' if same else 'NEIN'}"
    )
    if not same:
        print(
            f"  nur unser Scan: {len(ours_rows[0] - bare_rows[0])} Erinnerungen, "
            f"{len(ours_rows[1] - bare_rows[1])} Benachrichtigungen"
        )
        print(
            f"  nur reines SQL: {len(bare_rows[0] - ours_rows[0])} Erinnerungen, "
            f"{len(bare_rows[1] - ours_rows[1])} Benachrichtigungen"
        )
        sys.exit(1)

    times: dict[str, list[float]] = {"ours": [], "bare": []}
    for round_number in range(args.rounds):
        pair = [("ours", ours), ("bare", bare)]
        for name, call in pair if round_number % 2 == 0 else reversed(pair):
            elapsed, created = timed(call)
            if created != ours_created:
                sys.exit(f"round {round_number}: {name} created {created}, expected {ours_created}")
            times[name].append(elapsed)
            reset()
        print(
            f"  Runde {round_number + 1}: unser {times['ours'][-1] * 1000:.0f} ms, "
            f"rein {times['bare'][-1] * 1000:.0f} ms",
            flush=True,
        )

    # The second run: on top of a first run, nothing new; each side on top of its own first run.
    second: dict[str, list[float]] = {"ours": [], "bare": []}
    for name, call in (("ours", ours), ("bare", bare)):
        call()
        for _ in range(args.rounds):
            elapsed, created = timed(call)
            if created != (0, 0):
                sys.exit(f"second run of {name} created {created}")
            second[name].append(elapsed)
        reset()
    # Twice at once is T12 (tests); here the same two runs interleaved once more, for the record.
    interleaved = []
    ours()
    for round_number in range(args.rounds):
        pair = [("ours", ours), ("bare", bare)]
        for name, call in pair if round_number % 2 == 0 else reversed(pair):
            elapsed, created = timed(call)
            if created != (0, 0):
                sys.exit(f"second run ({name}) created {created}")
            interleaved.append((name, elapsed))
    reset()
    second_interleaved = {name: statistics.median(t for n, t in interleaved if n == name) for name in ("ours", "bare")}

    explain_file = None
    if args.explain:
        explain_file = DATA / "nightly_explain.txt"
        with CaptureQueriesContext(connection) as captured:
            ours()
        reset()
        our_sql = [query["sql"] for query in captured.captured_queries]
        lines = []
        for label, sql, params in [
            *((f"unser Scan, Anweisung {i + 1}", s, None) for i, s in enumerate(our_sql)),
            ("reines SQL", BARE_SQL, bare_params),
        ]:
            with raw.cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, VERBOSE) " + sql, params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                cursor.execute("ROLLBACK")
            lines += [f"=== {label}", sql.strip(), "", plan, ""]
        reset()
        explain_file.write_text("\n".join(lines))

    med_ours, med_bare = statistics.median(times["ours"]), statistics.median(times["bare"])
    ratio = med_ours / med_bare
    paired = statistics.median(o / b for o, b in zip(times["ours"], times["bare"], strict=True))
    med2_ours, med2_bare = statistics.median(second["ours"]), statistics.median(second["bare"])
    plans = scalar("SELECT count(*) FROM kooperationsplan_kooperationsplan")[0]
    current = scalar(
        "SELECT count(*) FROM kooperationsplan_kooperationsplan WHERE status IN ('ACTIVE', 'UNDER_REVIEW')"
    )[0]
    history = scalar("SELECT count(*) FROM kooperationsplan_reminder")[0]
    verdict = "erfüllt" if ratio <= TARGET else "NICHT erfüllt"
    faster = "ja" if med2_ours < med_ours else "NEIN"
    lines = [
        f"- Daten: {plans:,} Pläne ({current:,} aktuell), {history:,} Erinnerungen aus früheren Läufen; "
        f"Stichtag {on:%d.%m.%Y}",
        f"- Erster Lauf: {ours_created[0]:,} Erinnerungen und {ours_created[1]:,} Benachrichtigungen, "
        "bei beiden Seiten zeilengleich geprüft",
        f"- Runden: {args.rounds} je Seite, abwechselnd, nach je 1 Aufwärmlauf; vor jedem Lauf derselbe Stand "
        "(angelegte Zeilen gelöscht, VACUUM, CHECKPOINT, ungezählt)",
        f"- Median unser Scan (`nightly.scan_run`, D-01): {med_ours * 1000:.0f} ms",
        f"- Median reines SQL (INSERT … SELECT … ON CONFLICT DO NOTHING): {med_bare * 1000:.0f} ms",
        f"- Verhältnis der Mediane: {ratio:.2f} (Ziel ≤ {TARGET:g}): {verdict}; "
        f"Median der Verhältnisse je Runde: {paired:.2f}",
        f"- Zweiter Lauf: legt nichts an (0 / 0); Median unser Scan {med2_ours * 1000:.0f} ms, "
        f"reines SQL {med2_bare * 1000:.0f} ms (abwechselnd gemessen: {second_interleaved['ours'] * 1000:.0f} / "
        f"{second_interleaved['bare'] * 1000:.0f} ms); schneller als der erste Lauf: {faster}",
        f"- Maschine: {platform.machine()}, {os.cpu_count()} Kerne (mit anderen geteilt), Python "
        f"{platform.python_version()}, PostgreSQL {connection.pg_version // 10000}, Last (1 min) "
        f"{os.getloadavg()[0]:.1f}",
    ]
    print("\n".join(lines))
    if explain_file:
        print(f"EXPLAIN ANALYZE: {explain_file}")
    if args.write:
        from results import write_section

        command = "    .venv/bin/python bench/nightly_bench.py " + " ".join(sys.argv[1:])
        write_section(
            "Nightly (D-01)", [f"Gemessen am {time.strftime('%d.%m.%Y %H:%M')} mit:", "", command, "", *lines]
        )


if __name__ == "__main__":
    main()
