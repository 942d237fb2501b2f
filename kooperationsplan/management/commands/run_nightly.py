"""`manage.py run_nightly [--date YYYY-MM-DD]`: all nightly scans inline, then the e-mail digest."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from kooperationsplan import nightly, notifications


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"Ungültiges Datum „{value}“: bitte im Format JJJJ-MM-TT angeben.") from error


class Command(BaseCommand):
    help = (
        "Führt alle nächtlichen Fristenprüfungen (RULES.md Abschnitt 7) sofort aus und versendet danach die "
        "E-Mail-Zusammenfassungen. Ein zweiter Aufruf am selben Tag legt nichts neu an."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=_day, help="Stichtag (JJJJ-MM-TT); ohne Angabe heute in Berlin.")
        parser.add_argument(
            "--ohne-mail", action="store_true", dest="no_mail", help="Keine E-Mail-Zusammenfassungen versenden."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        on: date = options["date"] or timezone.localdate()
        self.stdout.write(f"Nächtliche Fristenprüfung für den {on:%d.%m.%Y}")
        results = nightly.nightly_run(on)
        for result in results:
            self.stdout.write("  " + result.line())
        reminders = sum(result.reminders for result in results)
        notes = sum(result.notifications for result in results)
        transitions = sum(result.transitions for result in results)
        self.stdout.write(
            f"Gesamt: {reminders} Erinnerung(en), {notes} Benachrichtigung(en), {transitions} automatisch erledigt"
        )
        if options["no_mail"]:
            return
        mails = notifications.digest_send(on)
        self.stdout.write(f"E-Mail-Zusammenfassungen versandt: {mails}")
