"""Letter HTML from the frozen snapshot (RULES.md 6.1-6.4; R-KP-2, R-KP-3, R-LET-1, R-LET-2, P5; T17).

No database: rendering reads the snapshot only (DESIGN.md "Letters"), so any query would fail here.
"""

from __future__ import annotations

import copy
import re

import pytest

from letters import texts
from letters.rendering import COPY_START, LetterRenderError, render_letter_html
from rules.letters import LETTER_SPECS, LetterKind
from rules.ruleset import CURRENT
from tests.letters.snapshots import DUTIES, ELB, VERTRETUNGEN, recipients, snapshot

ALL_KINDS = [kind.value for kind in LetterKind]
RFB_KINDS = [kind.value for kind, spec in LETTER_SPECS.items() if spec.with_rfb]
VA_KINDS = [kind.value for kind, spec in LETTER_SPECS.items() if spec.is_va]
INVITATIONS = ["EINL_KP_ERST", "EINL_RFB", "EINL_OHNE_RFB", "EINL_BI", "EINL_UNTERSUCHUNG"]
NUMBER = "2026-0000042"


def render(kind: str, *, minor: bool = False, snap: dict | None = None, to: list | None = None) -> str:
    return render_letter_html(
        snap if snap is not None else snapshot(kind, minor=minor),
        kind=kind,
        recipients=to if to is not None else recipients(kind, minor=minor),
        letter_number=NUMBER,
    )


def text_of(html: str) -> str:
    """The visible text: tags removed, whitespace collapsed, entities of quotes resolved."""
    plain = re.sub(r"<[^>]+>", " ", html).replace("&quot;", '"').replace("&#x27;", "'")
    return re.sub(r"\s+", " ", plain)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_kind_has_the_parts_of_every_letter(kind):
    """6.2 "All letters": date, sender and contact, Aktenzeichen/Kundennummer, address, salutation,
    letter number, template version and Rechtsstand (P3)."""
    html = render(kind)
    text = text_of(html)
    assert '<html lang="de">' in html
    assert "Jobcenter Teststadt" in text
    for value in ("Jonas Fallmanager", "0123 4567-214", "2.14", "KP-2026-000123", "123A456789", NUMBER, "04.05.2026"):
        assert value in text, value
    assert "Alexandra Beispiel-Muster" in text
    assert "Lindenweg 7" in text
    assert "12345 Teststadt" in text
    assert "Sehr geehrte Frau Alexandra Beispiel-Muster," in text
    assert f"Rechtsstand: {CURRENT.id}" in text
    assert "Vorlage 2026.1" in text
    assert re.search(r'<h1 class="subject">[^<]+</h1>', html)
    assert html.count(COPY_START) == 1


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_rfb_block_exactly_on_kinds_with_rfb(kind):
    """R-LET-1 / 6.1: the RFB block (heading "Rechtsfolgenbelehrung") appears exactly on RFB kinds."""
    html = render(kind)
    assert ('<section class="rfb">' in html) is (kind in RFB_KINDS)
    assert html.count("<h2>Rechtsfolgenbelehrung</h2>") == (1 if kind in RFB_KINDS else 0)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_rechtsbehelfsbelehrung_exactly_on_verwaltungsakte(kind):
    """R-LET-2: a Rechtsbehelfsbelehrung exactly on the VA kinds (P4: the Aufforderungen included)."""
    html = render(kind)
    assert ('<section class="rbb">' in html) is (kind in VA_KINDS)
    assert ("Rechtsbehelfsbelehrung" in html) is (kind in VA_KINDS)


@pytest.mark.parametrize("kind", VA_KINDS)
def test_rechtsbehelfsbelehrung_elements(kind):
    """6.4 / L-28: Widerspruch, one month after Bekanntgabe, in writing or zur Niederschrift, at the
    Jobcenter's address for Widersprüche."""
    section = text_of(render(kind).split('<section class="rbb">')[1].split("</section>")[0])
    assert "Widerspruch einlegen" in section
    assert "innerhalb eines Monats nach Bekanntgabe" in section
    assert "schriftlich" in section
    assert "zur Niederschrift" in section
    assert "Widerspruchsstelle Postfach 10 20 30 12340 Teststadt" in section
    assert "am dritten Tag nach der Aufgabe zur Post" in section


@pytest.mark.parametrize("kind", RFB_KINDS)
def test_rfb_block_is_concrete_and_complete(kind):
    """6.3 / L-27: the concrete duty and deadline, % of the Regelbedarf, months, start rule, wichtiger
    Grund (shown and proven), Härte, lifting on compliance, no SGB XII help, in-person Anhörung."""
    snap = snapshot(kind)
    rfb = snap["rfb"]
    section = text_of(render(kind, snap=snap).split('<section class="rfb">')[1].split("</section>")[0])
    assert rfb["duty"] in section
    assert texts.fmt_date(rfb["deadline"]) in section
    months = "1 Monat" if rfb["months"] == 1 else f"{rfb['months']} Monate"
    assert f"um {rfb['percent']} Prozent gemindert, für {months}" in section
    assert "ab dem Monat nach Bekanntgabe des Feststellungsbescheids" in section
    assert "wichtigen Grund" in section
    assert "mitteilen und nachweisen" in section
    assert "außergewöhnliche Härte" in section
    assert "heben wir die Minderung auf" in section
    assert "ernsthaft erklären" in section
    assert "SGB XII" in section
    assert "persönlich anhören" in section
    expected_basis = "§§ 32, 31a, 31b SGB II" if kind in ("EINL_RFB", "EINL_UNTERSUCHUNG") else "§§ 31, 31a, 31b"
    assert expected_basis in section


def test_rfb_is_built_from_the_block_not_from_free_text():
    """R-LET-1: the level in the letter is the one of the frozen RfbBlock (R-SAN-1), here 30 %/3 months."""
    html = render("AUFF_15_5", snap=snapshot("AUFF_15_5", percent=30, months=3))
    assert "um 30 Prozent gemindert, für 3 Monate" in text_of(html)


@pytest.mark.parametrize("kind", INVITATIONS)
def test_invitations_name_appointment_purpose_documents_and_fahrtkosten(kind):
    """6.2 EINL_*: date, time, place, Meldezweck (L-24), documents, Fahrtkosten (R-INV-6), cancelling."""
    text = text_of(render(kind))
    assert "Dienstag, 19.05.2026, um 09:30 Uhr" in text
    assert "Jobcenter Teststadt, Marktplatz 1, Raum 2.14" in text
    assert "Grund des Termins (Meldezweck)" in text
    assert "Wir besprechen Ihre berufliche Situation und Ihre nächsten Schritte." in text
    assert "Lebenslauf" in text
    assert "Zeugnisse" in text
    assert "Fahrtkosten können auf Antrag übernommen werden (§ 59 SGB II)." in text
    assert "vor dem Termin bei uns" in text
    assert "neuen Termin" in text


@pytest.mark.parametrize("kind", ["AUFF_15_5", "AUFF_15_6"])
def test_aufforderung_names_duty_deadline_and_contact(kind):
    """6.2 AUFF_*: the concrete Mitwirkungshandlung, the deadline, a contact for a wichtiger Grund."""
    text = text_of(render(kind))
    assert DUTIES[kind] in text
    assert "Frist: bis zum 01.06.2026" in text
    assert "wichtigen Grund" in text
    assert "jonas.fallmanager@jobcenter.example" in text


@pytest.mark.parametrize("kind", ["ZUW_SCHREIBEN_AGH", "ZUW_SCHREIBEN_AKTIVIERUNG", "ZUW_BESCHEID"])
def test_zuweisung_names_measure_traeger_and_rueckmeldung(kind):
    """6.2 ZUW_*: title, Träger with contact, content, start, end, schedule, Rückmeldung date, KP reference."""
    text = text_of(render(kind))
    for value in (
        "Perspektive Lager und Logistik",
        "Bildungswerk Teststadt gGmbH",
        "Frau Petra Träger",
        "0123 98765-0",
        "Hafenstraße 12, 12347 Teststadt",
        "Montag bis Freitag, 8:00 bis 12:30 Uhr",
        "01.06.2026",
        "31.08.2026",
        "bis zum 22.05.2026",
        "Kooperationsplan (Version 2)",
    ):
        assert value in text, value


def test_zuweisungsbescheid_has_legal_basis_validity_consultation_and_aufhebung():
    """6.2 ZUW_BESCHEID: § 15 Abs. 5, validity, Träger consultation (R-ABB-3), the replaced Bescheid (R-ZUW-4)."""
    text = text_of(render("ZUW_BESCHEID"))
    assert "§ 15 Abs. 5 SGB II" in text
    assert "Dieser Bescheid gilt bis zum 03.11.2026." in text
    assert "am 28.04.2026 mit dem Träger gesprochen" in text
    assert "Unseren Zuweisungsbescheid vom 02.03.2026 (Schreiben-Nr. 2026-0000007) heben wir auf." in text


def test_zuweisungsschreiben_is_no_bescheid():
    """001 §6.5: a Zuweisungsschreiben is not a VA."""
    assert "Es ist kein Bescheid." in text_of(render("ZUW_SCHREIBEN_AGH"))


@pytest.mark.parametrize("kind", ["ANH_31", "ANH_32"])
def test_anhoerung_elements(kind):
    """6.2 ANH_*: facts, intended Minderung, start rule, wichtiger Grund and Härte, Äußerungsfrist,
    in-person offer (L-10), lifting on compliance (L-09)."""
    text = text_of(render(kind))
    percent, months = ("20", "2 Monate") if kind == "ANH_31" else ("10", "1 Monat")
    assert f"Regelbedarf um {percent} Prozent zu mindern, für {months}" in text
    assert "ab dem Monat nach Bekanntgabe des Feststellungsbescheids" in text
    assert "02.04.2026" in text
    assert "2026-0000011" in text
    assert "20.04.2026" in text
    assert "wichtigen Grund" in text
    assert "außergewöhnliche Härte" in text
    assert "bis zum 21.05.2026" in text
    assert "persönlich mit uns sprechen" in text
    assert "wird eine Minderung aufgehoben" in text


def test_aufhebung_names_the_lifted_bescheid():
    """6.2 AUFH_ZB: the Bescheid being lifted (date, number), effective date, reason (§ 48 SGB X)."""
    text = text_of(render("AUFH_ZB"))
    assert "Zuweisungsbescheid vom 02.03.2026 (Schreiben-Nr. 2026-0000007)" in text
    assert "für die Zukunft auf. Die Aufhebung gilt ab dem 04.05.2026." in text
    assert "Ersetzt durch den einvernehmlichen Kooperationsplan v3" in text
    assert "§ 48 SGB X" in text


def test_kp_document_in_ich_perspektive_without_rfb_rbb_or_signature():
    """R-KP-2, R-KP-3, 6.2 KP_DOKUMENT: all items, steps, Eigenbemühungen, validity and review date,
    the not-binding note; no RFB, no Rechtsbehelfsbelehrung, no signature and no closing at all."""
    html = render("KP_DOKUMENT")
    text = text_of(html)
    assert "Mein Kooperationsplan (Version 2)" in text
    assert "Ich arbeite als Fachkraft für Lagerlogistik." in text
    assert "Ich finde bis zum Sommer ein Praktikum im Lager." in text
    assert "Ich melde mich für den Staplerschein an. Bis zum 31.05.2026." in text
    assert "Darum kümmert sich das Jobcenter." in text
    assert "Ich bewerbe mich mindestens 5-mal pro Monat." in text
    assert "Den Nachweis (Bewerbungsliste) gebe ich bis zum 5. des Folgemonats ab." in text
    assert "Das Jobcenter bezahlt meinen Staplerschein." in text
    assert "Ich nehme an der Maßnahme „Perspektive Lager und Logistik“ teil" in text
    assert "Ich achte auf meinen Rücken" in text
    assert text.count("Für mich derzeit nicht relevant.") == 3
    assert "Mein Plan gilt vom 04.05.2026 bis zum 03.11.2026. Spätestens am 03.11.2026" in text
    assert texts.KP_NOT_BINDING_NOTE in text
    assert "Info-Blatt Vermittlungsbudget" in text
    assert "Mein Kooperationsplan – Gemeinsam." in text
    for forbidden in ("Rechtsfolgenbelehrung", "Rechtsbehelfsbelehrung", "Unterschrift", "gez.", "Mit freundlichen"):
        assert forbidden not in html, forbidden
    assert texts.MACHINE_NOTE not in html


@pytest.mark.parametrize("kind", [kind for kind in ALL_KINDS if kind != "KP_DOKUMENT"])
def test_other_letters_carry_no_signature_line(kind):
    html = render(kind)
    assert texts.MACHINE_NOTE in html
    assert "gez." not in html
    assert "____" not in html
    assert "Unterschrift:" not in html


def test_kp_with_rfb_is_refused():
    """R-KP-2: rendering fails if an RFB block is set on the KP."""
    snap = snapshot("KP_DOKUMENT")
    snap["rfb"] = copy.deepcopy(snapshot("AUFF_15_5")["rfb"])
    with pytest.raises(LetterRenderError, match="R-KP-2"):
        render("KP_DOKUMENT", snap=snap)


@pytest.mark.parametrize(("kind", "flag"), [("ANH_31", True), ("KP_DOKUMENT", True), ("ZUW_BESCHEID", False)])
def test_rechtsbehelfsbelehrung_mismatch_is_refused(kind, flag):
    """R-LET-2: a render-time assertion in both directions."""
    snap = snapshot(kind)
    snap["rechtsbehelfsbelehrung"] = flag
    with pytest.raises(LetterRenderError, match="R-LET-2"):
        render(kind, snap=snap)


def test_missing_rfb_on_rfb_kind_and_rfb_on_other_kind_are_refused():
    snap = snapshot("EINL_RFB")
    snap["rfb"] = None
    with pytest.raises(LetterRenderError, match="R-LET-1"):
        render("EINL_RFB", snap=snap)
    snap = snapshot("ZUW_SCHREIBEN_AGH")
    snap["rfb"] = copy.deepcopy(snapshot("ZUW_BESCHEID")["rfb"])
    with pytest.raises(LetterRenderError, match="R-LET-1"):
        render("ZUW_SCHREIBEN_AGH", snap=snap)


@pytest.mark.parametrize(("percent", "months"), [(25, 2), (20, 1), (40, 3), (0, 0)])
def test_rfb_with_a_level_the_law_does_not_allow_is_refused(percent, months):
    """6.3 "Richtig": never threaten a level the law does not allow (R-SAN-1, L-16)."""
    snap = snapshot("AUFF_15_5")
    snap["rfb"].update(percent=percent, months=months)
    with pytest.raises(LetterRenderError, match="R-SAN-1"):
        render("AUFF_15_5", snap=snap)


def test_rfb_without_duty_or_for_another_kind_is_refused():
    snap = snapshot("AUFF_15_5")
    snap["rfb"]["duty"] = "  "
    with pytest.raises(LetterRenderError, match="konkrete Pflicht"):
        render("AUFF_15_5", snap=snap)
    snap = snapshot("AUFF_15_5")
    snap["rfb"]["kind"] = "AUFF_15_6"
    with pytest.raises(LetterRenderError, match="R-LET-1"):
        render("AUFF_15_5", snap=snap)


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("EINL_RFB", ("content", "meldezweck")),
        ("EINL_KP_ERST", ("content", "starts_at")),
        ("AUFF_15_5", ("content", "deadline")),
        ("ZUW_SCHREIBEN_AGH", ("content", "rueckmeldung_due")),
        ("KP_DOKUMENT", ("content", "review_due")),
        ("ANH_31", ("content", "answer_until")),
        ("AUFH_ZB", ("content", "bescheid_number")),
        ("ZUW_BESCHEID", ("jobcenter", "widerspruch_address")),
        ("INFO_VB", ("case", "aktenzeichen")),
        ("FLYER_KP", (None, "rule_set")),
    ],
)
def test_missing_required_field_is_refused(kind, path):
    """6.2: the generator fails if a required field is missing."""
    snap = snapshot(kind)
    target = snap if path[0] is None else snap[path[0]]
    target[path[1]] = ""
    with pytest.raises(LetterRenderError, match=f"6.2.*{path[1]}"):
        render(kind, snap=snap)


def test_recipient_without_address_and_unknown_kind_are_refused():
    with pytest.raises(LetterRenderError, match="recipients"):
        render("EINL_OHNE_RFB", to=[])
    with pytest.raises(LetterRenderError, match=r"recipients\[0\].street"):
        render("EINL_OHNE_RFB", to=[{"role": "elb", **ELB, "street": ""}])
    with pytest.raises(LetterRenderError, match="Unbekannte Schreibenart"):
        render_letter_html(
            snapshot("EINL_OHNE_RFB"), kind="MAHNUNG", recipients=recipients("EINL_OHNE_RFB"), letter_number="1"
        )


def test_minor_gets_letters_via_each_gesetzliche_vertretung_and_a_marked_copy():
    """P5 / R-MIN-2: each gV receives the letter (saying whom it concerns), the minor a copy marked
    "Kopie zur Kenntnis"; the letter is otherwise the same in every copy."""
    html = render("AUFF_15_5", minor=True)
    copies = html.split(COPY_START)[1:]
    assert len(copies) == 3
    for vertretung, part in zip(VERTRETUNGEN, copies[:2], strict=True):
        text = text_of(part)
        assert vertretung["name"] in text
        assert "als gesetzliche Vertretung von Alexandra Beispiel-Muster, geboren am 01.08.2009" in text
        assert texts.COPY_MARK not in text
    assert "Sehr geehrter Herr Bernd Beispiel," in text_of(copies[0])
    assert "Guten Tag Kim Beispiel," in text_of(copies[1])
    minor_copy = text_of(copies[2])
    assert "Kopie zur Kenntnis" in minor_copy
    assert "Alexandra Beispiel-Muster" in minor_copy
    assert html.count("Kopie zur Kenntnis") == 1
    for part in copies:
        assert DUTIES["AUFF_15_5"] in text_of(part)
        assert '<section class="rfb">' in part
        assert '<section class="rbb">' in part


def test_minor_beraterische_intervention_goes_jointly_without_copy_mark():
    """R-MIN-1: the BI invitation goes to the minor together with each gV."""
    html = render("EINL_BI", minor=True)
    assert html.count(COPY_START) == 3
    assert "Kopie zur Kenntnis" not in html


def test_minor_kp_goes_to_the_minor_only():
    assert render("KP_DOKUMENT", minor=True).count(COPY_START) == 1


def test_rendering_is_a_pure_function_of_the_snapshot():
    """A sent letter is never re-rendered from live data: the same snapshot gives the same letter."""
    snap = snapshot("ZUW_BESCHEID")
    frozen = copy.deepcopy(snap)
    assert render("ZUW_BESCHEID", snap=snap) == render("ZUW_BESCHEID", snap=copy.deepcopy(frozen))
    assert snap == frozen


HOSTILE_UNIT = (
    "Grüße 😀👩‍👩‍👧 مرحبا بالعالم שלום עולם e\u0301\u0308\u0323 Z\u0351\u0352 "
    '<script>alert("x")</script> <img src="file:///etc/passwd"> url(http://example.org/x.png) '
)


def hostile_text(length: int = 10_000) -> str:
    return (HOSTILE_UNIT * (length // len(HOSTILE_UNIT) + 1))[:length]


def hostile_snapshot() -> tuple[dict, list]:
    snap = snapshot("AUFF_15_5")
    text = hostile_text()
    snap["content"]["breach"] = text
    snap["content"]["duty"] = text[:2000]
    snap["rfb"]["duty"] = text[:2000]
    snap["sender"]["name"] = text[:300]
    to = [{"role": "elb", **ELB, "name": text[:500]}]
    return snap, to


def test_t17_free_text_is_escaped():
    """T17: 10,000 characters with emoji, RTL, combining marks and markup are escaped, never markup."""
    snap, to = hostile_snapshot()
    html = render("AUFF_15_5", snap=snap, to=to)
    assert "<script>" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&lt;img src=&quot;file:///etc/passwd&quot;&gt;" in html
    assert "مرحبا بالعالم" in html
    assert "😀" in html
    assert "e\u0301\u0308\u0323" in html


def test_malformed_snapshot_fails_as_a_letter_error():
    snap = snapshot("EINL_RFB")
    snap["content"]["starts_at"] = "nächsten Dienstag"
    with pytest.raises(LetterRenderError, match="„Einladung \\(Meldeaufforderung\\)“ kann nicht erzeugt werden"):
        render("EINL_RFB", snap=snap)
