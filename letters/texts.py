"""German text building blocks of the letters (RULES.md 6.1-6.4), in plain language (000/001 §1).

Every function returns plain strings; the templates escape them. Nothing here reads live data: the
values come from the frozen letter snapshot (DESIGN.md "Letters"). The Rechtsfolgenbelehrung is built
from the RfbBlock fields only, never from free text (R-LET-1, L-27); the Rechtsbehelfsbelehrung
follows RULES.md 6.4 (L-28).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")

# Titles of the catalogue (RULES.md 6.1), used for references such as "unser Schreiben vom …".
KIND_TITLES = {
    "EINL_KP_ERST": "Einladung zum Gespräch über Ihre Potenzialanalyse und Ihren Kooperationsplan",
    "EINL_RFB": "Einladung (Meldeaufforderung)",
    "EINL_OHNE_RFB": "Einladung",
    "EINL_BI": "Einladung zu einem Beratungsgespräch",
    "EINL_UNTERSUCHUNG": "Einladung zu einer ärztlichen oder psychologischen Untersuchung",
    "KP_DOKUMENT": "Kooperationsplan",
    "ZUW_SCHREIBEN_AGH": "Zuweisungsschreiben zu einer Arbeitsgelegenheit",
    "ZUW_SCHREIBEN_AKTIVIERUNG": "Zuweisungsschreiben zu einer Maßnahme",
    "ZUW_BESCHEID": "Zuweisungsbescheid",
    "AUFF_15_5": "Aufforderung nach § 15 Abs. 5 SGB II",
    "AUFF_15_6": "Aufforderung nach § 15 Abs. 6 SGB II",
    "ANH_31": "Anhörung nach § 24 SGB X",
    "ANH_32": "Anhörung nach § 24 SGB X wegen eines Meldeversäumnisses",
    "AUFH_ZB": "Aufhebung eines Zuweisungsbescheids",
    "INFO_VB": "Info-Blatt Vermittlungsbudget: Eigenbemühungen und Vorstellungsgespräche",
    "FLYER_KP": "Flyer „Mein Kooperationsplan – Gemeinsam. Planen. Handeln. Gestalten.“",
}

# R-INV-6 / L-24: on every invitation.
FAHRTKOSTEN_NOTE = "Fahrtkosten können auf Antrag übernommen werden (§ 59 SGB II)."
MACHINE_NOTE = "Dieses Schreiben wurde maschinell erstellt und ist ohne Unterschrift gültig."
# R-KP-2: the KP is not legally binding and carries no signature.
KP_NOT_BINDING_NOTE = "Dieser Kooperationsplan ist rechtlich nicht verbindlich und wird nicht unterschrieben."
COPY_MARK = "Kopie zur Kenntnis"
RFB_HEADING = "Rechtsfolgenbelehrung"
RBB_HEADING = "Rechtsbehelfsbelehrung"
START_RULE = "ab dem Monat nach Bekanntgabe des Feststellungsbescheids"


# --- Formatting --------------------------------------------------------------------------------------


def parse_date(value: Any) -> date | None:
    """An ISO date (or datetime) of the snapshot as a date; None for empty values."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return datetime.fromisoformat(str(value)).date()


def fmt_date(value: Any) -> str:
    """dd.mm.yyyy, the German numeric date of DIN 5008."""
    day = parse_date(value)
    return f"{day:%d.%m.%Y}" if day else ""


def fmt_date_long(value: Any) -> str:
    """ "Dienstag, 12.05.2026" (without locale, so the output never depends on the worker's setup)."""
    day = parse_date(value)
    return f"{WEEKDAYS[day.weekday()]}, {day:%d.%m.%Y}" if day else ""


def fmt_datetime(value: Any) -> str:
    """ "Dienstag, 12.05.2026, um 09:30 Uhr" from the stored local ISO timestamp."""
    if value in (None, ""):
        return ""
    moment = datetime.fromisoformat(str(value))
    return f"{WEEKDAYS[moment.weekday()]}, {moment:%d.%m.%Y}, um {moment:%H:%M} Uhr"


def months_text(months: int) -> str:
    return "1 Monat" if months == 1 else f"{months} Monate"


def times_text(count: int) -> str:
    return "einmal" if count == 1 else f"{count}-mal"


# --- Addresses and salutation -----------------------------------------------------------------------


def address_lines(person: Mapping[str, Any]) -> list[str]:
    """DIN 5008 Anschriftzone: Anrede line (if any), name, street, postal code and city."""
    lines = []
    salutation = str(person.get("salutation") or "")
    if salutation in ("Frau", "Herr"):
        lines.append(salutation)
    lines.append(str(person.get("name") or ""))
    lines.append(str(person.get("street") or ""))
    lines.append(f"{person.get('postal_code') or ''} {person.get('city') or ''}".strip())
    return [line for line in lines if line]


def salutation_line(person: Mapping[str, Any]) -> str:
    """The snapshot holds the full name only, so the salutation uses it (also right for double names)."""
    name = str(person.get("name") or "").strip()
    salutation = str(person.get("salutation") or "")
    if salutation == "Frau":
        return f"Sehr geehrte Frau {name},"
    if salutation == "Herr":
        return f"Sehr geehrter Herr {name},"
    return f"Guten Tag {name},"


def vertretung_note(elb: Mapping[str, Any]) -> str:
    """P5 / R-MIN-2: a letter to the gesetzliche Vertretung says whom it concerns."""
    born = fmt_date(elb.get("birth_date"))
    born_text = f", geboren am {born}" if born else ""
    name = elb.get("name") or ""
    return (
        f"Sie erhalten dieses Schreiben als gesetzliche Vertretung von {name}{born_text}. "
        f"Die Pflichten und Rechte in diesem Schreiben betreffen {name}. "
        f"Wenn im Folgenden „Sie“ steht, ist {name} gemeint."
    )


def copy_note() -> str:
    """P5: the minor receives a copy of the letter sent to the gesetzliche Vertretung."""
    return (
        "Dieses Schreiben haben wir an Ihre gesetzliche Vertretung geschickt. "
        "Sie erhalten eine Kopie, damit Sie wissen, worum es geht."
    )


# --- Invitations (RULES.md 6.2 EINL_*) ---------------------------------------------------------------


def cancel_text(sender: Mapping[str, Any]) -> str:
    """How to cancel or postpone (6.2 EINL_*)."""
    contact = []
    if sender.get("phone"):
        contact.append(f"Telefon {sender['phone']}")
    if sender.get("email"):
        contact.append(f"E-Mail {sender['email']}")
    how = f" ({', '.join(contact)})" if contact else ""
    return (
        f"Sie können den Termin nicht wahrnehmen? Dann melden Sie sich bitte vor dem Termin bei uns{how}. "
        "Nennen Sie uns bitte den Grund. Wir vereinbaren dann einen neuen Termin mit Ihnen."
    )


INVITATION_INTROS = {
    "EINL_KP_ERST": (
        "wir laden Sie zu einem Gespräch ein. Gemeinsam schauen wir, was Sie gut können, was Sie sich "
        "beruflich vorstellen und was Ihnen dabei im Weg steht (Potenzialanalyse). Danach schreiben wir "
        "zusammen Ihren Kooperationsplan."
    ),
    "EINL_RFB": "wir laden Sie zu einem Termin ein. Bitte kommen Sie zu diesem Termin.",
    "EINL_OHNE_RFB": "wir laden Sie zu einem Termin ein.",
    "EINL_BI": (
        "wir möchten mit Ihnen in Ruhe besprechen, wie es weitergeht. In diesem Beratungsgespräch klären "
        "wir gemeinsam, was passiert ist und welche Unterstützung Sie brauchen."
    ),
    "EINL_UNTERSUCHUNG": (
        "wir laden Sie zu einer Untersuchung ein. Die Untersuchung hilft uns einzuschätzen, welche Arbeit "
        "und welche Unterstützung zu Ihrer Gesundheit passen. Bitte kommen Sie zu diesem Termin."
    ),
}


# --- Rechtsfolgenbelehrung (RULES.md 6.3, R-LET-1) ----------------------------------------------------


def rfb_paragraphs(rfb: Mapping[str, Any]) -> list[dict[str, str]]:
    """The RFB block from the RfbBlock facts only: konkret, vollständig, verständlich (L-27).

    Each entry is one paragraph {"lead": bold start, "text": rest}.
    """
    percent = int(rfb["percent"])
    months = int(rfb["months"])
    appointment = rfb.get("kind") in ("EINL_RFB", "EINL_UNTERSUCHUNG")
    paragraphs = [{"lead": "Ihre Pflicht: ", "text": str(rfb["duty"])}]
    if rfb.get("deadline"):
        label = "Termin: " if appointment else "Frist: "
        paragraphs.append({"lead": label, "text": f"{'am' if appointment else 'bis zum'} {fmt_date(rfb['deadline'])}"})
    if appointment:
        breach = "Wenn Sie ohne wichtigen Grund nicht zu diesem Termin kommen, ist das ein Meldeversäumnis. "
    else:
        breach = "Wenn Sie diese Pflicht ohne wichtigen Grund nicht oder nicht rechtzeitig erfüllen, "
        breach += "ist das eine Pflichtverletzung. "
    paragraphs.append(
        {
            "lead": "Was passiert, wenn Sie die Pflicht nicht erfüllen? ",
            "text": breach
            + f"Dann wird Ihr Bürgergeld gemindert: Ihr Regelbedarf wird um {percent} Prozent gemindert, "
            f"für {months_text(months)}. Die Minderung beginnt {START_RULE}. Der Feststellungsbescheid ist "
            "der Bescheid, mit dem das Jobcenter die Minderung festlegt.",
        }
    )
    if rfb.get("wichtiger_grund_exception", True):
        paragraphs.append(
            {
                "lead": "Wichtiger Grund: ",
                "text": "Es gibt keine Minderung, wenn Sie einen wichtigen Grund haben. Den wichtigen Grund "
                "müssen Sie uns mitteilen und nachweisen, zum Beispiel mit einer ärztlichen Bescheinigung.",
            }
        )
    if rfb.get("haerte_note", True):
        paragraphs.append(
            {
                "lead": "Außergewöhnliche Härte: ",
                "text": "Es gibt auch keine Minderung, wenn sie für Sie eine außergewöhnliche Härte wäre. "
                "Bitte sagen Sie uns, wenn es bei Ihnen besondere Umstände gibt.",
            }
        )
    if rfb.get("lifted_on_compliance", True):
        paragraphs.append(
            {
                "lead": "Aufhebung der Minderung: ",
                "text": "Wenn Sie die Pflicht später erfüllen oder ernsthaft erklären, dass Sie sie erfüllen "
                "werden, heben wir die Minderung auf. Sie endet dann frühestens nach einem Monat.",
            }
        )
    if rfb.get("no_sgb_xii_help", True):
        paragraphs.append(
            {
                "lead": "Keine Sozialhilfe als Ersatz: ",
                "text": "Während der Minderung bekommen Sie keine ergänzende Hilfe zum Lebensunterhalt "
                "nach dem Zwölften Buch Sozialgesetzbuch (SGB XII).",
            }
        )
    if rfb.get("in_person_anhoerung", True):
        paragraphs.append(
            {
                "lead": "Anhörung: ",
                "text": "Bevor wir über eine Minderung entscheiden, fragen wir Sie nach Ihrer Sicht. "
                "Sie können verlangen, dass wir Sie persönlich anhören.",
            }
        )
    basis = "§§ 32, 31a, 31b SGB II" if str(rfb.get("basis", "")).startswith("§ 32") else "§§ 31, 31a, 31b SGB II"
    paragraphs.append({"lead": "Rechtsgrundlage: ", "text": basis})
    return paragraphs


# --- Rechtsbehelfsbelehrung (RULES.md 6.4, R-LET-2, L-28) ---------------------------------------------


# Widerspruch; one month after Bekanntgabe (three months abroad, § 84 Abs. 1 SGG); in writing or zur
# Niederschrift; the address follows as its own block (widerspruch_address of the snapshot); postal
# Bekanntgabe on the third day (§ 37 Abs. 2 SGB X).
RBB_NOUNS = {
    "EINL_RFB": "diese Einladung",
    "EINL_UNTERSUCHUNG": "diese Einladung",
    "AUFF_15_5": "diese Aufforderung",
    "AUFF_15_6": "diese Aufforderung",
}


def rbb_before_address(kind: str) -> tuple[str, str]:
    this = RBB_NOUNS.get(kind, "diesen Bescheid")
    return (
        f"Sie können gegen {this} Widerspruch einlegen. Der Widerspruch muss innerhalb eines Monats "
        "nach Bekanntgabe bei uns eingehen.",
        "Sie können den Widerspruch schriftlich einlegen oder zur Niederschrift: Dann kommen Sie zu uns, und "
        "wir schreiben Ihren Widerspruch auf. Bitte richten Sie Ihren Widerspruch an:",
    )


RBB_AFTER_ADDRESS = (
    "Ein Brief mit der Post gilt am dritten Tag nach der Aufgabe zur Post als bekannt gegeben. "
    "Wenn Ihnen das Schreiben im Ausland bekannt gegeben wird, haben Sie drei Monate Zeit.",
)


# --- Kooperationsplan in the Ich-Perspektive (R-KP-3) ------------------------------------------------

# The snapshot carries the display labels of the Eigenbemühungen (frozen); the sentences follow the
# editor's first-person preview so that the eLb reads the same text in both.
EB_SENTENCES = {
    "Bewerbungen": "Ich bewerbe mich mindestens {times} {period}.",
    "Initiativbewerbungen": "Ich bewerbe mich mindestens {times} {period} initiativ, also ohne Stellenanzeige.",
    "Vorstellungsgespräche": "Ich nehme mindestens {times} {period} an Vorstellungsgesprächen teil.",
    "Stellensuche (z. B. Jobbörse)": "Ich suche mindestens {times} {period} nach passenden Stellen, "
    "zum Beispiel in der Jobbörse.",
}
EB_PERIODS = {"während der Laufzeit des KP": "während der Laufzeit des Plans"}
EB_FOLLOWING = {
    "pro Woche": "Tag der Folgewoche",
    "pro Monat": "des Folgemonats",
    "pro Quartal": "Tag des Folgequartals",
    "während der Laufzeit des KP": "Tag nach dem Ende des Plans",
}
STEP_NOTES = {"Jobcenter": "Darum kümmert sich das Jobcenter.", "Dritte": "Darum kümmern sich Dritte."}

# Sections of the KP document: the same titles as the editor's preview (R-KP-5, R-KP-6).
KP_ALWAYS_SECTIONS = (("Mein Ziel", "SOLL_5"),)
KP_SUPPORT_SECTION = ("Das Jobcenter unterstützt mich", "SOLL_1")
KP_OPTIONAL_SECTIONS = (
    ("Deutschkurs und Sprachförderung", "SOLL_3"),
    ("Unterstützung durch andere Stellen", "SOLL_4"),
    ("Rehabilitation", "SOLL_6"),
    ("Meine Gesundheit", "KANN_1"),
    ("Meine Familie (Bedarfsgemeinschaft)", "KANN_2"),
    ("Weitere Absprachen", "WEITERE"),
)


def eigenbemuehung_text(eb: Mapping[str, Any]) -> str:
    kind = str(eb.get("kind") or "")
    period_label = str(eb.get("period") or "")
    period = EB_PERIODS.get(period_label, period_label)
    count = eb.get("min_count")
    sentences = []
    if count == 0:
        sentences.append(f"Eine Mindestanzahl ({kind}) ist derzeit nicht vereinbart.")
    elif count is not None:
        template = EB_SENTENCES.get(kind, "Meine Eigenbemühung ({kind}): mindestens {times} {period}.")
        sentences.append(template.format(kind=kind, times=times_text(int(count)), period=period))
    if eb.get("description"):
        sentences.append(str(eb["description"]))
    if eb.get("nachweis_form") and eb.get("nachweis_due_day"):
        following = EB_FOLLOWING.get(period_label, "Tag des Folgezeitraums")
        sentences.append(
            f"Den Nachweis ({eb['nachweis_form']}) gebe ich bis zum {eb['nachweis_due_day']}. {following} ab."
        )
    return " ".join(sentences)


def step_text(step: Mapping[str, Any]) -> str:
    parts = [str(step.get("text") or "")]
    if step.get("due_on"):
        parts.append(f"Bis zum {fmt_date(step['due_on'])}.")
    note = STEP_NOTES.get(str(step.get("responsible") or ""))
    if note:
        parts.append(note)
    return " ".join(part for part in parts if part)


def kp_term_text(valid_from: Any, valid_to: Any, review_due: Any) -> str:
    return (
        f"Mein Plan gilt vom {fmt_date(valid_from)} bis zum {fmt_date(valid_to)}. Spätestens am "
        f"{fmt_date(review_due)} sprechen wir gemeinsam darüber, wie es weitergeht."
    )


# --- Informational handouts (INFO_VB, FLYER_KP) ------------------------------------------------------

INFO_VB_SECTIONS = (
    (
        "Worum geht es?",
        "Bewerbungen und Fahrten zu Vorstellungsgesprächen kosten Geld. Das Jobcenter kann diese Kosten "
        "aus dem Vermittlungsbudget übernehmen (§ 16 Abs. 1 SGB II in Verbindung mit § 44 SGB III).",
    ),
    (
        "Was kann übernommen werden?",
        "Zum Beispiel Kosten für Bewerbungsunterlagen, für Fotos und Porto sowie Fahrtkosten zu einem "
        "Vorstellungsgespräch. Über die Höhe entscheiden wir im Einzelfall.",
    ),
    (
        "Wie bekomme ich das Geld?",
        "Stellen Sie bitte einen Antrag, bevor die Kosten entstehen. Sprechen Sie dazu mit Ihrer "
        "Ansprechperson im Jobcenter. Heben Sie Belege auf, zum Beispiel Fahrkarten, Quittungen und die "
        "Einladung zum Vorstellungsgespräch.",
    ),
    (
        "Meine Eigenbemühungen",
        "Welche Eigenbemühungen Sie machen und wie Sie sie nachweisen, steht in Ihrem Kooperationsplan. "
        "Bitte geben Sie die Nachweise rechtzeitig ab.",
    ),
)

FLYER_SECTIONS = (
    (
        "Gemeinsam",
        "Sie und Ihre Ansprechperson im Jobcenter sprechen darüber, was Sie können und was Sie erreichen "
        "möchten. Daraus entsteht Ihr Kooperationsplan.",
    ),
    (
        "Planen",
        "Im Kooperationsplan stehen Ihr Ziel und die nächsten Schritte. Er steht in Ihren Worten: „Ich …“.",
    ),
    (
        "Handeln",
        "Sie gehen die Schritte, das Jobcenter unterstützt Sie dabei. Sie bekommen den Plan in Textform; "
        "er wird nicht unterschrieben.",
    ),
    (
        "Gestalten",
        "Spätestens nach sechs Monaten schauen Sie und das Jobcenter gemeinsam auf den Plan und schreiben "
        "ihn fort. Wenn sich vorher etwas ändert, sprechen Sie uns gern an.",
    ),
)
