"""`manage.py render_sample_letters OUTDIR`: one sample PDF of every letter kind (RULES.md 6.1) from the demo
data, for the legal department (Rechtsstelle) to review.

The letters are issued through the real workflow services on demo cases of Team Nord (walking the escalation
ladder where a kind needs it; the first invitation goes to a new case created by the real service, because
every demo case already had its first talk arranged, R-INV-1) and rendered through the real rendering
service, so the samples are exactly what the application produces. Kinds that no workflow step issues today,
or that need months of history the demo data cannot have (ANH_32: no § 32 step yet; AUFH_ZB: R-RET-1 needs
3 months of reliable cooperation; INFO_VB and FLYER_KP: handouts), are frozen with `freeze_letter` from the
same demo objects.

Everything runs in one transaction that is rolled back at the end: the PDFs are written, the demo database
stays as it was. (The command lives in kooperationsplan because it drives the workflow; letters never
imports kooperationsplan.)
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from cases.models import Case, CooperationMode, Elb, Jobcenter, User
from cases.services import case_create
from kooperationsplan import escalations, measures, services
from kooperationsplan.demo import DEMO_JOBCENTER_NAME, TEAM_NORD
from kooperationsplan.models import Kooperationsplan, KPStatus, Massnahme, MassnahmeZuweisung
from kooperationsplan.workflow import freeze_letter
from letters import texts
from letters.models import Letter, LetterKind
from letters.services import letter_render
from rules.dates import add_working_days
from rules.deadlines import bekanntgabe
from rules.decision import Decision, Reason, allow, combine
from rules.invitations import missed_appointment_consequence
from rules.letters import LetterKind as RuleKind
from rules.letters import rechtsbehelfsbelehrung_required


class _RollBack(Exception):
    """Leaves the demo database unchanged after the samples are written."""


class Command(BaseCommand):
    help = (
        "Stellt aus den Demodaten je ein Musterschreiben jeder Schreibenart aus, erzeugt es als PDF/A-3a und "
        "legt es im Ordner OUTDIR ab (für die Rechtsstelle). Die Datenbank bleibt unverändert."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("outdir", help="Zielordner für die PDF-Dateien")

    def handle(self, *args: Any, **options: Any) -> None:
        outdir = Path(options["outdir"])
        outdir.mkdir(parents=True, exist_ok=True)
        written: list[tuple[Letter, Path]] = []
        try:
            with transaction.atomic():
                for letter in SampleWalk().letters():
                    outcome = letter_render(letter_id=letter.pk)
                    letter.refresh_from_db()
                    if outcome != "rendered":
                        raise CommandError(f"{letter.kind}: nicht erzeugt ({outcome}): {letter.render_error}")
                    path = outdir / f"{len(written) + 1:02d}_{letter.kind}.pdf"
                    path.write_bytes(bytes(letter.pdf))
                    written.append((letter, path))
                raise _RollBack
        except _RollBack:
            pass
        manifest = []
        for letter, path in written:
            flags = ", ".join(
                (
                    "mit Rechtsfolgenbelehrung" if letter.with_rfb else "ohne Rechtsfolgenbelehrung",
                    "Verwaltungsakt" if letter.is_va else "kein Verwaltungsakt",
                    f"{len(letter.recipients)} Ausfertigung(en)",
                )
            )
            duty, deadline = key_facts(letter)
            self.stdout.write(f"{letter.kind:<26} {path}  ({flags})")
            if duty:
                self.stdout.write(f"{'':<26} Pflicht: {duty} · Frist/Termin: {deadline}")
            manifest.append(
                {
                    "kind": letter.kind,
                    "title": texts.KIND_TITLES[letter.kind],
                    "file": path.name,
                    "recipients": [recipient["name"] for recipient in letter.recipients],
                    "with_rfb": letter.with_rfb,
                    "is_va": letter.is_va,
                    "duty": duty,
                    "deadline": deadline,
                }
            )
        (outdir / "inhalt.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        missing = sorted(set(LetterKind.values) - {letter.kind for letter, _ in written})
        if missing:
            raise CommandError(f"Keine Muster für: {', '.join(missing)}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(written)} Musterschreiben in {outdir} geschrieben; die Datenbank ist unverändert."
            )
        )


def key_facts(letter: Letter) -> tuple[str, str]:
    """What the reader must do and by when, as the letter states it (for the reviewers' list)."""
    content = letter.context.get("content") or {}
    kind = letter.kind
    if kind.startswith("EINL_"):
        return content["meldezweck"], texts.fmt_datetime(content["starts_at"])
    if kind in ("AUFF_15_5", "AUFF_15_6"):
        return content["duty"], texts.fmt_date(content["deadline"])
    if kind.startswith("ZUW_"):
        return content["massnahme"], texts.fmt_date(content["rueckmeldung_due"])
    if kind in ("ANH_31", "ANH_32"):
        return content["breach"], texts.fmt_date(content["answer_until"])
    if kind == "KP_DOKUMENT":
        return texts.step_text(content["steps"][0]), texts.fmt_date(content["review_due"])
    if kind == "AUFH_ZB":
        return content["massnahme"], texts.fmt_date(content["effective_from"])
    return "", ""


class SampleWalk:
    """Issues one letter of each kind on demo cases of Team Nord, in an order the rules allow."""

    def __init__(self) -> None:
        jobcenter = Jobcenter.objects.filter(name=DEMO_JOBCENTER_NAME).first()
        if jobcenter is None:
            raise CommandError("Keine Demodaten gefunden. Bitte zuerst „manage.py seed_demo“ ausführen.")
        self.today = timezone.localdate()
        self.bundesland = jobcenter.bundesland
        self.cases = Case.objects.filter(team__jobcenter=jobcenter, team__name=TEAM_NORD, closed_on__isnull=True)
        self.keys = iter(range(1, 1000))
        self.issued: list[Letter] = []

    def key(self, kind: str) -> str:
        return f"sample:{kind}:{timezone.now().timestamp()}:{next(self.keys)}"

    def at(self, working_days: int, hour: int = 9) -> datetime:
        day = add_working_days(self.today, working_days, self.bundesland)
        return timezone.make_aware(datetime.combine(day, time(hour)))

    def adult(self, mode: str, *, excluded: tuple[dict[str, Any], ...] = (), **filters: Any) -> Case:
        adult_born_before = date(self.today.year - 18, self.today.month, 1)
        cases = self.cases.filter(cooperation_mode=mode, elb__birth_date__lt=adult_born_before, **filters)
        for condition in excluded:
            cases = cases.exclude(**condition)
        case = cases.select_related("elb", "responsible").order_by("pk").first()
        if case is None:
            raise CommandError(f"Kein passender Demofall im Modus {mode}.")
        return case

    def letter(self, case: Case, kind: str) -> Letter:
        return Letter.objects.filter(case=case, kind=kind).order_by("-pk").first() or self._missing(kind)

    def _missing(self, kind: str) -> Letter:
        raise CommandError(f"{kind} wurde nicht ausgestellt.")

    def letters(self) -> list[Letter]:
        self.first_invitation()
        coop = self.adult(
            CooperationMode.COOP_NO_RFB,
            plans__status=KPStatus.ACTIVE,
            assignments__isnull=True,
            escalations__isnull=True,
        )
        self.fortschreibung(coop)
        self.invitations(coop)
        self.zuweisungsschreiben(coop)
        self.ladder(coop)
        self.aufforderung_15_6()
        self.frozen_without_workflow(coop)
        order = {kind: index for index, kind in enumerate(LetterKind.values)}
        return sorted(self.issued, key=lambda letter: order[letter.kind])

    def first_invitation(self) -> None:
        """EINL_KP_ERST goes to a new case (R-INV-1: the demo cases already had their first talk arranged);
        it is created through the real service in the demo team, with synthetic data."""
        ifk = self.adult(CooperationMode.COOP_NO_RFB).responsible
        number = next(
            f"999Z{n:06d}" for n in range(10**6) if not Elb.objects.filter(kundennummer=f"999Z{n:06d}").exists()
        )
        case = case_create(
            actor=ifk,
            elb_data={
                "kundennummer": number,
                "salutation": "FRAU",
                "first_name": "Mia",
                "last_name": "Musterfrau",
                "birth_date": date(1990, 4, 3),
                "street": "Lindenweg 3",
                "postal_code": "12345",
                "city": "Musterstadt",
            },
            leistungsbeginn=self.today,
        )
        appointment = escalations.invitation_issue(
            case_id=case.pk,
            actor=ifk,
            kind="ERST",
            starts_at=self.at(8),
            location="Jobcenter Musterstadt, Raum 1.12",
            meldezweck="Erstgespräch: Potenzialanalyse und Kooperationsplan (§ 15 SGB II)",
            documents_to_bring="Lebenslauf, Zeugnisse, Personalausweis",
            idempotency_key=self.key("EINL_KP_ERST"),
        )
        if appointment.letter.kind != LetterKind.EINL_KP_ERST:
            raise CommandError(f"Erste Einladung als {appointment.letter.kind} ausgestellt.")
        self.issued.append(appointment.letter)

    def fortschreibung(self, case: Case) -> None:
        """KP_DOKUMENT: the review of the current plan and its Fortschreibung (R-FS-1), with the flyer."""
        current = Kooperationsplan.objects.get(case=case, status=KPStatus.ACTIVE)
        services.kooperationsplan_start_review(plan_id=current.pk, actor=case.responsible)
        draft = services.kooperationsplan_start(case_id=case.pk, actor=case.responsible)
        draft.refresh_from_db()
        for field in ("gemeinsam_erarbeitet", "vb_erlaeutert", "infoblatt_vb_ausgehaendigt_on", "beratungsvermerk_ref"):
            setattr(draft, field, getattr(draft, field) or getattr(current, field))
        draft.naechstes_ziel = draft.naechstes_ziel or current.naechstes_ziel or "Ich finde eine passende Stelle."
        draft.save()
        plan = services.kooperationsplan_activate(
            plan_id=draft.pk, actor=case.responsible, lock_version=draft.lock_version, with_flyer=True
        )
        self.plan = plan
        self.issued.append(self.letter(case, "KP_DOKUMENT"))

    def invitations(self, case: Case) -> None:
        common = {"case_id": case.pk, "actor": case.responsible, "location": "Jobcenter Musterstadt, Raum 1.12"}
        for kind, appointment_kind, extra in (
            ("EINL_RFB", "FOLGE", {"meldezweck": "Besprechung Ihrer Bewerbungsaktivitäten und neuer Stellenangebote"}),
            (
                "EINL_OHNE_RFB",
                "WUNSCH",
                {"meldezweck": "Gespräch auf Ihren Wunsch: Fragen zur Kinderbetreuung"},
            ),
            (
                "EINL_UNTERSUCHUNG",
                "AERZTLICH",
                {
                    "meldezweck": "Ärztliche Untersuchung durch den Ärztlichen Dienst zur Leistungsfähigkeit",
                    "location": "Ärztlicher Dienst, Hauptstraße 3, Raum 0.04",
                    "documents_to_bring": "ärztliche Unterlagen, Medikamentenplan, Brille",
                },
            ),
        ):
            appointment = escalations.invitation_issue(
                **{**common, **extra},
                kind=appointment_kind,
                starts_at=self.at(9 + len(self.issued)),
                idempotency_key=self.key(kind),
            )
            self.issued.append(appointment.letter)

    def massnahme(self, code: str, exclude: Massnahme | None = None) -> Massnahme:
        candidates = Massnahme.objects.filter(active=True, art__code=code, art__exempt_from_rfb=False)
        if exclude is not None:
            candidates = candidates.exclude(pk=exclude.pk)
        found = candidates.order_by("pk").first()
        if found is None:
            raise CommandError(f"Keine Demo-Maßnahme der Art {code}.")
        return found

    def zuweisungsschreiben(self, case: Case) -> None:
        for code in ("AGH", "AKTIVIERUNG"):
            assignment = measures.assignment_plan(
                plan_id=self.plan.pk,
                actor=case.responsible,
                massnahme_id=self.massnahme(code).pk,
                start_date=self.today + timedelta(days=21),
                end_date=self.today + timedelta(days=111),
                rueckmeldung_due=self.today + timedelta(days=14),
            )
            measures.zuweisungsschreiben_issue(
                assignment_id=assignment.pk, actor=case.responsible, idempotency_key=self.key(code)
            )
            self.issued.append(MassnahmeZuweisung.objects.select_related("letter").get(pk=assignment.pk).letter)

    def ladder(self, case: Case) -> None:
        """EINL_BI → AUFF_15_5 (R-ESC-1, R-ESC-2); then a Zuweisungsbescheid (R-ZUW-3), its abort, and the
        Anhörung proposed by R-ABB-7 (ANH_31)."""
        eb = self.plan.eigenbemuehungen.order_by("pk").first()
        escalation = escalations.breach_record(
            case_id=case.pk,
            actor=case.responsible,
            breach_kind="EB_FEHLEN",
            breach_date=self.today - timedelta(days=1),
            description="Der Nachweis der Bewerbungen für den Vormonat ist trotz Nachfrist nicht eingegangen.",
            eigenbemuehung_id=eb.pk if eb else None,
        )
        escalations.intervention_invite(
            escalation_id=escalation.pk,
            actor=case.responsible,
            starts_at=self.at(6, 10),
            location="Jobcenter Musterstadt, Raum 1.12",
            idempotency_key=self.key("EINL_BI"),
        )
        self.issued.append(self.letter(case, "EINL_BI"))
        escalations.intervention_outcome(
            escalation_id=escalation.pk, actor=case.responsible, attended=True, wichtiger_grund=False
        )
        escalations.aufforderung_15_5_issue(
            escalation_id=escalation.pk,
            actor=case.responsible,
            duty="Legen Sie uns Nachweise über fünf Bewerbungen auf sozialversicherungspflichtige Stellen vor.",
            deadline=bekanntgabe(self.today) + timedelta(days=14),
            idempotency_key=self.key("AUFF_15_5"),
        )
        self.issued.append(self.letter(case, "AUFF_15_5"))

        assignment = measures.assignment_plan(
            plan_id=self.plan.pk,
            actor=case.responsible,
            massnahme_id=self.massnahme("AKTIVIERUNG", exclude=self.massnahme("AKTIVIERUNG")).pk,
            start_date=self.today + timedelta(days=14),
            end_date=self.today + timedelta(days=98),
            rueckmeldung_due=self.today + timedelta(days=10),
        )
        measures.zuweisungsbescheid_issue(
            assignment_id=assignment.pk, actor=case.responsible, idempotency_key=self.key("ZUW_BESCHEID")
        )
        bescheid = self.letter(case, "ZUW_BESCHEID")
        self.issued.append(bescheid)
        measures.assignment_report(assignment_id=assignment.pk, actor=case.responsible)
        measures.assignment_start(assignment_id=assignment.pk, actor=case.responsible)
        abort = measures.assignment_abort(
            assignment_id=assignment.pk,
            actor=case.responsible,
            aborted_on=self.today,
            description="Der Träger meldet: Teilnahme ohne Angabe von Gründen abgebrochen.",
        )
        escalations.anhoerung_issue(escalation_id=abort.pk, actor=case.responsible, idempotency_key=self.key("ANH_31"))
        self.issued.append(self.letter(case, "ANH_31"))
        self.bescheid = bescheid

    def aufforderung_15_6(self) -> None:
        case = self.adult(CooperationMode.NO_KP_15_6)
        escalations.aufforderung_15_6_issue(
            case_id=case.pk,
            actor=case.responsible,
            duty="Bewerben Sie sich auf die drei beigefügten Stellenangebote und legen Sie uns die Nachweise vor.",
            deadline=bekanntgabe(self.today) + timedelta(days=14),
            breach_description="Ein Kooperationsplan ist nicht zustande gekommen.",
            idempotency_key=self.key("AUFF_15_6"),
        )
        self.issued.append(self.letter(case, "AUFF_15_6"))

    def frozen_without_workflow(self, case: Case) -> None:
        actor: User = case.responsible
        invitation = self.letter(case, "EINL_RFB")
        starts_at = invitation.context["content"]["starts_at"]
        consequence = missed_appointment_consequence(with_rfb=True, dispatch_proven=True)
        answer_until = bekanntgabe(self.today) + timedelta(days=case.team.jobcenter.anhoerung_days)
        samples: list[tuple[RuleKind, Decision, dict[str, Any]]] = [
            (
                RuleKind.ANH_32,
                consequence,
                {
                    "reference_kind": "EINL_RFB",
                    "reference_number": invitation.number,
                    "reference_date": invitation.letter_date.isoformat(),
                    "appointment_starts_at": starts_at,
                    "breach": "Sie sind ohne Angabe eines Grundes nicht zum Termin gekommen.",
                    "breach_date": starts_at[:10],
                    "percent": 10,
                    "months": 1,
                    "answer_until": answer_until.isoformat(),
                    "in_person_offer": True,
                    "lifted_on_compliance": True,
                },
            ),
            (
                RuleKind.AUFH_ZB,
                combine(
                    allow(Reason("zuw.aufhebung_48", "R-ZUW-5", ("§ 48 SGB X", "001 §6.5"))),
                    rechtsbehelfsbelehrung_required(RuleKind.AUFH_ZB),
                ),
                {
                    "bescheid_date": self.bescheid.letter_date.isoformat(),
                    "bescheid_number": self.bescheid.number,
                    "massnahme": self.bescheid.context["content"]["massnahme"],
                    "effective_from": self.today.isoformat(),
                    "reason": f"Ersetzt durch den einvernehmlichen Kooperationsplan v{self.plan.version_number} "
                    "(§ 48 SGB X, für die Zukunft).",
                },
            ),
            (RuleKind.INFO_VB, Decision(True, rechtsbehelfsbelehrung_required(RuleKind.INFO_VB).reasons), {}),
            (RuleKind.FLYER_KP, Decision(True, rechtsbehelfsbelehrung_required(RuleKind.FLYER_KP).reasons), {}),
        ]
        for kind, decision, content in samples:
            self.issued.append(
                freeze_letter(
                    case=case,
                    kind=kind,
                    actor=actor,
                    decision=decision,
                    idempotency_key=self.key(kind.value),
                    content=content,
                )
            )
