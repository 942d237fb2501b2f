from django.core.management.base import BaseCommand

from kooperationsplan.legal_review import flagged_reasons, unverified_parameters


class Command(BaseCommand):
    help = "Listet alle Regeln und Parameter, die die Rechtsstelle prüfen muss (P10)."

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write("Entscheidungen mit Prüfvermerk (needs_legal_review):")
        for item in flagged_reasons():
            self.stdout.write(f"  {item.rule_id:<9} {item.code:<45} {item.text}  [{item.where}]")
        self.stdout.write("\nUngeprüfte Rechtsparameter (UNVERIFIED):")
        for line in unverified_parameters():
            self.stdout.write(f"  {line}")
