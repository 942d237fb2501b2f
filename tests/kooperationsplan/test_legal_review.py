from io import StringIO

from django.core.management import call_command

from kooperationsplan.legal_review import flagged_reasons, unverified_parameters


def test_report_lists_the_unverified_rules_of_the_catalogue():
    codes = {item.code: item.rule_id for item in flagged_reasons()}
    # RULES.md marks these UNVERIFIED: first invitation wording (L-04), R-ABB-7 (derived), § 32 in Schlichtung (Q3).
    assert codes["invitation.first_without_rfb"] == "R-INV-1"
    assert codes["escalation.abort_under_bescheid"] == "R-ABB-7"
    assert codes["minderung.melde_during_schlichtung"] == "R-SCH-3"
    assert "kp.no_rfb" not in codes
    assert any(line.startswith("invitation.first_without_rfb") for line in unverified_parameters())


def test_command_prints_german_report():
    out = StringIO()
    call_command("legal_review_report", stdout=out)
    text = out.getvalue()
    assert "Entscheidungen mit Prüfvermerk" in text
    assert "R-ABB-7" in text
