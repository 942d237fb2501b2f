"""Synthetic letter snapshots for the rendering tests, built like `kooperationsplan.workflow.freeze_letter`.

The structure (jobcenter, sender, case, elb, letter_date, rule_set, reasons, recipient_reason, rfb,
rechtsbehelfsbelehrung, content) and each kind's content keys mirror the workflow services; the RFB
block comes from rules.letters.rfb_block and is serialised like `_rfb_json`. All data is made up.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rules.letters import LETTER_SPECS, LetterKind, recipients_for, rfb_block
from rules.ruleset import CURRENT

LETTER_DATE = date(2026, 5, 4)
BERLIN = ZoneInfo("Europe/Berlin")
APPOINTMENT = datetime(2026, 5, 19, 9, 30, tzinfo=BERLIN)
ADULT_BIRTH = date(1988, 3, 14)
MINOR_BIRTH = date(2009, 8, 1)

ELB = {
    "salutation": "Frau",
    "name": "Alexandra Beispiel-Muster",
    "street": "Lindenweg 7",
    "postal_code": "12345",
    "city": "Teststadt",
}
VERTRETUNGEN = [
    {
        "salutation": "Herr",
        "name": "Bernd Beispiel",
        "street": "Ahornstraße 2",
        "postal_code": "12345",
        "city": "Teststadt",
    },
    {
        "salutation": "ohne Anrede",
        "name": "Kim Beispiel",
        "street": "Ahornstraße 2",
        "postal_code": "12345",
        "city": "Teststadt",
    },
]

DUTIES = {
    "AUFF_15_5": "Sie schicken uns 5 Bewerbungen auf Stellen als Lagerhelferin mit der Bewerbungsliste",
    "AUFF_15_6": "Sie nehmen an einem Gespräch zur Potenzialanalyse teil und bringen Ihren Lebenslauf mit",
}
DEADLINE = date(2026, 6, 1)


def _rfb_json(kind: LetterKind, content: dict[str, Any], percent: int, months: int) -> dict[str, Any] | None:
    """Like workflow._rfb_json(rfb_block(...)) with the duty each service builds."""
    if not LETTER_SPECS[kind].with_rfb:
        return None
    if kind in (LetterKind.EINL_RFB, LetterKind.EINL_UNTERSUCHUNG):
        duty = f"Termin am {APPOINTMENT:%d.%m.%Y um %H:%M Uhr}, {content['location']}: {content['meldezweck']}"
        deadline, percent, months = APPOINTMENT.date(), 10, 1
    elif kind is LetterKind.ZUW_BESCHEID:
        duty = (
            f"Teilnahme an der Maßnahme „{content['massnahme']}“ ab 01.06.2026; Vorstellung beim Träger bis 22.05.2026"
        )
        deadline = date(2026, 5, 22)
    else:
        duty, deadline = content["duty"], DEADLINE
    decision, block = rfb_block(kind, duty=duty, deadline=deadline, percent=percent, months=months)
    assert decision.allowed, decision.codes
    data = asdict(block)
    data["kind"] = block.kind.value
    data["deadline"] = block.deadline.isoformat() if block.deadline else None
    return data


def _measure() -> dict[str, Any]:
    return {
        "massnahme": "Perspektive Lager und Logistik",
        "massnahme_nummer": "962/0815/26",
        "art": "Maßnahme zur Aktivierung und beruflichen Eingliederung",
        "rechtsgrundlage": "§ 16 Abs. 1 SGB II i. V. m. § 45 SGB III",
        "content": "Praxiserprobung im Lager\nBewerbungstraining, Staplerschein",
        "traeger": {
            "name": "Bildungswerk Teststadt gGmbH",
            "street": "Hafenstraße 12",
            "postal_code": "12347",
            "city": "Teststadt",
            "contact": "Frau Petra Träger",
            "phone": "0123 98765-0",
            "email": "info@bildungswerk.example",
        },
        "location": "Hafenstraße 12, 12347 Teststadt",
        "schedule": "Montag bis Freitag, 8:00 bis 12:30 Uhr",
        "start": "2026-06-01",
        "end": "2026-08-31",
        "rueckmeldung_due": "2026-05-22",
        "kp_version": 2,
        "assignment": 41,
    }


def content_for(kind: str) -> dict[str, Any]:
    """Realistic content of each kind, with the keys the workflow services freeze."""
    if kind.startswith("EINL_"):
        return {
            "appointment_kind": "Ärztliche Untersuchung" if kind == "EINL_UNTERSUCHUNG" else "Beratungsgespräch",
            "starts_at": APPOINTMENT.isoformat(),
            "location": "Jobcenter Teststadt, Marktplatz 1, Raum 2.14",
            "meldezweck": "Wir besprechen Ihre berufliche Situation und Ihre nächsten Schritte.",
            "documents_to_bring": "Lebenslauf\nZeugnisse",
            "fahrtkosten_note": True,
        }
    if kind == "KP_DOKUMENT":
        return {
            "version": 2,
            "valid_from": "2026-05-04",
            "valid_to": "2026-11-03",
            "review_due": "2026-11-03",
            "naechstes_ziel": "Ich finde bis zum Sommer ein Praktikum im Lager.",
            "items": [
                {
                    "kind": "SOLL_1",
                    "label": "Eingliederungsleistungen",
                    "text": "Das Jobcenter bezahlt meinen Staplerschein.",
                    "nicht_relevant": False,
                },
                {
                    "kind": "SOLL_2",
                    "label": "Eigenbemühungen",
                    "text": "Ich suche Stellen in der Logistik.",
                    "nicht_relevant": False,
                },
                {"kind": "SOLL_3", "label": "Sprachförderung", "text": "", "nicht_relevant": True},
                {"kind": "SOLL_4", "label": "Leistungen Dritter", "text": "", "nicht_relevant": True},
                {
                    "kind": "SOLL_5",
                    "label": "Vermittlungsziel",
                    "text": "Ich arbeite als Fachkraft für Lagerlogistik.",
                    "nicht_relevant": False,
                },
                {"kind": "SOLL_6", "label": "Rehabilitationsbedarf", "text": "", "nicht_relevant": True},
                {
                    "kind": "KANN_1",
                    "label": "Gesundheit",
                    "text": "Ich achte auf meinen Rücken und hebe nicht schwer.",
                    "nicht_relevant": False,
                },
            ],
            "steps": [
                {
                    "text": "Ich melde mich für den Staplerschein an.",
                    "responsible": "ich (eLb)",
                    "due_on": "2026-05-31",
                },
                {
                    "text": "Das Jobcenter prüft die Kosten für den Staplerschein.",
                    "responsible": "Jobcenter",
                    "due_on": None,
                },
            ],
            "eigenbemuehungen": [
                {
                    "kind": "Bewerbungen",
                    "description": "Auf Stellen als Lagerhelferin in Teststadt und Umgebung.",
                    "min_count": 5,
                    "period": "pro Monat",
                    "nachweis_form": "Bewerbungsliste",
                    "nachweis_due_day": 5,
                }
            ],
            "massnahmen": [
                {
                    "title": "Perspektive Lager und Logistik",
                    "traeger": "Bildungswerk Teststadt gGmbH",
                    "start": "2026-06-01",
                }
            ],
            "not_binding_note": True,
            "enclosures": ["INFO_VB", "FLYER_KP"],
        }
    if kind in ("ZUW_SCHREIBEN_AGH", "ZUW_SCHREIBEN_AKTIVIERUNG"):
        return _measure()
    if kind == "ZUW_BESCHEID":
        return {
            **_measure(),
            "valid_to": "2026-11-03",
            "traeger_ruecksprache_on": "2026-04-28",
            "aufhebung_of": {"date": "2026-03-02", "number": "2026-0000007"},
        }
    if kind == "AUFF_15_5":
        return {
            "duty": DUTIES[kind],
            "deadline": DEADLINE.isoformat(),
            "kp_version": 2,
            "breach": "Die vereinbarten 5 Bewerbungen für April wurden nicht nachgewiesen.",
            "breach_date": "2026-04-30",
            "escalation": 17,
        }
    if kind == "AUFF_15_6":
        return {
            "duty": DUTIES[kind],
            "deadline": DEADLINE.isoformat(),
            "reference": "kein Kooperationsplan",
            "escalation": 18,
        }
    if kind in ("ANH_31", "ANH_32"):
        content = {
            "reference_kind": "AUFF_15_5" if kind == "ANH_31" else "EINL_RFB",
            "reference_number": "2026-0000011",
            "reference_date": "2026-04-02",
            "breach": "Die geforderten 5 Bewerbungen wurden bis zum 20.04.2026 nicht nachgewiesen."
            if kind == "ANH_31"
            else "Sie sind nicht zum Termin gekommen.",
            "breach_date": "2026-04-20",
            "percent": 20 if kind == "ANH_31" else 10,
            "months": 2 if kind == "ANH_31" else 1,
            "start_rule": "ab dem Monat nach Bekanntgabe des Feststellungsbescheids",
            "answer_until": "2026-05-21",
            "in_person_offer": True,
            "lifted_on_compliance": True,
            "repeated": kind == "ANH_31",
        }
        if kind == "ANH_32":
            content["appointment_starts_at"] = (APPOINTMENT - timedelta(days=30)).isoformat()
        return content
    if kind == "AUFH_ZB":
        return {
            "bescheid_date": "2026-03-02",
            "bescheid_number": "2026-0000007",
            "massnahme": "Perspektive Lager und Logistik",
            "effective_from": "2026-05-04",
            "reason": "Ersetzt durch den einvernehmlichen Kooperationsplan v3 (§ 48 SGB X, für die Zukunft).",
        }
    return {}


def recipients(kind: str, *, minor: bool = False) -> list[dict[str, str]]:
    """Like workflow.letter_recipients: P5 by the age on the letter date."""
    birth = MINOR_BIRTH if minor else ADULT_BIRTH
    plan = recipients_for(LetterKind(kind), birth_date=birth, letter_date=LETTER_DATE, vertretungen=len(VERTRETUNGEN))
    result: list[dict[str, str]] = []
    if plan.to_elb:
        result.append({"role": "elb", **ELB})
    if plan.to_vertretungen:
        result += [{"role": "gesetzliche_vertretung", **gv} for gv in VERTRETUNGEN]
    if plan.copy_to_elb:
        result.append({"role": "kopie_elb", **ELB})
    return result


def snapshot(
    kind: str, *, minor: bool = False, percent: int = 20, months: int = 2, content: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The frozen context of one letter, exactly in freeze_letter's structure."""
    letter_kind = LetterKind(kind)
    spec = LETTER_SPECS[letter_kind]
    body = content if content is not None else content_for(kind)
    return {
        "jobcenter": {
            "name": "Jobcenter Teststadt",
            "street": "Marktplatz 1",
            "postal_code": "12345",
            "city": "Teststadt",
            "phone": "0123 4567-0",
            "email": "jobcenter-teststadt@jobcenter.example",
            "opening_hours": "Mo–Fr 8–12 Uhr, Do 14–18 Uhr",
            "widerspruch_address": "Widerspruchsstelle\nPostfach 10 20 30\n12340 Teststadt",
        },
        "sender": {
            "name": "Jonas Fallmanager",
            "team": "Team Nord",
            "phone": "0123 4567-214",
            "room": "2.14",
            "email": "jonas.fallmanager@jobcenter.example",
        },
        "case": {"aktenzeichen": "KP-2026-000123", "kundennummer": "123A456789", "bg_nummer": "12345BG0006789"},
        "elb": {**ELB, "birth_date": (MINOR_BIRTH if minor else ADULT_BIRTH).isoformat()},
        "letter_date": LETTER_DATE.isoformat(),
        "rule_set": CURRENT.id,
        "reasons": [
            {
                "code": "letter.kind",
                "rule_id": "R-LET-1",
                "sources": ["RULES.md 6.1"],
                "params": {},
                "needs_legal_review": False,
            }
        ],
        "recipient_reason": {"code": "recipients.elb", "rule_id": "R-MIN-1"},
        "rfb": _rfb_json(letter_kind, body, percent, months),
        "rechtsbehelfsbelehrung": spec.is_va,
        "content": body,
    }
