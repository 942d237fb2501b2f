"""Benchmark data (QUALITY.md "Performance"; not a test): a separate PostgreSQL database with N plans.

    .venv/bin/python bench/generate.py --plans 1000000 --db kp_bench [--day 2026-12-01]

Drops and recreates the database, migrates it with `manage.py migrate` (so schema, CHECK constraints,
partial indexes and the pghistory/append-only triggers are exactly the project's), and fills it with
INSERT ... SELECT over generate_series in one session with `session_replication_role = replica`: that
session fires no triggers (no pghistory events for synthetic rows, no FK triggers), every CHECK and
UNIQUE constraint is still enforced. Triggers are never disabled for anyone else; the next session has
them again. All data is synthetic (names from short lists, Kundennummer = a bijection of the case number).

Shape (N = --plans; N cases and N eLb, one case per eLb; per 20 cases 0,0,0,0,0 plans for five new cases,
1 plan for eleven, 2 versions for three, 3 versions for one, so N plans as well):
- IFK with about 200 cases each, 10 IFK and one Teamleitung per team, 12 teams per Jobcenter, one FA.
- 4 % of the cases with a plan are closed (plans ENDED); an eighth of the multi-version cases has a DRAFT
  (Fortschreibung) next to the current plan; a few single-plan cases have only a draft.
- Review dates (D-01) of current plans relative to the benchmark day D: 2 % overdue (up to 60 days),
  4 % due within 28 days, the rest later (up to 6 months): the D-01 windows hold a few % of all plans.
- Per plan: 4 content items, 2 steps, 1 Eigenbemühung; monthly Nachweise for current plans; a first
  appointment per case, review appointments, 11 % of current plans with a measure assignment;
  timeline events per case and plan.
- Reminder history as if the nightly job had run before: the D-01 reminders of the earlier stages of
  current plans (open) and of all past plans (done), with their notifications (mostly read). The stage
  each current plan is in on D is *not* there yet: that is what the D-01 scan creates on D.

Writes bench/data/<db>.json (day, counts, the benchmark user and sample case/plan ids) for the benchmarks.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")

CASES_PER_IFK = 200
IFK_PER_TEAM = 10
TEAMS_PER_JOBCENTER = 12
RULE_SET = "SGB2-KP-2023-07-01.1"
SUBJECT_PLAN = "kooperationsplan.Kooperationsplan"

FIRST_NAMES = [
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Elif",
    "Felix",
    "Greta",
    "Hannes",
    "Ida",
    "Jonas",
    "Karla",
    "Lukas",
    "Mia",
    "Noah",
    "Olga",
    "Paul",
    "Rosa",
    "Samuel",
    "Tara",
    "Uwe",
    "Vera",
    "Willi",
    "Yusuf",
    "Zoe",
    "Aylin",
    "Bernd",
    "Carla",
    "Dennis",
    "Emma",
    "Frank",
    "Gül",
    "Heike",
    "Igor",
    "Jana",
    "Kevin",
    "Lena",
    "Mehmet",
    "Nina",
    "Oskar",
    "Petra",
]
LAST_NAMES = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Braun",
    "Zimmermann",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Krause",
    "Meier",
    "Lehmann",
    "Schmid",
    "Schulze",
    "Maier",
    "Köhler",
    "Herrmann",
    "König",
    "Walter",
    "Mayer",
    "Huber",
    "Kaiser",
    "Fuchs",
    "Peters",
    "Lang",
    "Scholz",
    "Möller",
    "Weiß",
    "Jung",
    "Hahn",
    "Vogel",
    "Friedrich",
    "Keller",
    "Günther",
    "Frank",
    "Berger",
    "Winkler",
    "Roth",
    "Beck",
    "Lorenz",
    "Baumann",
    "Franke",
    "Albrecht",
    "Yilmaz",
]
STREETS = [
    "Lindenweg",
    "Ahornstraße",
    "Am Markt",
    "Bahnhofstraße",
    "Gartenstraße",
    "Schulweg",
    "Mühlenweg",
    "Kirchplatz",
    "Birkenallee",
    "Rosenstraße",
    "Feldweg",
    "Bergstraße",
    "Talstraße",
    "Wiesenweg",
    "Hauptstraße",
    "Waldstraße",
    "Brunnengasse",
    "Parkstraße",
]
BUNDESLAENDER = ["NW", "BY", "BW", "NI", "HE", "SN", "RP", "BE", "HH", "SH", "BB", "ST", "TH", "MV", "SL", "HB"]


def h(expr: str, salt: int, modulo: int) -> str:
    """A deterministic pseudo-random number 0..modulo-1 of an integer SQL expression (hashint8, no state)."""
    return f"mod(hashint8(({expr})::bigint * 64 + {salt})::bigint + 2147483648, {modulo})::int"


def sql_array(values: list[str]) -> str:
    return "ARRAY[" + ",".join("'" + value.replace("'", "''") + "'" for value in values) + "]"


def pick(values: list[str], expr: str, salt: int) -> str:
    return f"({sql_array(values)})[{h(expr, salt, len(values))} + 1]"


class Loader:
    def __init__(self, conn: psycopg.Connection, day: date) -> None:
        self.conn = conn
        self.day = day
        self.timings: list[tuple[str, int, float]] = []

    def run(self, label: str, sql: str) -> int:
        start = time.perf_counter()
        with self.conn.cursor() as cursor:
            cursor.execute(sql)
            rows = cursor.rowcount
        elapsed = time.perf_counter() - start
        self.timings.append((label, rows, elapsed))
        print(f"  {label:<46} {rows:>10,} Zeilen {elapsed:7.1f} s", flush=True)
        return rows

    def scalar(self, sql: str):
        with self.conn.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchone()[0]


def recreate_database(db: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')


def migrate(db: str) -> None:
    env = {**os.environ, "DATABASE_URL": f"{SERVER}/{db}", "DJANGO_TESTING": "1"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=1800
    )


def load(conn: psycopg.Connection, *, plans: int, day: date) -> dict:
    n = plans
    ifks = -(-n // CASES_PER_IFK)
    teams = -(-ifks // IFK_PER_TEAM)
    jobcenters = -(-teams // TEAMS_PER_JOBCENTER)
    d = f"DATE '{day.isoformat()}'"
    first_tl, first_ifk = 2, 2 + teams  # user ids: 1 = FA, then one TL per team, then the IFK
    load = Loader(conn, day)
    # Sessions of this connection only: no triggers (pghistory, FK), fast commits, room to sort.
    for setting in (
        "session_replication_role = replica",
        "synchronous_commit = off",
        "maintenance_work_mem = '512MB'",
        "work_mem = '256MB'",
        "TIME ZONE 'Europe/Berlin'",
    ):
        conn.execute(f"SET {setting}")

    load.run(
        "Jobcenter",
        f"""
        INSERT INTO cases_jobcenter (id, name, street, postal_code, city, phone, email, website, opening_hours,
            widerspruch_address, bundesland, followup_invitation_rfb, anhoerung_days, return_min_months,
            four_eyes_rfb_letters)
        SELECT j, 'Jobcenter Benchstadt ' || j, 'Am Amt ' || j, lpad((10000 + j)::text, 5, '0'),
               'Benchstadt ' || j, '0123 ' || j || '-0', 'kontakt' || j || '@jobcenter-bench.invalid', '',
               'Mo–Fr 8:00–12:30 Uhr', 'Jobcenter Benchstadt ' || j || E'\\nWiderspruchsstelle\\nAm Amt ' || j,
               ({sql_array(BUNDESLAENDER)})[mod(j - 1, 16) + 1], true, 14, 3, false
        FROM generate_series(1, {jobcenters}) j
        """,
    )
    load.run(
        "Teams",
        f"""
        INSERT INTO cases_team (id, name, jobcenter_id)
        SELECT t, 'Team ' || lpad(t::text, 4, '0'), (t - 1) / {TEAMS_PER_JOBCENTER} + 1
        FROM generate_series(1, {teams}) t
        """,
    )
    user_columns = (
        "id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined, "
        "role, phone, room, team_id"
    )
    load.run(
        "Mitarbeitende (FA, TL, IFK)",
        f"""
        INSERT INTO cases_user ({user_columns})
        SELECT 1, '!bench', false, 'fa.bench', 'Fach', 'Administration', 'fa@jobcenter-bench.invalid', true, true,
               now(), 'FA', '', '', NULL
        UNION ALL
        SELECT {first_tl} + t - 1, '!bench', false, 'tl.' || lpad(t::text, 4, '0'),
               {pick(FIRST_NAMES, "t", 1)}, {pick(LAST_NAMES, "t", 2)}, 'tl' || t || '@jobcenter-bench.invalid',
               false, true, now(), 'TL', '0123 ' || t || '-10', 'L ' || t, t
        FROM generate_series(1, {teams}) t
        UNION ALL
        SELECT {first_ifk} + i - 1, '!bench', false, 'ifk.' || lpad(i::text, 5, '0'),
               {pick(FIRST_NAMES, "i", 3)}, {pick(LAST_NAMES, "i", 4)}, 'ifk' || i || '@jobcenter-bench.invalid',
               false, true, now(), 'IFK', '0123 ' || i || '-20', 'R ' || i, (i - 1) / {IFK_PER_TEAM} + 1
        FROM generate_series(1, {ifks}) i
        """,
    )

    # The shape of every case, computed once: number of versions, current version, review date.
    # r = position in a block of 20 cases; k = number of plan versions; base = plan id before the first.
    load.run(
        "Fallgerüst (temporär)",
        f"""
        CREATE TEMP TABLE g AS
        WITH c AS (
            SELECT c, mod(c - 1, 20)::int AS r, (c - 1) / 20 AS b FROM generate_series(1, {n}::bigint) c
        ), k AS (
            SELECT c, b, r,
                   CASE WHEN r < 5 THEN 0 WHEN r < 16 THEN 1 WHEN r < 19 THEN 2 ELSE 3 END AS k0,
                   20 * b + CASE WHEN r < 5 THEN 0 WHEN r < 16 THEN r - 5 WHEN r = 16 THEN 11 WHEN r = 17 THEN 13
                                 WHEN r = 18 THEN 15 ELSE 17 END AS base
            FROM c
        ), s AS (
            SELECT c, base, greatest(0, least(k0, {n} - base)) AS k,
                   {h("c", 10, 1000)} AS u, {h("c", 11, 100000)} AS w,
                   {first_ifk} + {h("c", 12, ifks)} AS responsible
            FROM k
        ), f AS (
            SELECT s.*,
                   k > 0 AND mod(w, 25) = 0 AS closed,
                   mod(w, 25) <> 0 AND ((k >= 2 AND mod(u, 8) = 0) OR (k = 1 AND mod(u, 40) = 7)) AS draft
            FROM s
        ), a AS (
            SELECT f.*,
                   CASE WHEN draft THEN k - 1 ELSE k END AS anchor,  -- last version with dates
                   CASE WHEN k = 0 OR (draft AND k = 1) THEN NULL
                        WHEN closed THEN {d} - 30 - mod(w, 300)
                        WHEN u < 20 THEN {d} - 1 - mod(w, 60)
                        WHEN u < 60 THEN {d} + mod(w, 29)
                        ELSE {d} + 29 + mod(w, 154) END AS rdue
            FROM f
        )
        SELECT a.*, (a.responsible - {first_ifk}) / {IFK_PER_TEAM} + 1 AS team,
               CASE WHEN NOT closed AND anchor > 0 THEN anchor ELSE 0 END AS cur,
               (rdue - interval '6 months')::date AS anchor_from,
               CASE WHEN rdue IS NULL THEN {d} - 10 - mod(w, 80)
                    ELSE ((rdue - interval '6 months')::date - (anchor - 1) * interval '6 months')::date
                         - 20 - mod(w, 1500) END AS leistungsbeginn,
               CASE WHEN closed THEN rdue + 10 + mod(w, 20) END AS closed_on
        FROM a
        """,
    )
    conn.execute("ALTER TABLE g ADD PRIMARY KEY (c)")
    conn.execute("ANALYZE g")

    load.run(
        "eLb",
        f"""
        INSERT INTO cases_elb (id, kundennummer, salutation, first_name, last_name, birth_date, street, postal_code,
                               city, phone, email, bedarfsgemeinschaft_id)
        SELECT c,
               lpad(mod(c, 1000)::text, 3, '0') || chr(65 + mod(c / 1000, 26)::int) || lpad((c / 26000)::text, 6, '0'),
               (ARRAY['FRAU','HERR','NEUTRAL'])[{h("c", 20, 3)} + 1],
               {pick(FIRST_NAMES, "c", 21)}, {pick(LAST_NAMES, "c", 22)},
               DATE '1960-01-01' + {h("c", 23, 17000)},
               {pick(STREETS, "c", 24)} || ' ' || ({h("c", 25, 120)} + 1),
               lpad((10000 + (responsible - {first_ifk}) / {IFK_PER_TEAM * TEAMS_PER_JOBCENTER} + 1)::text, 5, '0'),
               'Benchstadt ' || ((responsible - {first_ifk}) / {IFK_PER_TEAM * TEAMS_PER_JOBCENTER} + 1),
               '', '', NULL
        FROM g
        """,
    )
    load.run(
        "Fälle",
        f"""
        INSERT INTO cases_case (id, leistungsbeginn, closed_on, cooperation_mode, profillage, created_at,
                                responsible_id, elb_id, team_id)
        SELECT c, leistungsbeginn, closed_on,
               CASE WHEN anchor = 0 THEN 'NO_KP_YET' WHEN mod(w, 7) = 0 THEN 'COOP_WITH_RFB' ELSE 'COOP_NO_RFB' END,
               2 + {h("c", 30, 5)}, leistungsbeginn + time '09:00', responsible, c, team
        FROM g
        """,
    )
    load.run(
        "Potenzialanalysen",
        """
        INSERT INTO cases_potenzialanalyse (id, status, strengths, qualifications, handlungsbedarfe, obstacles,
            health_reha_assessed, reused_from_agentur, completed_at, version, updated_at, case_id, completed_by_id)
        SELECT c, CASE WHEN k > 0 THEN 'COMPLETE' ELSE 'IN_PROGRESS' END,
               CASE WHEN k > 0 THEN 'Zuverlässig, gute Deutschkenntnisse' ELSE '' END, 'Berufserfahrung im Handel',
               CASE WHEN k > 0 THEN 'Bewerbungsunterlagen aktualisieren' ELSE '' END,
               CASE WHEN k > 0 THEN 'Kinderbetreuung am Nachmittag' ELSE '' END,
               k > 0, false,
               CASE WHEN k > 0 THEN leistungsbeginn + 10 + time '11:00' END, 2,
               leistungsbeginn + 10 + time '11:00', c, CASE WHEN k > 0 THEN responsible END
        FROM g WHERE k > 0 OR mod(w, 2) = 0
        """,
    )

    # Plan versions: v < anchor superseded; v = anchor current (or ENDED in a closed case); v = k DRAFT if so.
    load.run(
        "Kooperationspläne",
        f"""
        INSERT INTO kooperationsplan_kooperationsplan (id, version_number, status, naechstes_ziel, valid_from,
            valid_to, review_due, gemeinsam_erarbeitet, vb_erlaeutert, infoblatt_vb_ausgehaendigt_on,
            beratungsvermerk_ref, with_rfb_context, return_without_rfb_reason, created_at, activated_at, ended_at,
            lock_version, case_id, created_by_id, predecessor_id)
        SELECT base + v, v, status, 'Ich möchte eine Stelle als Fachkraft im Lager finden.',
               valid_from, valid_to, review_due, status <> 'DRAFT', status <> 'DRAFT',
               CASE WHEN status <> 'DRAFT' THEN valid_from END,
               CASE WHEN status <> 'DRAFT' THEN 'BV-' || (base + v) ELSE '' END, false, '',
               coalesce(valid_from - 7, {d} - mod(w, 20)) + time '10:00',
               CASE WHEN status <> 'DRAFT' THEN valid_from + time '10:30' END,
               CASE WHEN status = 'SUPERSEDED' THEN valid_to + 1 + time '10:30'
                    WHEN status = 'ENDED' THEN closed_on + time '12:00' END,
               1, c, responsible, CASE WHEN v > 1 THEN base + v - 1 END
        FROM (
            SELECT g.*, v, vf AS valid_from,
                   CASE WHEN v = anchor THEN (vf + interval '12 months')::date - 1
                        WHEN v < anchor THEN (anchor_from - (anchor - v - 1) * interval '6 months')::date - 1 END
                       AS valid_to,
                   CASE WHEN v = anchor THEN g.rdue
                        WHEN v < anchor THEN (anchor_from - (anchor - v - 1) * interval '6 months')::date - 1 END
                       AS review_due,
                   CASE WHEN v > anchor THEN 'DRAFT' WHEN v < anchor THEN 'SUPERSEDED' WHEN closed THEN 'ENDED'
                        WHEN g.rdue BETWEEN {d} - 60 AND {d} + 14 AND mod(w, 3) = 0 THEN 'UNDER_REVIEW'
                        ELSE 'ACTIVE' END AS status
            FROM g
            CROSS JOIN LATERAL generate_series(1, k) v
            CROSS JOIN LATERAL (
                SELECT CASE WHEN v <= anchor THEN (anchor_from - (anchor - v) * interval '6 months')::date END AS vf
            ) dates
        ) p
        """,
    )
    load.run(
        "Inhalte (4 je Plan)",
        """
        INSERT INTO kooperationsplan_contentitem (kind, text, nicht_relevant, position, bg_member_id, plan_id)
        SELECT item.kind, item.text, item.text = '', 0, NULL, p.id
        FROM kooperationsplan_kooperationsplan p
        CROSS JOIN (VALUES
            ('SOLL_1', 'Das Jobcenter unterstützt mich mit einem Bewerbungscoaching.'),
            ('SOLL_2', 'Ich bewerbe mich auf passende Stellen im Lager und in der Logistik.'),
            ('SOLL_3', ''),
            ('SOLL_5', 'Ich möchte eine sozialversicherungspflichtige Stelle in Vollzeit.')
        ) AS item(kind, text)
        ORDER BY p.id, item.kind
        """,
    )
    load.run(
        "Schritte (2 je Plan)",
        """
        INSERT INTO kooperationsplan_step (position, text, responsible, due_on, done_on, plan_id)
        SELECT s.position, s.text, s.responsible, coalesce(p.valid_from, p.created_at::date) + s.days,
               CASE WHEN p.status IN ('SUPERSEDED', 'ENDED') THEN coalesce(p.valid_from, p.created_at::date) + s.days
               END, p.id
        FROM kooperationsplan_kooperationsplan p
        CROSS JOIN (VALUES
            (1, 'Ich aktualisiere meinen Lebenslauf.', 'ELB', 14),
            (2, 'Das Jobcenter prüft die Förderung eines Staplerscheins.', 'JC', 30)
        ) AS s(position, text, responsible, days)
        ORDER BY p.id, s.position
        """,
    )
    load.run(
        "Eigenbemühungen (1 je Plan)",
        """
        INSERT INTO kooperationsplan_eigenbemuehung (kind, description, min_count, min_count_zero_reason, period,
                                                     nachweis_form, nachweis_due_day, plan_id)
        SELECT 'BEWERBUNG', 'Ich bewerbe mich schriftlich oder online.', 4 + mod(p.id, 3)::int, '', 'MONAT',
               'LISTE', 5, p.id
        FROM kooperationsplan_kooperationsplan p
        ORDER BY p.id
        """,
    )
    # Monthly evidence of the current plans: every month that has ended by D; open if due within the last week.
    load.run(
        "Nachweise (monatlich, aktuelle Pläne)",
        f"""
        INSERT INTO kooperationsplan_eigenbemuehungnachweis (period_start, period_end, due_on, received_on,
                                                             count_reported, eigenbemuehung_id, case_id)
        SELECT period_start, period_end, due_on,
               CASE WHEN due_on < {d} - 7 OR mod(eb.id, 10) > 2 THEN least(due_on - 1, {d} - 1) END,
               CASE WHEN due_on < {d} - 7 OR mod(eb.id, 10) > 2 THEN eb.min_count END,
               eb.id, p.case_id  -- what the trigger nachweis_case_of_plan sets (this session fires no triggers)
        FROM kooperationsplan_eigenbemuehung eb
        JOIN kooperationsplan_kooperationsplan p ON p.id = eb.plan_id AND p.status IN ('ACTIVE', 'UNDER_REVIEW')
        CROSS JOIN LATERAL generate_series(0, 6) m
        CROSS JOIN LATERAL (
            SELECT (p.valid_from + m * interval '1 month')::date AS period_start,
                   (p.valid_from + (m + 1) * interval '1 month')::date - 1 AS period_end,
                   (p.valid_from + (m + 1) * interval '1 month')::date + eb.nachweis_due_day - 1 AS due_on
        ) period
        WHERE period_end < {d}
        ORDER BY eb.id, m
        """,
    )
    load.run(
        "Maßnahmearten und Katalog",
        """
        WITH arts AS (
            INSERT INTO kooperationsplan_massnahmeart (id, code, name, rechtsgrundlage, is_agh, exempt_from_rfb,
                                                      exempt_source)
            VALUES (1, 'AGH', 'Arbeitsgelegenheit mit Mehraufwandsentschädigung', '§ 16d SGB II', true, false, ''),
                   (2, 'AKTIVIERUNG', 'Maßnahme zur Aktivierung und beruflichen Eingliederung',
                    '§ 16 Abs. 1 SGB II i. V. m. § 45 SGB III', false, false, ''),
                   (3, '16K', 'Ganzheitliche Betreuung', '§ 16k SGB II', false, true, '001 §6.1; R-ESC-4')
            RETURNING id
        )
        INSERT INTO kooperationsplan_massnahme (id, title, massnahme_nummer, content, traeger_name, traeger_street,
            traeger_postal_code, traeger_city, traeger_contact, traeger_phone, traeger_email, location, schedule,
            duration_weeks, active, art_id)
        SELECT m, 'Maßnahme ' || lpad(m::text, 3, '0') || ' – Bewerbungscoaching und Praxis', 'BENCH-' || m,
               'Bewerbungstraining, Praktikum, Coaching.', 'Bildungsträger ' || m || ' gGmbH', 'Am Träger ' || m,
               '10001', 'Benchstadt 1', 'Ansprechperson ' || m, '0123 999-' || m, '', 'Benchstadt 1',
               'Mo–Fr 8:00–12:00 Uhr', 4 + mod(m, 20), mod(m, 10) <> 0, 1 + mod(m, 3)
        FROM generate_series(1, 80) m
        """,
    )
    load.run(
        "Maßnahmezuweisungen",
        f"""
        INSERT INTO kooperationsplan_massnahmezuweisung (status, via, start_date, end_date, rueckmeldung_due,
            reported_on, started_on, case_id, massnahme_id, plan_id)
        SELECT CASE WHEN x < 8 THEN 'STARTED' ELSE 'SCHREIBEN_ISSUED' END, 'SCHREIBEN',
               start_date, start_date + 7 * 12, CASE WHEN x < 8 THEN start_date - 5 ELSE {d} - 3 + mod(p.id, 18)::int
               END, CASE WHEN x < 8 THEN start_date - 5 END, CASE WHEN x < 8 THEN start_date END,
               p.case_id, 1 + mod(p.id, 80), p.id
        FROM (
            SELECT p.*, {h("p.id", 40, 100)} AS x,
                   CASE WHEN {h("p.id", 40, 100)} < 8 THEN least(p.valid_from + 21, {d} - 1) ELSE {d} + 14 END
                       AS start_date
            FROM kooperationsplan_kooperationsplan p WHERE p.status IN ('ACTIVE', 'UNDER_REVIEW')
        ) p
        WHERE x < 11
        ORDER BY p.id
        """,
    )
    load.run(
        "Termine",
        f"""
        INSERT INTO kooperationsplan_appointment (kind, starts_at, channel, location, meldezweck, documents_to_bring,
            with_rfb, rfb_deviation_reason, outcome, outcome_recorded_at, wichtiger_grund, case_id, created_by_id)
        SELECT 'ERST', g.leistungsbeginn + 7 + time '09:30', 'VOR_ORT', 'Jobcenter Benchstadt, Raum ' || g.team,
               'Erstellung der Potenzialanalyse und des Kooperationsplans', 'Personalausweis, Lebenslauf', false, '',
               CASE WHEN g.k > 0 THEN 'ATTENDED' ELSE 'PENDING' END,
               CASE WHEN g.k > 0 THEN g.leistungsbeginn + 7 + time '11:00' END, NULL::boolean, g.c, g.responsible
        FROM g
        UNION ALL
        SELECT 'REVIEW', p.review_due - 2 + time '10:00', 'VOR_ORT', 'Jobcenter Benchstadt, Raum ' || g.team,
               'Überprüfung und Fortschreibung des Kooperationsplans', 'Nachweise der Eigenbemühungen', false, '',
               'PENDING', NULL::timestamp, NULL::boolean, g.c, g.responsible
        FROM kooperationsplan_kooperationsplan p JOIN g ON g.c = p.case_id
        WHERE p.status IN ('ACTIVE', 'UNDER_REVIEW') AND p.review_due BETWEEN {d} + 3 AND {d} + 28
              AND mod(g.w, 2) = 0
        """,
    )
    load.run(
        "Zeitstrahl",
        f"""
        INSERT INTO cases_timelineevent (occurred_at, code, summary, reason_codes, sources, rule_set, data,
                                         actor_id, case_id)
        SELECT (g.leistungsbeginn + time '09:00')::timestamptz, 'case.opened',
               'Fall angelegt; die Potenzialanalyse ist unverzüglich zu erstellen.', '["R-PA-2"]'::jsonb,
               '["§ 15 Abs. 1 SGB II", "001 §4.1"]'::jsonb, '{RULE_SET}', '{{}}'::jsonb, g.responsible, g.c
        FROM g
        UNION ALL
        SELECT (g.leistungsbeginn + 10 + time '11:00')::timestamptz, 'potenzialanalyse.completed',
               'Potenzialanalyse abgeschlossen.', '["R-PA-1"]'::jsonb, '["§ 15 Abs. 1 SGB II", "001 §3"]'::jsonb,
               '{RULE_SET}', '{{}}'::jsonb, g.responsible, g.c
        FROM g WHERE g.k > 0
        UNION ALL
        SELECT p.activated_at, 'kooperationsplan.activated',
               'Kooperationsplan Version ' || p.version_number || ' gemeinsam erarbeitet und aktiviert; '
               || 'Überprüfung spätestens am ' || to_char(p.review_due, 'DD.MM.YYYY') || '.',
               '["R-KP-4", "R-KP-5", "R-EB-3", "R-PA-1"]'::jsonb,
               '["§ 15 Abs. 2 SGB II", "§ 15 Abs. 3 SGB II", "001 §4.3", "001 §5"]'::jsonb, '{RULE_SET}',
               jsonb_build_object('plan_id', p.id, 'version', p.version_number), p.created_by_id, p.case_id
        FROM kooperationsplan_kooperationsplan p WHERE p.activated_at IS NOT NULL
        """,
    )

    # D-01 reminder history. Stages of a plan due on R, R, then weekly while overdue.
    stage_on_d = (
        f"CASE WHEN p.review_due <= {d} THEN p.review_due + (({d} - p.review_due) / 7) * 7 "
        f"WHEN p.review_due - 7 <= {d} THEN p.review_due - 7 ELSE p.review_due - 28 END"
    )
    load.run(
        "Erinnerungen D-01 (Historie)",
        f"""
        INSERT INTO kooperationsplan_reminder (kind, subject_type, subject_id, due_on, remind_on, rule_id, status,
                                               created_at, done_at, assignee_id, case_id)
        SELECT 'D01_REVIEW', '{SUBJECT_PLAN}', p.id, p.review_due, s.remind_on, 'R-FS-1',
               CASE WHEN p.current THEN 'OPEN' ELSE 'DONE' END, s.remind_on + time '01:30',
               CASE WHEN NOT p.current THEN p.review_due + 1 + time '10:00' END, c.responsible_id, p.case_id
        FROM (
            SELECT p.*, p.status IN ('ACTIVE', 'UNDER_REVIEW') AND p.review_due <= {d} + 28 AS current,
                   {stage_on_d} AS stage
            FROM kooperationsplan_kooperationsplan p
            WHERE p.review_due IS NOT NULL AND p.review_due - 28 < {d}
        ) p
        JOIN cases_case c ON c.id = p.case_id
        CROSS JOIN LATERAL (
            SELECT p.review_due - lead AS remind_on FROM unnest(ARRAY[28, 7, 0]) lead
            UNION ALL
            SELECT p.review_due + 7 * j FROM generate_series(1, greatest(0, ({d} - p.review_due) / 7)) j
            WHERE p.current
        ) s
        WHERE (p.current AND s.remind_on < p.stage AND c.closed_on IS NULL)
              OR (NOT p.current AND p.status IN ('SUPERSEDED', 'ENDED', 'ACTIVE', 'UNDER_REVIEW')
                  AND s.remind_on <= p.review_due AND p.review_due < {d})
        ORDER BY p.id, s.remind_on
        """,
    )
    load.run(
        "Benachrichtigungen (Historie)",
        """
        INSERT INTO kooperationsplan_notification (message, created_at, read_at, emailed_at, case_id, user_id,
                                                   reminder_id, key)
        SELECT CASE WHEN r.remind_on <= r.due_on
                    THEN 'Überprüfung des Kooperationsplans spätestens am ' || to_char(r.due_on, 'DD.MM.YYYY')
                         || ': bitte den Gesprächstermin vereinbaren (D-01).'
                    ELSE 'Die Überprüfung des Kooperationsplans ist seit dem ' || to_char(r.due_on, 'DD.MM.YYYY')
                         || ' überfällig (D-01).' END,
               r.created_at,
               CASE WHEN r.status = 'DONE' OR mod(r.id, 10) < 7 THEN r.remind_on + 1 + time '08:15' END,
               r.remind_on + time '06:30', r.case_id, r.assignee_id, r.id, ''
        FROM kooperationsplan_reminder r
        UNION ALL
        SELECT 'Eine Überprüfung des Kooperationsplans ist seit mehr als 14 Tagen überfällig (fällig am '
               || to_char(r.due_on, 'DD.MM.YYYY') || ', D-01).',
               r.created_at, r.remind_on + 1 + time '09:00', r.remind_on + time '06:30', r.case_id, lead.id, r.id, ''
        FROM kooperationsplan_reminder r
        JOIN cases_case c ON c.id = r.case_id
        JOIN cases_user lead ON lead.team_id = c.team_id AND lead.role = 'TL'
        WHERE r.remind_on = r.due_on + 14
        """,
    )
    conn.execute("SET session_replication_role = DEFAULT")
    for table in (
        "cases_jobcenter",
        "cases_team",
        "cases_user",
        "cases_elb",
        "cases_case",
        "cases_potenzialanalyse",
        "kooperationsplan_kooperationsplan",
        "kooperationsplan_massnahmeart",
        "kooperationsplan_massnahme",
    ):
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")

    # The benchmark user: the first IFK with a case that has a current plan and a draft next to it.
    sample = conn.execute(
        f"""
        SELECT c.responsible_id, c.id, cur.id, draft.id
        FROM cases_case c
        JOIN kooperationsplan_kooperationsplan cur ON cur.case_id = c.id AND cur.status IN ('ACTIVE', 'UNDER_REVIEW')
        JOIN kooperationsplan_kooperationsplan draft ON draft.case_id = c.id AND draft.status = 'DRAFT'
        WHERE c.closed_on IS NULL AND cur.review_due <= {d} + 120
        ORDER BY c.responsible_id, c.id LIMIT 1
        """
    ).fetchone()
    counts = {
        table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in (
            "cases_jobcenter",
            "cases_team",
            "cases_user",
            "cases_elb",
            "cases_case",
            "cases_potenzialanalyse",
            "cases_timelineevent",
            "kooperationsplan_kooperationsplan",
            "kooperationsplan_contentitem",
            "kooperationsplan_step",
            "kooperationsplan_eigenbemuehung",
            "kooperationsplan_eigenbemuehungnachweis",
            "kooperationsplan_massnahmezuweisung",
            "kooperationsplan_appointment",
            "kooperationsplan_reminder",
            "kooperationsplan_notification",
        )
    }
    status = dict(
        conn.execute("SELECT status, count(*) FROM kooperationsplan_kooperationsplan GROUP BY 1 ORDER BY 1").fetchall()
    )
    window = conn.execute(
        f"""
        SELECT count(*) FILTER (WHERE p.review_due < {d}), count(*) FILTER (WHERE p.review_due >= {d})
        FROM kooperationsplan_kooperationsplan p JOIN cases_case c ON c.id = p.case_id
        WHERE p.status IN ('ACTIVE', 'UNDER_REVIEW') AND c.closed_on IS NULL AND p.review_due <= {d} + 28
        """
    ).fetchone()
    return {
        "day": day.isoformat(),
        "plans": n,
        "ifk": ifks,
        "teams": teams,
        "jobcenters": jobcenters,
        "counts": counts,
        "plan_status": status,
        "d01_window": {"overdue": window[0], "due_within_28_days": window[1]},
        "bench_user_id": sample[0],
        "sample_case_id": sample[1],
        "sample_current_plan_id": sample[2],
        "sample_draft_plan_id": sample[3],
        "load_seconds": {label: round(seconds, 1) for label, _, seconds in load.timings},
    }


def check_foreign_keys(conn: psycopg.Connection) -> tuple[int, int]:
    """The load ran without FK triggers: check every foreign key of the schema by an anti-join."""
    fks = conn.execute(
        """
        SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, af.attname
        FROM pg_constraint c
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1]
        WHERE c.contype = 'f' AND array_length(c.conkey, 1) = 1 AND c.connamespace = 'public'::regnamespace
        ORDER BY 1, 2
        """
    ).fetchall()
    violations = 0
    for table, column, ref_table, ref_column in fks:
        bad = conn.execute(
            f"SELECT count(*) FROM {table} t WHERE t.{column} IS NOT NULL "
            f"AND NOT EXISTS (SELECT 1 FROM {ref_table} r WHERE r.{ref_column} = t.{column})"
        ).fetchone()[0]
        if bad:
            print(f"  Fremdschlüssel verletzt: {table}.{column} → {ref_table}: {bad:,} Zeilen", flush=True)
        violations += bad
    return len(fks), violations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=1_000_000)
    parser.add_argument("--db", default="kp_bench")
    parser.add_argument("--day", type=date.fromisoformat, default=date.today(), help="benchmark day D (default: today)")
    parser.add_argument("--check-only", action="store_true", help="only check the foreign keys of an existing --db")
    args = parser.parse_args()
    if not args.db.replace("_", "").isalnum() or args.db in {"kooperationsplan", "postgres"}:
        parser.error("--db: a separate benchmark database, e.g. kp_bench")

    if args.check_only:
        with psycopg.connect(f"{SERVER}/{args.db}", autocommit=True) as conn:
            checked, violations = check_foreign_keys(conn)
        print(f"{checked} Fremdschlüssel geprüft, {violations} Verstöße")
        sys.exit(1 if violations else 0)
    started = time.perf_counter()
    print(f"Datenbank {args.db} wird neu angelegt und migriert …", flush=True)
    recreate_database(args.db)
    migrate(args.db)
    print(f"  migriert in {time.perf_counter() - started:.0f} s", flush=True)
    print(f"Befüllen: {args.plans:,} Pläne, Stichtag {args.day:%d.%m.%Y}", flush=True)
    with psycopg.connect(f"{SERVER}/{args.db}", autocommit=True) as conn:
        meta = load(conn, plans=args.plans, day=args.day)
        check_start = time.perf_counter()
        checked, violations = check_foreign_keys(conn)
        print(f"  {checked} Fremdschlüssel geprüft, {violations} Verstöße ({time.perf_counter() - check_start:.0f} s)")
        if violations:
            sys.exit("Die erzeugten Daten verletzen Fremdschlüssel.")
        meta["foreign_keys_checked"] = checked
        vacuum_start = time.perf_counter()
        conn.execute("VACUUM (ANALYZE)")
        print(f"  VACUUM (ANALYZE) {time.perf_counter() - vacuum_start:.0f} s", flush=True)
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    meta["database"] = args.db
    meta["size"] = size
    meta["total_seconds"] = round(time.perf_counter() - started)
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / f"{args.db}.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    print("Angelegt:")
    for table, count in meta["counts"].items():
        print(f"  {table:<42} {count:>12,}")
    print(f"  Pläne nach Status: {meta['plan_status']}")
    print(
        f"  D-01 am {args.day:%d.%m.%Y}: {meta['d01_window']['overdue']:,} überfällig, "
        f"{meta['d01_window']['due_within_28_days']:,} in den nächsten 28 Tagen fällig "
        f"({sum(meta['d01_window'].values()) / args.plans:.1%} aller Pläne)"
    )
    print(
        f"  Benchmark-IFK: Benutzer {meta['bench_user_id']}, Fall {meta['sample_case_id']}, "
        f"aktueller Plan {meta['sample_current_plan_id']}, Entwurf {meta['sample_draft_plan_id']}"
    )
    print(
        f"Datenbank {args.db}: {size}, fertig in {meta['total_seconds'] / 60:.1f} min; "
        f"Kennzahlen in {DATA / (args.db + '.json')}"
    )


if __name__ == "__main__":
    main()
