"""Acceptance of issue 5: `manage.py render_sample_letters OUTDIR` writes one PDF/A-3a per letter kind from the
demo data, each tagged, in German, titled, with embedded fonts, naming recipient, duty and deadline; the RFB
exactly on the kinds with RFB, the Rechtsbehelfsbelehrung exactly on Verwaltungsakte, the KP with neither and
without a signature line (RULES.md 6.1-6.4, R-KP-2, R-LET-1, R-LET-2)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pikepdf
import pypdf
import pytest
from django.core.management import call_command
from django.db import connection, transaction

from cases.models import Case
from kooperationsplan.demo import seed_demo
from letters import texts
from letters.models import Letter
from rules.letters import LETTER_SPECS, LetterKind

# The marker makes pytest-django set up the test database, which the module fixture below uses.
pytestmark = pytest.mark.django_db

PDFA = "{http://www.aiim.org/pdfa/ns/id/}"
ALL_KINDS = [kind.value for kind in LetterKind]


@pytest.fixture(scope="module")
def samples(django_db_setup, django_db_blocker, tmp_path_factory) -> dict[str, dict]:
    """Seed the demo data, run the command, roll everything back: the PDFs stay in a temporary folder."""
    outdir = tmp_path_factory.mktemp("muster")
    out = io.StringIO()
    with django_db_blocker.unblock(), transaction.atomic():
        assert connection.settings_dict["NAME"].startswith("test_")  # never the development database
        seed_demo()
        letters, cases = Letter.objects.count(), Case.objects.count()
        call_command("render_sample_letters", str(outdir), stdout=out)
        # The command leaves the database as it was.
        assert (Letter.objects.count(), Case.objects.count()) == (letters, cases)
        transaction.set_rollback(True)
    manifest = json.loads((outdir / "inhalt.json").read_text(encoding="utf-8"))
    return {
        entry["kind"]: {**entry, "data": (outdir / entry["file"]).read_bytes(), "printed": out.getvalue()}
        for entry in manifest
    }


def text_of(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def test_one_pdf_per_kind_and_the_command_says_what_it_wrote(samples):
    assert sorted(samples) == sorted(ALL_KINDS)
    printed = next(iter(samples.values()))["printed"]
    for kind, sample in samples.items():
        assert f"{kind} " in printed
        assert sample["file"] in printed
    assert "16 Musterschreiben" in printed


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_pdf_a_3a_tagged_german_titled_with_embedded_fonts(samples, kind):
    pdf = pikepdf.open(io.BytesIO(samples[kind]["data"]))
    with pdf.open_metadata() as xmp:
        assert xmp[f"{PDFA}part"] == "3"
        assert xmp[f"{PDFA}conformance"] == "A"
        assert xmp["dc:title"].startswith(texts.KIND_TITLES[kind])
    assert str(pdf.docinfo["/Title"]).startswith(texts.KIND_TITLES[kind])
    assert "/StructTreeRoot" in pdf.Root
    assert len(pdf.Root.StructTreeRoot.K) >= 1
    assert bool(pdf.Root.MarkInfo.Marked) is True
    assert str(pdf.Root.Lang) == "de"
    fonts = []
    for page in pdf.pages:
        for _, font in page.Resources.get("/Font", {}).items():
            fonts += [font, *font.get("/DescendantFonts", [])]
    assert fonts
    for font in fonts:
        if font.Subtype != "/Type0":
            assert any(key in font.FontDescriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_text_names_recipient_duty_and_deadline(samples, kind):
    sample = samples[kind]
    text = text_of(sample["data"])
    for name in sample["recipients"]:
        assert name in text
    if kind in ("INFO_VB", "FLYER_KP"):
        assert sample["duty"] == ""  # handouts demand nothing
    else:
        assert re.sub(r"\s+", " ", sample["duty"]) in text
        assert sample["deadline"] in text
    assert "Rechtsstand: " in text


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_rfb_exactly_on_kinds_with_rfb_and_rechtsbehelfsbelehrung_exactly_on_verwaltungsakte(samples, kind):
    spec = LETTER_SPECS[LetterKind(kind)]
    text = text_of(samples[kind]["data"])
    assert samples[kind]["with_rfb"] is spec.with_rfb
    assert samples[kind]["is_va"] is spec.is_va
    assert ("Rechtsfolgenbelehrung" in text) is spec.with_rfb
    assert ("Was passiert, wenn Sie die Pflicht nicht erfüllen?" in text) is spec.with_rfb
    assert ("Rechtsbehelfsbelehrung" in text) is spec.is_va
    assert ("Widerspruch einlegen" in text) is spec.is_va


def test_kp_has_neither_belehrung_and_no_signature_line(samples):
    text = text_of(samples["KP_DOKUMENT"]["data"])
    assert "Rechtsfolgenbelehrung" not in text
    assert "Rechtsbehelfsbelehrung" not in text
    assert "Unterschrift" not in text
    assert "Mit freundlichen Grüßen" not in text
    assert texts.KP_NOT_BINDING_NOTE in text
    assert "Ich " in text  # Ich-Perspektive (R-KP-3)


def test_outdir_is_created(tmp_path: Path, samples):
    assert all(sample["file"].endswith(f"_{kind}.pdf") for kind, sample in samples.items())
