"""PDF/A-3a letters (QUALITY.md "PDFs"; DESIGN.md "Letters"; T17, T18).

Opened with pikepdf and pypdf: PDF/A identification (part 3, conformance A), the structure tree,
language, title, embedded fonts, the text; per-copy page numbers; the URL fetcher (T18).
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import time

import pikepdf
import pypdf
import pytest

from letters import rendering
from letters.rendering import (
    letter_title,
    render_letter_html,
    render_letter_pdf,
    render_pdf,
    static_url_fetcher,
)
from tests.letters.snapshots import DUTIES, recipients, snapshot
from tests.letters.test_rendering import hostile_snapshot

NUMBER = "2026-0000042"
PDFA = "{http://www.aiim.org/pdfa/ns/id/}"
SAMPLES = {
    "EINL_RFB": False,
    "KP_DOKUMENT": False,
    "AUFF_15_5": True,  # minor: two gesetzliche Vertretungen and a copy
    "ZUW_BESCHEID": False,
}


@pytest.fixture(scope="module")
def pdfs() -> dict[str, bytes]:
    return {
        kind: render_letter_pdf(
            snapshot(kind, minor=minor), kind=kind, recipients=recipients(kind, minor=minor), letter_number=NUMBER
        )
        for kind, minor in SAMPLES.items()
    }


def page_texts(data: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return [re.sub(r"\s+", " ", page.extract_text()) for page in reader.pages]


def fonts_of(pdf: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    fonts = []
    for page in pdf.pages:
        for _, font in page.Resources.get("/Font", {}).items():
            fonts.append(font)
            fonts += list(font.get("/DescendantFonts", []))
    return fonts


@pytest.mark.parametrize("kind", SAMPLES)
def test_pdf_a_3a_identification_tags_language_and_title(pdfs, kind):
    pdf = pikepdf.open(io.BytesIO(pdfs[kind]))
    with pdf.open_metadata() as xmp:
        assert xmp[f"{PDFA}part"] == "3"
        assert xmp[f"{PDFA}conformance"] == "A"
        assert xmp["dc:title"] == letter_title(kind, NUMBER)
    assert str(pdf.docinfo["/Title"]) == letter_title(kind, NUMBER)
    assert pdf.pdf_version == "1.7"
    root = pdf.Root
    assert "/StructTreeRoot" in root
    assert len(root.StructTreeRoot.K) >= 1
    assert bool(root.MarkInfo.Marked) is True
    assert str(root.Lang) == "de"
    assert root.OutputIntents[0].S == "/GTS_PDFA1"
    for page in pdf.pages:
        assert [round(float(value)) for value in page.MediaBox] == [0, 0, 595, 842]  # A4


@pytest.mark.parametrize("kind", SAMPLES)
def test_all_fonts_are_embedded(pdfs, kind):
    pdf = pikepdf.open(io.BytesIO(pdfs[kind]))
    fonts = fonts_of(pdf)
    assert fonts
    for font in fonts:
        if font.Subtype == "/Type0":
            continue  # the descendant font carries the descriptor
        descriptor = font.FontDescriptor
        assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")), font.BaseFont
    assert any("KP-Letter-Sans" in str(font.BaseFont) for font in fonts)


def test_text_contains_recipient_duty_and_deadline(pdfs):
    text = " ".join(page_texts(pdfs["EINL_RFB"]))
    assert "Alexandra Beispiel-Muster" in text
    assert "Dienstag, 19.05.2026, um 09:30 Uhr" in text
    assert "Termin am 19.05.2026 um 09:30 Uhr" in text  # the duty of the RFB block
    assert "Rechtsfolgenbelehrung" in text
    assert "Rechtsbehelfsbelehrung" in text
    text = " ".join(page_texts(pdfs["AUFF_15_5"]))
    assert "Bernd Beispiel" in text
    assert "Kim Beispiel" in text
    assert DUTIES["AUFF_15_5"] in text
    assert "Frist: bis zum 01.06.2026" in text
    text = " ".join(page_texts(pdfs["ZUW_BESCHEID"]))
    assert "Perspektive Lager und Logistik" in text
    assert "bis zum 22.05.2026" in text


def test_kp_pdf_has_no_rfb_and_the_not_binding_note(pdfs):
    text = " ".join(page_texts(pdfs["KP_DOKUMENT"]))
    assert "Rechtsfolgenbelehrung" not in text
    assert "Rechtsbehelfsbelehrung" not in text
    assert "Dieser Kooperationsplan ist rechtlich nicht verbindlich und wird nicht unterschrieben." in text


def test_footer_names_rechtsstand_and_pages_per_copy(pdfs):
    """P3: the Rechtsstand on every page; "Seite X von Y" counts the pages of each recipient's copy."""
    texts = page_texts(pdfs["AUFF_15_5"])
    assert all("Rechtsstand: SGB2-KP-2023-07-01.1" in text for text in texts)
    numbers = [re.search(r"Seite (\d+) von (\d+)", text).groups() for text in texts]
    firsts = [index for index, (page, _) in enumerate(numbers) if page == "1"]
    assert len(firsts) == 3  # two gesetzliche Vertretungen and the copy to the minor
    for start, end in zip(firsts, [*firsts[1:], len(numbers)], strict=True):
        assert [int(page) for page, _ in numbers[start:end]] == list(range(1, end - start + 1))
        assert {int(total) for _, total in numbers[start:end]} == {end - start}
    assert "Kopie zur Kenntnis" in texts[firsts[2]]


def test_same_snapshot_gives_the_same_bytes(monkeypatch):
    """T14 / R-ARC-1: a re-delivered render job files the identical document (same sha256), also when it
    runs a day later (embedded fonts carry no time of writing)."""
    kind = "ZUW_SCHREIBEN_AGH"

    def render() -> bytes:
        return render_letter_pdf(snapshot(kind), kind=kind, recipients=recipients(kind), letter_number=NUMBER)

    first = render()
    later = time.time() + 86_400
    monkeypatch.setattr(time, "time", lambda: later)
    assert render() == first


def test_one_font_configuration_and_stylesheet_per_process():
    assert rendering._weasyprint_setup() is rendering._weasyprint_setup()


def test_t17_long_hostile_text_gives_a_valid_pdf():
    snap, to = hostile_snapshot()
    html = render_letter_html(snap, kind="AUFF_15_5", recipients=to, letter_number=NUMBER)
    data = render_pdf(html, title="T17")
    pdf = pikepdf.open(io.BytesIO(data))
    assert len(pdf.pages) > 2
    text = " ".join(page_texts(data))
    assert '<script>alert("x")</script>' in text  # shown as text, never run or parsed


@pytest.fixture
def fetched(monkeypatch) -> list[tuple[str, str]]:
    """Every URL WeasyPrint asks for while rendering, with the fetcher's answer ("ok" or the refusal),
    except the data: URL of our own stylesheet (the fold marks)."""
    calls: list[tuple[str, str]] = []
    rendering._weasyprint_setup()  # the stylesheet and its fonts are loaded once, before the spy

    def spy(url: str, *args, **kwargs):
        if url.startswith("data:image/svg+xml,%3Csvg"):
            return static_url_fetcher(url, *args, **kwargs)
        try:
            result = static_url_fetcher(url, *args, **kwargs)
        except ValueError as error:
            calls.append((url, f"refused: {error}"))
            raise
        calls.append((url, "ok"))
        return result

    monkeypatch.setattr(rendering, "static_url_fetcher", spy)
    return calls


def test_t18_escaped_free_text_fetches_nothing(fetched):
    """T18: markup and CSS in free text are escaped, so they never turn into requests."""
    snap = snapshot("ANH_31")
    snap["content"]["breach"] = (
        '<img src="file:///etc/passwd"> <link rel="stylesheet" href="http://example.org/x.css"> '
        '<p style="background: url(http://example.org/x.png)">x</p>'
    )
    data = render_letter_pdf(snap, kind="ANH_31", recipients=recipients("ANH_31"), letter_number=NUMBER)
    assert data.startswith(b"%PDF-1.7")
    assert 'src="file:///etc/passwd"' in " ".join(page_texts(data))
    assert fetched == []


def test_t18_hostile_html_is_refused_by_the_fetcher_and_the_pdf_is_produced(fetched):
    """T18: even raw HTML that asks for file:// or network URLs gets nothing; the PDF is still made."""
    hostile = (
        '<!DOCTYPE html><html lang="de"><head><title>x</title>'
        '<link rel="stylesheet" href="http://example.org/x.css">'
        "<style>@import url(https://example.org/y.css); body { background: url(file:///etc/hostname) }</style>"
        '</head><body><p>Text</p><img alt="a" src="file:///etc/passwd"><img alt="b" src="/etc/passwd">'
        '<img alt="c" src="kpstatic:../../../../etc/passwd"></body></html>'
    )
    data = render_pdf(hostile, title="T18")
    assert pikepdf.open(io.BytesIO(data)).pages
    urls = [url for url, _ in fetched]
    assert any(url.startswith("file://") for url in urls)
    assert any(url.startswith("http") for url in urls)
    assert all(answer.startswith("refused") for _, answer in fetched)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://example.org/x.png",
        "https://example.org/x.css",
        "ftp://example.org/x",
        "/etc/passwd",
        "letters/letter.css",
        "kpstatic:../../etc/passwd",
        "kpstatic:letters/../../../../etc/passwd",
        "kpstatic:/static/../../etc/passwd",
        "kpstatic:letters/does-not-exist.css",
        "kpstatic:",
    ],
)
def test_url_fetcher_refuses_everything_but_our_static_files(url):
    with pytest.raises(ValueError, match="nicht"):
        static_url_fetcher(url)


@pytest.mark.parametrize(
    ("url", "mime_type"),
    [
        ("kpstatic:letters/letter.css", "text/css"),
        ("kpstatic:letters/fonts/DejaVuSans.ttf", "font/ttf"),
        ("kpstatic:/static/letters/letter.css", "text/css"),
        ("kpstatic:css/app.css", "text/css"),  # the project's static folder
    ],
)
def test_url_fetcher_serves_static_files(url, mime_type):
    result = static_url_fetcher(url)
    assert result["string"]
    assert result["mime_type"] == mime_type


def test_url_fetcher_accepts_data_urls():
    result = static_url_fetcher("data:text/plain;base64,SGFsbG8=")
    content = result["string"] if "string" in result else result["file_obj"].read()
    assert content == b"Hallo"


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_first_page_renders_to_an_image(pdfs, tmp_path):
    """QUALITY.md: render a page with pdftoppm (the layout itself is checked by eye)."""
    source = tmp_path / "letter.pdf"
    source.write_bytes(pdfs["EINL_RFB"])
    subprocess.run(  # noqa: S603 - fixed arguments
        ["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(source), str(tmp_path / "page")],  # noqa: S607
        check=True,
        timeout=60,
    )
    assert list(tmp_path.glob("page-1.png"))
