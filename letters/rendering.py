"""Rendering a frozen letter snapshot to HTML and to a PDF/A-3a (DESIGN.md "Letters").

The snapshot (see `kooperationsplan.workflow.freeze_letter`) is the only input: a sent letter is never
re-rendered from live data. Rendering refuses letters that break the catalogue (RULES.md 6.1, 6.2):
an RFB on the KP (R-KP-2), an RFB missing or present against the catalogue or with a level the law
does not allow (R-LET-1, R-SAN-1), a Rechtsbehelfsbelehrung that does not match the Verwaltungsakt
flag (R-LET-2), or a missing required field (6.2).

Content keys read per kind (written by the workflow services; ANH_32, INFO_VB and FLYER_KP have no
caller yet, their keys are the ones named here):
- EINL_*: starts_at, location, meldezweck, appointment_kind, documents_to_bring.
- KP_DOKUMENT: version, valid_from, valid_to, review_due, naechstes_ziel, items, steps, eigenbemuehungen,
  massnahmen, enclosures.
- ZUW_SCHREIBEN_*, ZUW_BESCHEID: massnahme, massnahme_nummer, art, rechtsgrundlage, content, traeger{…},
  location, schedule, start, end, rueckmeldung_due, kp_version; the Bescheid also valid_to,
  traeger_ruecksprache_on, aufhebung_of{date, number}, optional begruendung.
- AUFF_15_5 / AUFF_15_6: duty, deadline, kp_version, breach, breach_date / reference.
- ANH_31 / ANH_32: reference_kind, reference_number, reference_date, breach, breach_date, percent, months,
  start_rule, answer_until, in_person_offer, lifted_on_compliance, repeated; ANH_32 optionally
  appointment_starts_at.
- AUFH_ZB: bescheid_date, bescheid_number, massnahme, effective_from, reason, optional
  zuweisungsschreiben_number.
"""

from __future__ import annotations

import atexit
import functools
import mimetypes
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

from letters import texts
from rules.letters import LETTER_SPECS, LetterKind
from rules.ruleset import CURRENT

# The version of the templates and texts of this module and letters/texts.py; frozen on every letter.
TEMPLATE_VERSION = "2026.1"
PDF_VARIANT = "pdf/a-3a"
STATIC_SCHEME = "kpstatic:"
COPY_START = "<!-- kp:copy-start -->"
COPY_END = "<!-- kp:copy-end -->"
STYLESHEET = "letters/letter.css"
LETTERS_STATIC = Path(__file__).resolve().parent / "static"

# R-SAN-1 / L-16: the only levels the law allows, with their durations.
ALLOWED_LEVELS = {(10, 1), (20, 2), (30, 3)}
INVITATION_KINDS = ("EINL_KP_ERST", "EINL_RFB", "EINL_OHNE_RFB", "EINL_BI", "EINL_UNTERSUCHUNG")
MEASURE_KINDS = ("ZUW_SCHREIBEN_AGH", "ZUW_SCHREIBEN_AKTIVIERUNG", "ZUW_BESCHEID")

# RULES.md 6.2: the content fields a letter cannot do without (the generator fails if any is missing).
REQUIRED_CONTENT: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(INVITATION_KINDS, ("starts_at", "location", "meldezweck")),
    "KP_DOKUMENT": ("valid_from", "valid_to", "review_due", "naechstes_ziel", "items", "steps", "eigenbemuehungen"),
    **dict.fromkeys(MEASURE_KINDS, ("massnahme", "traeger.name", "start", "end", "rueckmeldung_due")),
    "AUFF_15_5": ("duty", "deadline", "breach"),
    "AUFF_15_6": ("duty", "deadline"),
    "ANH_31": ("reference_date", "breach", "breach_date", "percent", "months", "answer_until"),
    "ANH_32": ("reference_date", "breach", "breach_date", "percent", "months", "answer_until"),
    "AUFH_ZB": ("bescheid_date", "bescheid_number", "massnahme", "effective_from", "reason"),
    "INFO_VB": (),
    "FLYER_KP": (),
}
REQUIRED_CONTENT["ZUW_BESCHEID"] += ("valid_to",)
REQUIRED_SNAPSHOT = (
    "letter_date",
    "rule_set",
    "jobcenter.name",
    "sender.name",
    "case.aktenzeichen",
    "case.kundennummer",
    "elb.name",
)
REQUIRED_RECIPIENT = ("name", "street", "postal_code", "city")


class LetterError(Exception):
    """A letter cannot be issued or rendered; the message is German and shown to the user."""


class LetterRenderError(LetterError):
    """The snapshot breaks the catalogue or misses a required field; the message is German and names the rule."""


# --- Public API ---------------------------------------------------------------------------------------


def render_letter_html(
    letter_snapshot: Mapping[str, Any],
    *,
    kind: str,
    recipients: list[dict[str, Any]],
    letter_number: str,
    template_version: str | None = None,
) -> str:
    """The letter as HTML: one copy per recipient (P5), from the frozen snapshot only."""
    kind = _checked_kind(kind)
    snapshot = letter_snapshot
    letter_date, subject, blocks = _checked_body(kind, snapshot, recipients)
    jobcenter = snapshot["jobcenter"]
    sender = snapshot["sender"]
    context = {
        "kind": kind,
        "title": letter_title(kind, letter_number),
        "created": letter_date.isoformat() if letter_date else "",
        "jobcenter": jobcenter,
        "sender": sender,
        "return_address": " · ".join(
            part
            for part in (
                jobcenter.get("name"),
                jobcenter.get("street"),
                f"{jobcenter.get('postal_code') or ''} {jobcenter.get('city') or ''}".strip(),
            )
            if part
        ),
        "info": _info_rows(snapshot, letter_number),
        "footer": _footer(snapshot, letter_number, template_version or TEMPLATE_VERSION),
        "subject": subject,
        "blocks": blocks,
        "copies": [_copy(snapshot, recipient) for recipient in recipients],
        "rfb": _rfb_context(snapshot["rfb"]) if snapshot.get("rfb") is not None else None,
        "rbb": _rbb_context(kind, jobcenter) if snapshot.get("rechtsbehelfsbelehrung") else None,
        # R-KP-2: the KP has no closing, no signature and no note about a signature at all.
        "closing": "" if kind == "KP_DOKUMENT" else f"Ihr {jobcenter['name']}",
        "machine_note": texts.MACHINE_NOTE,
        "enclosures": _enclosures(kind, snapshot.get("content") or {}),
    }
    return render_to_string("letters/letter.html", context)


def check_snapshot(letter_snapshot: Mapping[str, Any], *, kind: str, recipients: list[dict[str, Any]]) -> None:
    """The render-time checks, run when the letter is issued (RULES.md 6.2: "the generator must fail if any
    [required field] is missing"): catalogue (R-KP-2, R-LET-1, R-LET-2), required fields, and a dry run of
    the body, so that an issued letter can always be rendered. Raises LetterRenderError."""
    _checked_body(_checked_kind(kind), letter_snapshot, recipients)


def _checked_body(
    kind: str, snapshot: Mapping[str, Any], recipients: list[dict[str, Any]]
) -> tuple[Any, str, list[Block]]:
    _check_rfb_and_va(kind, snapshot)
    _check_required(kind, snapshot, recipients)
    try:
        letter_date = texts.parse_date(snapshot["letter_date"])
        subject, blocks = BODY_BUILDERS[kind](snapshot, snapshot.get("content") or {})
    except (KeyError, TypeError, ValueError) as error:
        # A malformed snapshot (e.g. a date that is not ISO) fails as a letter error the task can record.
        raise LetterRenderError(
            f"Das Schreiben „{texts.KIND_TITLES[kind]}“ kann nicht erzeugt werden: ungültige Angabe {error!r}."
        ) from error
    return letter_date, subject, blocks


# The fixed time stamp of embedded font subsets (Unix time of 2023-07-01, the day § 15 SGB II in its
# Kooperationsplan version took effect); any constant does, a constant keeps the bytes stable.
FONT_TIMESTAMP = "1688169600"


def render_pdf(html: str, *, title: str) -> bytes:
    """A tagged PDF/A-3a of the letter HTML. Each copy (recipient) is laid out on its own, so that its
    pages are numbered "Seite X von Y" for that copy; the copies are then joined into one file."""
    from weasyprint import HTML

    font_config, stylesheet = _weasyprint_setup()
    # fontTools stamps each embedded font subset with the time of writing unless SOURCE_DATE_EPOCH (the
    # reproducible-builds convention) fixes it: a re-render a second later would give other bytes (T14, R-ARC-1).
    os.environ.setdefault("SOURCE_DATE_EPOCH", FONT_TIMESTAMP)
    documents = [
        HTML(string=part, url_fetcher=static_url_fetcher).render(stylesheets=[stylesheet], font_config=font_config)
        for part in _split_copies(html)
    ]
    document = documents[0].copy([page for rendered in documents for page in rendered.pages])
    document.metadata.title = title
    document.metadata.lang = "de"
    return document.write_pdf(pdf_variant=PDF_VARIANT, finisher=_stable_header_ids)


def render_letter_pdf(
    letter_snapshot: Mapping[str, Any],
    *,
    kind: str,
    recipients: list[dict[str, Any]],
    letter_number: str,
    template_version: str | None = None,
) -> bytes:
    """Snapshot → HTML → PDF/A-3a in one call (for the rendering task)."""
    html = render_letter_html(
        letter_snapshot,
        kind=kind,
        recipients=recipients,
        letter_number=letter_number,
        template_version=template_version,
    )
    return render_pdf(html, title=letter_title(kind, letter_number))


def letter_copies_html(html: str) -> list[str]:
    """The <article> of each copy of a rendered letter HTML, for the browser preview: exactly the markup
    WeasyPrint gets (our template, user text escaped by it)."""
    return _COPY_RE.findall(html)


def letter_title(kind: str, letter_number: str) -> str:
    return f"{texts.KIND_TITLES[kind]} – Schreiben-Nr. {letter_number}"


def static_url_fetcher(url: str, timeout: int = 10, ssl_context: Any = None, http_headers: Any = None) -> dict:
    """T18: the only URL fetcher WeasyPrint gets. It serves files of our static folders under the
    kpstatic: scheme and data: URLs; everything else (file://, http(s)://, relative) is refused, so
    nothing is fetched from the disk or the network. WeasyPrint logs the refusal and goes on."""
    if url.startswith("data:"):
        from weasyprint import default_url_fetcher

        return default_url_fetcher(url, timeout=timeout)
    if not url.startswith(STATIC_SCHEME):
        raise ValueError(f"URL nicht erlaubt: {url[:80]}")
    relative = url.removeprefix(STATIC_SCHEME).split("?", 1)[0].split("#", 1)[0].lstrip("/")
    relative = relative.removeprefix("static/")
    if not relative or ".." in Path(relative).parts or "\\" in relative:
        raise ValueError(f"URL nicht erlaubt: {url[:80]}")
    for root in _static_roots():
        candidate = (root / relative).resolve()
        if candidate.is_relative_to(root) and candidate.is_file():
            mime_type = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
            return {"string": candidate.read_bytes(), "mime_type": mime_type, "redirected_url": url}
    raise ValueError(f"Statische Datei nicht gefunden: {relative[:80]}")


# --- WeasyPrint setup: one FontConfiguration and one parsed stylesheet per process (DESIGN.md) ---------


def _static_roots() -> tuple[Path, ...]:
    return (Path(settings.BASE_DIR, "static").resolve(), LETTERS_STATIC)


@functools.cache
def _weasyprint_setup() -> tuple[Any, Any]:
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    _register_pdf_a_3a()
    font_config = FontConfiguration()
    stylesheet = CSS(url=STATIC_SCHEME + STYLESHEET, url_fetcher=static_url_fetcher, font_config=font_config)
    # Release the font configuration (and its temporary font folder) while the interpreter is still whole.
    atexit.register(_weasyprint_setup.cache_clear)
    return font_config, stylesheet


def _register_pdf_a_3a() -> None:
    """WeasyPrint 66 offers PDF/A-3b and -3u but not -3a. Level A is level U plus a tagged structure and
    the conformance "A" in the XMP metadata, which is exactly this variant (as proposed upstream in
    Kozea/WeasyPrint#2574). The pinned version (pyproject) keeps this registration stable."""
    from weasyprint import pdf as weasy_pdf
    from weasyprint.pdf import pdfa

    if PDF_VARIANT not in weasy_pdf.VARIANTS:
        weasy_pdf.VARIANTS[PDF_VARIANT] = (
            functools.partial(pdfa.pdfa, version=3, variant="A"),
            {"version": "1.7", "identifier": True, "srgb": True, "pdf_tags": True},
        )


def _stable_header_ids(document: Any, pdf: Any) -> None:
    """Same snapshot, same bytes (T14, R-ARC-1 files a letter once by its hash): WeasyPrint names the
    table header cells of the structure tree after Python object ids; number them in document order."""
    names: dict[str, str] = {}

    def stable(string: Any) -> None:
        string.string = names.setdefault(str(string.string), f"th-{len(names) + 1}")

    for obj in pdf.objects:
        if not isinstance(obj, dict) or obj.get("Type") != "/StructElem":
            continue
        if "ID" in obj:
            stable(obj["ID"])
        attributes = obj.get("A")
        if isinstance(attributes, dict):
            for header in attributes.get("Headers", ()):
                stable(header)


_COPY_RE = re.compile(re.escape(COPY_START) + r"(.*?)" + re.escape(COPY_END), re.DOTALL)


def _split_copies(html: str) -> list[str]:
    """One HTML document per copy: the markers come from our template only (user text is escaped, so it
    cannot contain "<!--")."""
    copies = _COPY_RE.findall(html)
    if not copies:
        return [html]
    start = html.index(COPY_START)
    end = html.rindex(COPY_END) + len(COPY_END)
    head, tail = html[:start], html[end:]
    return [head + copy + tail for copy in copies]


# --- Checks (R-KP-2, R-LET-1, R-LET-2, RULES.md 6.2) ---------------------------------------------------


def _checked_kind(kind: str) -> str:
    try:
        return LetterKind(kind).value
    except ValueError:
        raise LetterRenderError(f"Unbekannte Schreibenart: {kind}") from None


def _check_rfb_and_va(kind: str, snapshot: Mapping[str, Any]) -> None:
    spec = LETTER_SPECS[LetterKind(kind)]
    rfb = snapshot.get("rfb")
    if kind == "KP_DOKUMENT" and rfb is not None:
        raise LetterRenderError("R-KP-2: Ein Kooperationsplan enthält nie eine Rechtsfolgenbelehrung.")
    if (rfb is not None) != spec.with_rfb:
        expected = "enthält immer" if spec.with_rfb else "enthält keine"
        raise LetterRenderError(f"R-LET-1: Die Schreibenart {kind} {expected} Rechtsfolgenbelehrung.")
    if rfb is not None:
        _check_rfb(kind, rfb)
    va = snapshot.get("rechtsbehelfsbelehrung")
    if not isinstance(va, bool) or va != spec.is_va:
        expected = "ist ein Verwaltungsakt und braucht eine" if spec.is_va else "ist kein Verwaltungsakt und hat keine"
        raise LetterRenderError(f"R-LET-2: Die Schreibenart {kind} {expected} Rechtsbehelfsbelehrung.")


def _check_rfb(kind: str, rfb: Mapping[str, Any]) -> None:
    if rfb.get("kind") not in (None, kind):
        raise LetterRenderError(f"R-LET-1: Die Rechtsfolgenbelehrung gehört zu {rfb.get('kind')}, nicht zu {kind}.")
    if not str(rfb.get("duty") or "").strip():
        raise LetterRenderError("R-LET-1: Die Rechtsfolgenbelehrung nennt keine konkrete Pflicht.")
    _check_level(rfb.get("percent"), rfb.get("months"))


def _check_level(percent: Any, months: Any) -> None:
    if (percent, months) not in ALLOWED_LEVELS:
        raise LetterRenderError(
            f"R-SAN-1: Eine Minderung um {percent} Prozent für {months} Monat(e) sieht das Gesetz nicht vor."
        )


def _value(data: Mapping[str, Any], dotted: str) -> Any:
    value: Any = data
    for key in dotted.split("."):
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check_required(kind: str, snapshot: Mapping[str, Any], recipients: list[dict[str, Any]]) -> None:
    missing = [field for field in REQUIRED_SNAPSHOT if _missing(_value(snapshot, field))]
    content = snapshot.get("content") or {}
    missing += [f"content.{field}" for field in REQUIRED_CONTENT[kind] if _missing(_value(content, field))]
    if snapshot.get("rechtsbehelfsbelehrung") and _missing(_value(snapshot, "jobcenter.widerspruch_address")):
        missing.append("jobcenter.widerspruch_address")
    if not recipients:
        missing.append("recipients")
    for index, recipient in enumerate(recipients):
        missing += [f"recipients[{index}].{field}" for field in REQUIRED_RECIPIENT if _missing(recipient.get(field))]
    if kind in ("ANH_31", "ANH_32"):
        _check_level(content.get("percent"), content.get("months"))
    if missing:
        fields = ", ".join(f"{_field_label(field)} [{field}]" for field in missing)
        raise LetterRenderError(
            f"Pflichtangaben fehlen (RULES.md 6.2) für das Schreiben „{texts.KIND_TITLES[kind]}“: {fields}. "
            "Bitte ergänzen Sie die Angaben; das Schreiben wurde nicht ausgestellt."
        )


# German names of the required fields, so that the refusal says what to fill in (RULES.md 6.2).
FIELD_LABELS = {
    "letter_date": "Datum des Schreibens",
    "rule_set": "Rechtsstand (Regelwerk)",
    "jobcenter.name": "Name des Jobcenters",
    "jobcenter.widerspruch_address": "Anschrift für Widersprüche des Jobcenters",
    "sender.name": "Name der zuständigen Integrationsfachkraft",
    "case.aktenzeichen": "Aktenzeichen",
    "case.kundennummer": "Kundennummer",
    "elb.name": "Name der eLb",
    "recipients": "Empfängerin oder Empfänger",
    "starts_at": "Datum und Uhrzeit des Termins",
    "location": "Ort des Termins",
    "meldezweck": "Meldezweck",
    "valid_from": "Beginn der Laufzeit",
    "valid_to": "Ende der Laufzeit",
    "review_due": "Datum der Überprüfung",
    "naechstes_ziel": "nächstes Ziel",
    "items": "Inhalte des Kooperationsplans",
    "steps": "nächste Schritte",
    "eigenbemuehungen": "Eigenbemühungen",
    "massnahme": "Maßnahme",
    "traeger.name": "Name des Trägers",
    "start": "Beginn der Maßnahme",
    "end": "Ende der Maßnahme",
    "rueckmeldung_due": "Frist für Vorstellung oder Rückmeldung",
    "duty": "konkrete Pflicht",
    "deadline": "Frist",
    "breach": "Pflichtverletzung",
    "reference_date": "Datum des Bezugsschreibens",
    "breach_date": "Datum der Pflichtverletzung",
    "percent": "Höhe der Minderung",
    "months": "Dauer der Minderung",
    "answer_until": "Äußerungsfrist",
    "bescheid_date": "Datum des aufgehobenen Bescheids",
    "bescheid_number": "Nummer des aufgehobenen Bescheids",
    "effective_from": "Wirksamkeit der Aufhebung",
    "reason": "Begründung",
}
RECIPIENT_LABELS = {
    "name": "Name",
    "street": "Straße und Hausnummer",
    "postal_code": "Postleitzahl",
    "city": "Ort",
}


def _field_label(field: str) -> str:
    if field.startswith("recipients["):
        index, _, part = field.removeprefix("recipients[").partition("].")
        return f"{RECIPIENT_LABELS.get(part, part)} der Anschrift {int(index) + 1}"
    return FIELD_LABELS.get(field.removeprefix("content."), field)


# --- Parts of every letter ------------------------------------------------------------------------------


def _info_rows(snapshot: Mapping[str, Any], letter_number: str) -> list[dict[str, str]]:
    sender, case = snapshot["sender"], snapshot["case"]
    rows = [
        ("Ansprechperson", sender.get("name")),
        ("Team", sender.get("team")),
        ("Telefon", sender.get("phone")),
        ("Zimmer", sender.get("room")),
        ("E-Mail", sender.get("email")),
        ("Aktenzeichen", case.get("aktenzeichen")),
        ("Kundennummer", case.get("kundennummer")),
        ("BG-Nummer", case.get("bg_nummer")),
        ("Schreiben-Nr.", letter_number),
        ("Datum", texts.fmt_date(snapshot["letter_date"])),
    ]
    # An e-mail address may break after the "@" only (<wbr> in the template), never inside a word.
    return [
        {"label": label, "parts": _email_parts(str(value)) if label == "E-Mail" else [str(value)]}
        for label, value in rows
        if value
    ]


def _email_parts(address: str) -> list[str]:
    local, at, domain = address.partition("@")
    return [local + at, domain] if at else [address]


def _footer(snapshot: Mapping[str, Any], letter_number: str, template_version: str) -> dict[str, str]:
    """P3: every letter names the Rechtsstand (rule set id)."""
    jobcenter = snapshot["jobcenter"]
    address = [
        jobcenter.get("name"),
        jobcenter.get("street"),
        f"{jobcenter.get('postal_code') or ''} {jobcenter.get('city') or ''}".strip(),
        f"Telefon {jobcenter['phone']}" if jobcenter.get("phone") else "",
        jobcenter.get("email"),
        f"Öffnungszeiten: {jobcenter['opening_hours']}" if jobcenter.get("opening_hours") else "",
    ]
    rule_set = str(snapshot["rule_set"])
    law = f" ({CURRENT.law})" if rule_set == CURRENT.id else ""
    return {
        "address": " · ".join(part for part in address if part),
        "legal": f"Rechtsstand: {rule_set}{law} · Vorlage {template_version} · Schreiben-Nr. {letter_number}",
    }


def _copy(snapshot: Mapping[str, Any], recipient: Mapping[str, Any]) -> dict[str, Any]:
    """P5: to each gesetzliche Vertretung (saying whom it concerns); the minor's copy is marked."""
    role = recipient.get("role", "elb")
    notes = []
    if role == "gesetzliche_vertretung":
        notes.append(texts.vertretung_note(snapshot["elb"]))
    elif role == "kopie_elb":
        notes.append(texts.copy_note())
    return {
        "role": role,
        "address": texts.address_lines(recipient),
        "salutation": texts.salutation_line(recipient),
        "copy_mark": texts.COPY_MARK if role == "kopie_elb" else "",
        "notes": notes,
    }


def _rfb_context(rfb: Mapping[str, Any]) -> dict[str, Any]:
    return {"heading": texts.RFB_HEADING, "paragraphs": texts.rfb_paragraphs(rfb)}


def _rbb_context(kind: str, jobcenter: Mapping[str, Any]) -> dict[str, Any]:
    address = f"{jobcenter['name']}\n{jobcenter['widerspruch_address']}"
    return {
        "heading": texts.RBB_HEADING,
        "before": texts.rbb_before_address(kind),
        "address": address,
        "after": texts.RBB_AFTER_ADDRESS,
    }


def _enclosures(kind: str, content: Mapping[str, Any]) -> list[str]:
    if kind != "KP_DOKUMENT":
        return []
    return [texts.KIND_TITLES.get(str(code), str(code)) for code in content.get("enclosures") or []]


# --- Blocks of the body ----------------------------------------------------------------------------------

Block = dict[str, Any]
Body = tuple[str, list[Block]]


def _p(text: str, lead: str = "") -> Block:
    return {"type": "p", "text": text, "lead": lead}


def _h(text: str) -> Block:
    return {"type": "h", "text": text}


def _note(text: str, lead: str = "") -> Block:
    return {"type": "note", "text": text, "lead": lead}


def _ul(items: list[str]) -> Block:
    return {"type": "ul", "items": [item for item in items if item]}


def _facts(*rows: tuple[str, Any]) -> Block:
    return {"type": "facts", "rows": [{"label": label, "value": str(value)} for label, value in rows if value]}


def _contact(sender: Mapping[str, Any]) -> str:
    parts = [str(sender.get("name") or "")]
    if sender.get("phone"):
        parts.append(f"Telefon {sender['phone']}")
    if sender.get("email"):
        parts.append(f"E-Mail {sender['email']}")
    return ", ".join(part for part in parts if part)


def _kp_reference(content: Mapping[str, Any]) -> str:
    version = content.get("kp_version")
    return f"Ihrem Kooperationsplan (Version {version})" if version else "Ihrem Kooperationsplan"


def _invitation(kind: str) -> Callable[[Mapping[str, Any], Mapping[str, Any]], Body]:
    """EINL_* (6.2): date, time, place, Meldezweck (L-24), documents, Fahrtkosten (R-INV-6), cancelling."""

    def build(snapshot: Mapping[str, Any], content: Mapping[str, Any]) -> Body:
        sender = snapshot["sender"]
        when = texts.fmt_datetime(content["starts_at"])
        subjects = {
            "EINL_KP_ERST": "Einladung zum Gespräch über Ihre Potenzialanalyse und Ihren Kooperationsplan",
            "EINL_BI": f"Einladung zu einem Beratungsgespräch am {texts.fmt_date_long(content['starts_at'])}",
            "EINL_UNTERSUCHUNG": "Einladung zu einer ärztlichen oder psychologischen Untersuchung am "
            f"{texts.fmt_date_long(content['starts_at'])}",
        }
        subject = subjects.get(kind, f"Einladung zu einem Termin am {texts.fmt_date_long(content['starts_at'])}")
        room = f", Zimmer {sender['room']}" if sender.get("room") else ""
        blocks = [
            _p(texts.INVITATION_INTROS[kind]),
            _facts(
                ("Wann", when),
                ("Wo", content["location"]),
                ("Art des Termins", content.get("appointment_kind")),
                ("Grund des Termins (Meldezweck)", content["meldezweck"]),
                ("Bitte mitbringen", content.get("documents_to_bring") or "diese Einladung und einen Ausweis"),
                ("Ihre Ansprechperson", f"{sender['name']}{room}"),
            ),
            _note(texts.FAHRTKOSTEN_NOTE, "Fahrtkosten: "),
            _p(texts.cancel_text(sender)),
        ]
        return subject, blocks

    return build


def _kp_document(snapshot: Mapping[str, Any], content: Mapping[str, Any]) -> Body:
    """KP_DOKUMENT in the Ich-Perspektive (R-KP-3) with all items, steps and Eigenbemühungen; the note
    that it is not legally binding and not signed; never an RFB (R-KP-2)."""
    items: dict[str, list[Mapping[str, Any]]] = {}
    for item in content.get("items") or []:
        items.setdefault(str(item.get("kind")), []).append(item)

    def texts_of(kind: str) -> list[str]:
        return [str(item["text"]) for item in items.get(kind, []) if item.get("text")]

    version = content.get("version")
    subject = f"Mein Kooperationsplan (Version {version})" if version else "Mein Kooperationsplan"
    blocks: list[Block] = [
        _p(
            "hier ist Ihr Kooperationsplan. Wir haben ihn gemeinsam erarbeitet. Er ist in Ihren Worten "
            "geschrieben: So, wie Sie es sich vorgenommen haben."
        )
    ]
    for title, kind in texts.KP_ALWAYS_SECTIONS:
        blocks += [_h(title), *[_p(text) for text in texts_of(kind)]]
    blocks += [_h("Mein nächstes Ziel"), _p(str(content["naechstes_ziel"]))]
    blocks += [_h("Meine nächsten Schritte"), _ul([texts.step_text(step) for step in content["steps"]])]
    blocks += [
        _h("Meine Eigenbemühungen"),
        *[_p(text) for text in texts_of("SOLL_2")],
        _ul([texts.eigenbemuehung_text(eb) for eb in content["eigenbemuehungen"]]),
    ]
    title, kind = texts.KP_SUPPORT_SECTION
    measures = [
        f"Ich nehme an der Maßnahme „{m.get('title')}“ teil"
        + (f" (Träger: {m['traeger']})" if m.get("traeger") else "")
        + (f", Beginn am {texts.fmt_date(m['start'])}." if m.get("start") else ".")
        for m in content.get("massnahmen") or []
    ]
    blocks += [_h(title), *[_p(text) for text in texts_of(kind)], _ul(measures)]
    for title, kind in texts.KP_OPTIONAL_SECTIONS:
        filled = texts_of(kind)
        if filled:
            blocks += [_h(title), *[_p(text) for text in filled]]
        elif any(item.get("nicht_relevant") for item in items.get(kind, [])):
            # 6.2: Soll-Inhalte 1-6 appear, or are marked "nicht relevant".
            blocks += [_h(title), _p("Für mich derzeit nicht relevant.")]
    blocks += [
        _h("Laufzeit und Überprüfung"),
        _p(texts.kp_term_text(content["valid_from"], content["valid_to"], content["review_due"])),
        _note(texts.KP_NOT_BINDING_NOTE),
    ]
    return subject, [block for block in blocks if block.get("type") != "ul" or block["items"]]


def _measure_facts(content: Mapping[str, Any]) -> list[Block]:
    traeger = content.get("traeger") or {}
    traeger_address = ", ".join(
        part
        for part in (
            traeger.get("street"),
            f"{traeger.get('postal_code') or ''} {traeger.get('city') or ''}".strip(),
        )
        if part
    )
    return [
        _facts(
            ("Maßnahme", content["massnahme"]),
            ("Maßnahme-Nummer", content.get("massnahme_nummer")),
            ("Art", content.get("art")),
            ("Inhalt", content.get("content")),
            ("Ort", content.get("location")),
            ("Zeiten", content.get("schedule")),
            ("Beginn", texts.fmt_date(content["start"])),
            ("Ende", texts.fmt_date(content["end"])),
        ),
        _h("Träger"),
        _facts(
            ("Name", traeger.get("name")),
            ("Anschrift", traeger_address),
            ("Ansprechperson", traeger.get("contact")),
            ("Telefon", traeger.get("phone")),
            ("E-Mail", traeger.get("email")),
        ),
    ]


def _zuweisungsschreiben(kind: str) -> Callable[[Mapping[str, Any], Mapping[str, Any]], Body]:
    """ZUW_SCHREIBEN_* (6.2, 001 §5.1): informs about the measure agreed in the KP; no RFB, not a VA."""

    def build(snapshot: Mapping[str, Any], content: Mapping[str, Any]) -> Body:
        agh = kind == "ZUW_SCHREIBEN_AGH"
        what = "einer Arbeitsgelegenheit" if agh else "einer Maßnahme zur beruflichen Aktivierung"
        subject = f"{'Ihre Arbeitsgelegenheit' if agh else 'Ihre Maßnahme'}: {content['massnahme']}"
        blocks = [
            _p(f"wie in {_kp_reference(content)} vereinbart, nehmen Sie an {what} teil. Hier finden Sie alle Angaben."),
            *_measure_facts(content),
            _note(
                f"Bitte stellen Sie sich bis zum {texts.fmt_date(content['rueckmeldung_due'])} beim Träger vor "
                "oder melden Sie sich dort.",
                "Wichtig: ",
            ),
            _p(
                "Sie haben Fragen oder können nicht teilnehmen? Dann melden Sie sich bitte bei uns: "
                f"{_contact(snapshot['sender'])}."
            ),
            _p("Dieses Schreiben informiert Sie über die Absprache in Ihrem Kooperationsplan. Es ist kein Bescheid."),
        ]
        return subject, blocks

    return build


def _zuweisungsbescheid(snapshot: Mapping[str, Any], content: Mapping[str, Any]) -> Body:
    """ZUW_BESCHEID (6.2): § 15 Abs. 5, concrete duties, validity, Träger consultation (R-ABB-3), the
    Aufhebung of a replaced Bescheid (R-ZUW-4); RFB and Rechtsbehelfsbelehrung follow."""
    subject = f"Zuweisungsbescheid: Teilnahme an der Maßnahme „{content['massnahme']}“"
    blocks: list[Block] = []
    replaced = content.get("aufhebung_of") or {}
    if replaced:
        blocks += [
            _h("Aufhebung des bisherigen Bescheids"),
            _p(
                f"Unseren Zuweisungsbescheid vom {texts.fmt_date(replaced.get('date'))} (Schreiben-Nr. "
                f"{replaced.get('number')}) heben wir auf. Dieser Bescheid ersetzt ihn."
            ),
        ]
    legal = "§ 15 Abs. 5 SGB II"
    if content.get("rechtsgrundlage"):
        legal += f" in Verbindung mit {content['rechtsgrundlage']}"
    blocks += [
        _h("Entscheidung"),
        _p(f"Wir weisen Sie der folgenden Maßnahme zu. Sie sind verpflichtet, daran teilzunehmen ({legal})."),
        *_measure_facts(content),
        _h("Ihre Pflichten"),
        _ul(
            [
                f"Sie stellen sich bis zum {texts.fmt_date(content['rueckmeldung_due'])} beim Träger vor.",
                f"Sie nehmen vom {texts.fmt_date(content['start'])} bis zum {texts.fmt_date(content['end'])} "
                "an der Maßnahme teil"
                + (f", zu diesen Zeiten: {content['schedule']}." if content.get("schedule") else "."),
            ]
        ),
        _p(f"Dieser Bescheid gilt bis zum {texts.fmt_date(content['valid_to'])}.", "Gültigkeit: "),
        _h("Begründung"),
        _p(
            str(content.get("begruendung") or "")
            or f"Die Teilnahme an dieser Maßnahme ist in {_kp_reference(content)} vorgesehen. Damit sie "
            "verbindlich ist, legen wir sie mit diesem Bescheid fest."
        ),
    ]
    if content.get("traeger_ruecksprache_on"):
        blocks.append(
            _p(
                f"Vor diesem Bescheid haben wir am {texts.fmt_date(content['traeger_ruecksprache_on'])} "
                "mit dem Träger gesprochen."
            )
        )
    return subject, blocks


def _aufforderung(kind: str) -> Callable[[Mapping[str, Any], Mapping[str, Any]], Body]:
    """AUFF_15_5 / AUFF_15_6 (6.2): the concrete Mitwirkungshandlung, the deadline, the contact for a
    wichtiger Grund; RFB (R-SAN-1 level) and Rechtsbehelfsbelehrung follow."""

    def build(snapshot: Mapping[str, Any], content: Mapping[str, Any]) -> Body:
        deadline = texts.fmt_date(content["deadline"])
        if kind == "AUFF_15_5":
            subject = (
                "Aufforderung nach § 15 Abs. 5 SGB II: Bitte halten Sie die Absprachen aus Ihrem Kooperationsplan ein"
            )
            blocks = [
                _p(
                    f"in {_kp_reference(content)} haben wir gemeinsam Absprachen getroffen. Wir haben festgestellt, "
                    "dass eine Absprache nicht eingehalten wurde:"
                ),
                _facts(("Was ist passiert?", content["breach"]), ("Datum", texts.fmt_date(content.get("breach_date")))),
            ]
        else:
            subject = "Aufforderung nach § 15 Abs. 6 SGB II: Bitte wirken Sie mit"
            blocks = [
                _p(
                    "zwischen Ihnen und uns ist kein Kooperationsplan zustande gekommen. Damit wir Sie trotzdem "
                    "auf dem Weg in Arbeit unterstützen können, legen wir fest, was Sie tun sollen."
                ),
            ]
            if content.get("breach"):
                blocks.append(_facts(("Anlass", content["breach"])))
        blocks += [
            _h("Wir fordern Sie auf"),
            _note(str(content["duty"]), "Ihre Pflicht: "),
            _p(f"bis zum {deadline}", "Frist: "),
            _p(
                "Bitte schicken Sie uns bis zu diesem Tag einen Nachweis, dass Sie die Pflicht erfüllt haben, "
                "oder bringen Sie ihn vorbei."
            ),
            _p(
                "Sie haben einen wichtigen Grund, warum Sie die Pflicht nicht erfüllen können? Dann melden Sie "
                f"sich bitte sofort bei uns: {_contact(snapshot['sender'])}."
            ),
        ]
        if kind == "AUFF_15_5":
            blocks.append(_p("Ihr Kooperationsplan gilt weiter."))
        return subject, blocks

    return build


def _anhoerung(kind: str) -> Callable[[Mapping[str, Any], Mapping[str, Any]], Body]:
    """ANH_31 / ANH_32 (6.2): facts, the intended Minderung (%, months, start per L-15), the request to
    state a wichtiger Grund and hardship, the Äußerungsfrist (D-10), the offer of an in-person Anhörung
    (L-10), lifting on compliance (L-09)."""

    def build(snapshot: Mapping[str, Any], content: Mapping[str, Any]) -> Body:
        sender = snapshot["sender"]
        percent, months = int(content["percent"]), int(content["months"])
        reference_kind = str(content.get("reference_kind") or "")
        reference = texts.KIND_TITLES.get(reference_kind, "Unser Schreiben")
        reference += f" vom {texts.fmt_date(content['reference_date'])}"
        if content.get("reference_number"):
            reference += f" (Schreiben-Nr. {content['reference_number']})"
        if kind == "ANH_31":
            subject = "Anhörung vor einer möglichen Minderung Ihres Bürgergeldes"
            facts = _facts(
                ("Unser Schreiben", reference),
                ("Was nicht erfüllt wurde", content["breach"]),
                ("Datum", texts.fmt_date(content["breach_date"])),
            )
        else:
            subject = "Anhörung wegen eines versäumten Termins (Meldeversäumnis)"
            facts = _facts(
                ("Unsere Einladung", reference),
                ("Termin", texts.fmt_datetime(content.get("appointment_starts_at"))),
                ("Was passiert ist", content["breach"]),
                ("Datum", texts.fmt_date(content["breach_date"])),
            )
        start_rule = str(content.get("start_rule") or texts.START_RULE)
        blocks: list[Block] = [
            _p(
                "wir prüfen, ob Ihr Bürgergeld gemindert wird. Bevor wir entscheiden, möchten wir Ihre Sicht "
                "hören. Das nennt man Anhörung (§ 24 SGB X)."
            ),
            _h("Was ist passiert?"),
            facts,
            _h("Was wir vorhaben"),
            _p(
                f"Wir beabsichtigen, Ihren Regelbedarf um {percent} Prozent zu mindern, für "
                f"{texts.months_text(months)}. Die Minderung beginnt {start_rule}."
            ),
        ]
        if content.get("repeated"):
            blocks.append(
                _p("Die Minderung ist höher, weil vor weniger als einem Jahr schon eine Minderung begonnen hat.")
            )
        blocks += [
            _h("Bitte teilen Sie uns mit"),
            _ul(
                [
                    "ob Sie einen wichtigen Grund hatten. Bitte legen Sie Nachweise bei, zum Beispiel eine "
                    "ärztliche Bescheinigung;",
                    "ob eine Minderung für Sie eine außergewöhnliche Härte wäre, zum Beispiel wegen besonderer "
                    "persönlicher Umstände;",
                    "alles andere, was für unsere Entscheidung wichtig ist.",
                ]
            ),
            _note(
                f"Bitte antworten Sie bis zum {texts.fmt_date(content['answer_until'])}. Sie können uns schreiben "
                f"oder anrufen: {_contact(sender)}.",
                "Ihre Frist: ",
            ),
        ]
        if content.get("in_person_offer", True):
            blocks.append(
                _p(
                    "Sie können auch persönlich mit uns sprechen. Rufen Sie uns an, dann vereinbaren wir einen Termin.",
                    "Persönliches Gespräch: ",
                )
            )
        blocks.append(
            _p("Wenn wir bis zu diesem Tag nichts von Ihnen hören, entscheiden wir nach den Unterlagen, die wir haben.")
        )
        if content.get("lifted_on_compliance", True):
            blocks.append(
                _p(
                    "Wenn Sie die Pflicht jetzt erfüllen oder ernsthaft erklären, dass Sie sie erfüllen werden, "
                    "wird eine Minderung aufgehoben.",
                    "Gut zu wissen: ",
                )
            )
        return subject, blocks

    return build


def _aufhebung(snapshot: Mapping[str, Any], content: Mapping[str, Any]) -> Body:
    """AUFH_ZB (6.2): the lifted Bescheid, the effective date, the reason (§ 48 SGB X); the
    Rechtsbehelfsbelehrung follows."""
    bescheid_date = texts.fmt_date(content["bescheid_date"])
    subject = f"Aufhebung des Zuweisungsbescheids vom {bescheid_date}"
    blocks = [
        _h("Entscheidung"),
        _p(
            f"Wir heben unseren Zuweisungsbescheid vom {bescheid_date} (Schreiben-Nr. {content['bescheid_number']}) "
            f"zur Maßnahme „{content['massnahme']}“ für die Zukunft auf. Die Aufhebung gilt ab dem "
            f"{texts.fmt_date(content['effective_from'])}."
        ),
        _h("Begründung"),
        _p(str(content["reason"])),
        _p("§ 48 SGB X", "Rechtsgrundlage: "),
    ]
    if content.get("zuweisungsschreiben_number"):
        blocks.append(
            _p(
                "Die Einzelheiten zur Maßnahme finden Sie in unserem Zuweisungsschreiben "
                f"(Schreiben-Nr. {content['zuweisungsschreiben_number']})."
            )
        )
    return subject, blocks


def _handout(kind: str) -> Callable[[Mapping[str, Any], Mapping[str, Any]], Body]:
    """INFO_VB (001 §5.2) and FLYER_KP (000, 001 §5.3): information only."""

    def build(snapshot: Mapping[str, Any], content: Mapping[str, Any]) -> Body:
        if kind == "INFO_VB":
            subject = "Info-Blatt: Geld für Bewerbungen und Vorstellungsgespräche (Vermittlungsbudget)"
            intro = "mit diesem Info-Blatt erklären wir Ihnen, wie das Jobcenter Sie bei Bewerbungen unterstützen kann."
            sections = texts.INFO_VB_SECTIONS
        else:
            subject = "Mein Kooperationsplan – Gemeinsam. Planen. Handeln. Gestalten."
            intro = "mit diesem Flyer erklären wir Ihnen, was ein Kooperationsplan ist und wie er entsteht."
            sections = texts.FLYER_SECTIONS
        blocks = [_p(intro)]
        for title, text in sections:
            blocks += [_h(title), _p(text)]
        blocks.append(_p(f"Ihre Ansprechperson: {_contact(snapshot['sender'])}."))
        return subject, blocks

    return build


BODY_BUILDERS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], Body]] = {
    **{kind: _invitation(kind) for kind in INVITATION_KINDS},
    "KP_DOKUMENT": _kp_document,
    "ZUW_SCHREIBEN_AGH": _zuweisungsschreiben("ZUW_SCHREIBEN_AGH"),
    "ZUW_SCHREIBEN_AKTIVIERUNG": _zuweisungsschreiben("ZUW_SCHREIBEN_AKTIVIERUNG"),
    "ZUW_BESCHEID": _zuweisungsbescheid,
    "AUFF_15_5": _aufforderung("AUFF_15_5"),
    "AUFF_15_6": _aufforderung("AUFF_15_6"),
    "ANH_31": _anhoerung("ANH_31"),
    "ANH_32": _anhoerung("ANH_32"),
    "AUFH_ZB": _aufhebung,
    "INFO_VB": _handout("INFO_VB"),
    "FLYER_KP": _handout("FLYER_KP"),
}
