"""`manage.py seed_demo`: synthetic demo data and demo logins (see kooperationsplan/demo.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from cases.models import Case, CooperationMode
from kooperationsplan import nightly
from kooperationsplan.demo import (
    DEMO_JOBCENTER_NAME,
    DEMO_PASSWORD,
    DEMO_URL,
    TEAM_NORD,
    TEAM_SUED,
    SeedResult,
    seed_demo,
)
from letters.services import letters_render_pending


class Command(BaseCommand):
    help = (
        "Legt synthetische Demodaten an: Jobcenter Musterstadt, zwei Teams, Demo-Zugänge und 60 eLb in allen "
        "Kooperationsmodi. Ein zweiter Aufruf ändert nichts."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--pdf",
            action="store_true",
            help="die Schreiben der Demodaten gleich hier als PDF erzeugen (ohne Worker, für make run)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = seed_demo()
        if result.created:
            self.stdout.write(self.style.SUCCESS(f"Demodaten angelegt (Stichtag {result.reference_day:%d.%m.%Y})."))
            # The demo shows reminders and notifications as the nightly job leaves them (no e-mails).
            scans = nightly.nightly_run(result.reference_day)
            self.stdout.write(
                f"Nächtliche Fristenprüfung: {sum(scan.reminders for scan in scans)} Erinnerungen, "
                f"{sum(scan.notifications for scan in scans)} Benachrichtigungen."
            )
        else:
            self.stdout.write("Demodaten sind bereits vorhanden.")
            if result.passwords_reset:
                self.stdout.write(f"Passwort zurückgesetzt für: {', '.join(result.passwords_reset)}")
            if result.missing_logins:
                self.stdout.write(self.style.WARNING(f"Nicht vorhanden: {', '.join(result.missing_logins)}"))
        if options["pdf"]:
            cases = Case.objects.filter(team__jobcenter__name=DEMO_JOBCENTER_NAME).values("pk")
            rendered = letters_render_pending(cases)
            if rendered:
                self.stdout.write(f"Schreiben als PDF erzeugt: {rendered.count('rendered')} von {len(rendered)}.")
        self._write_summary(result)
        self._write_logins(result)

    def _write_summary(self, result: SeedResult) -> None:
        teams = (TEAM_NORD, TEAM_SUED)
        header = "Offene Fälle je Kooperationsmodus"
        width = max(len(header), *(len(label) for label in CooperationMode.labels))
        self.stdout.write("")
        self.stdout.write(f"{header:<{width}}  {teams[0]:>9}  {teams[1]:>9}  {'gesamt':>6}")
        totals = [0, 0]
        for mode, label in CooperationMode.choices:
            counts = [result.mode_counts.get(mode, {}).get(team, 0) for team in teams]
            totals = [a + b for a, b in zip(totals, counts, strict=True)]
            self.stdout.write(f"{label:<{width}}  {counts[0]:>9}  {counts[1]:>9}  {sum(counts):>6}")
        self.stdout.write(f"{'gesamt':<{width}}  {totals[0]:>9}  {totals[1]:>9}  {sum(totals):>6}")

    def _write_logins(self, result: SeedResult) -> None:
        self.stdout.write("")
        self.stdout.write(f"Demo-Zugänge für {DEMO_URL}")
        self.stdout.write(f"{'Benutzername':<12}  {'Rolle':<22}  {'Team':<10}  Passwort")
        for user in result.logins:
            team = user.team.name if user.team else "–"
            self.stdout.write(f"{user.username:<12}  {user.get_role_display():<22}  {team:<10}  {DEMO_PASSWORD}")
        self.stdout.write("")
        self.stdout.write(
            self.style.WARNING(
                f"WARNUNG: Das Passwort „{DEMO_PASSWORD}“ ist nur für diese synthetischen Demodaten gedacht. "
                "Niemals in einer Umgebung mit echten Sozialdaten verwenden."
            )
        )
