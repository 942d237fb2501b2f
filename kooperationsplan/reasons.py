"""German sentences for every reason code of the rule engine, and the rendering of legal sources.

The rule engine speaks in stable codes (rules/); case workers read these sentences. A test fails
when a code used in rules/ or in the services has no sentence here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from rules.decision import Reason

TEXTS: dict[str, str] = {
    # Potenzialanalyse
    "pa.complete": "Die Potenzialanalyse ist vollständig.",
    "pa.incomplete": "Zuerst muss die Potenzialanalyse vollständig sein (Stärken, Handlungsbedarfe, Hemmnisse, "
    "Gesundheit/Reha).",
    "pa.missing": "Für diesen Fall gibt es noch keine Potenzialanalyse.",
    "pa.already_complete": "Die Potenzialanalyse ist bereits abgeschlossen.",
    "pa.part_missing": "In der Potenzialanalyse fehlt noch: {part}.",
    "pa.health_not_assessed": "Die gesundheitliche Situation und ein möglicher Reha-Bedarf sind noch nicht besprochen.",
    "pa.saved": "Die Potenzialanalyse wurde gespeichert.",
    "pa.due": "Die Potenzialanalyse ist unverzüglich nach Beginn des Leistungsbezugs zu erstellen.",
    # Kooperationsplan
    "kp.should_be_made": "Mit jeder eLb soll unverzüglich ein Kooperationsplan erstellt werden.",
    "kp.draft_exists": "Es gibt bereits einen Entwurf; bitte diesen weiterbearbeiten.",
    "kp.case_exempt": "Für diesen Fall gilt eine Ausnahme (Kennung KP); ein Kooperationsplan ist nicht vorgesehen.",
    "kp.voluntary_paragraph_10": "Trotz § 10-Grund kann freiwillig ein Kooperationsplan erstellt werden.",
    "kp.missing": "Für diesen Fall fehlt ein Kooperationsplan.",
    "kp.present_or_exempt": "Ein Kooperationsplan liegt vor oder es gilt eine Ausnahme.",
    "kp.review_due": "Der Kooperationsplan ist spätestens nach {months} Monaten zu überprüfen: bis zum {review_due}.",
    "kp.soll_missing": "Der Soll-Inhalt „{item}“ muss ausgefüllt sein.",
    "kp.soll_undecided": "Beim Soll-Inhalt „{item}“ fehlt ein Text oder die Angabe „nicht relevant“.",
    "kp.next_goal_missing": "Bitte halten Sie das nächste Ziel fest (Pflichtangabe des Kooperationsplans).",
    "kp.steps_missing": "Bitte halten Sie mindestens einen nächsten Schritt fest (Pflichtangabe des "
    "Kooperationsplans).",
    "kp.content_complete": "Alle Soll-Inhalte sind ausgefüllt oder als nicht relevant markiert.",
    "kp.infoblatt_missing": "Die Aushändigung des Info-Blatts „VB-Eigenbemühungen/Vorstellungsgespräche“ ist mit Datum "
    "und Beratungsvermerk zu dokumentieren.",
    "kp.infoblatt_documented": "Die Aushändigung des Info-Blatts ist dokumentiert.",
    "kp.not_joint": "Der Kooperationsplan muss das gemeinsame Ergebnis des Gesprächs wiedergeben.",
    "kp.joint": "Der Kooperationsplan wurde gemeinsam erarbeitet.",
    "kp.never_rfb": "Ein Kooperationsplan enthält niemals eine Rechtsfolgenbelehrung; er ist rechtlich unverbindlich.",
    "kp.no_rfb": "Der Kooperationsplan enthält keine Rechtsfolgenbelehrung und keine Unterschrift.",
    "kp.not_draft": "Nur ein Entwurf kann aktiviert werden (Status: {status}).",
    "kp.eb_has_evidence": "Zu diesen Eigenbemühungen liegen schon Nachweise vor; Änderungen bitte über eine "
    "Fortschreibung.",
    "kp.not_active": "Nur ein aktiver Kooperationsplan kann überprüft werden (Status: {status}).",
    "kp.schlichtung_running_use_agreement": "Während einer Schlichtung wird der Plan über die Einigung der "
    "Schlichtung aktiviert.",
    "kp.stays_in_force": "Der Kooperationsplan bleibt bestehen und rechtlich unverbindlich.",
    "kp.bg_member_foreign": "Nur Personen derselben Bedarfsgemeinschaft können verknüpft werden.",
    "kp.bg_member_linked": "Die Person der Bedarfsgemeinschaft ist verknüpft.",
    "kp.minor_without_gv_consent": "Mit Minderjährigen darf ein Kooperationsplan ohne Zustimmung der gesetzlichen "
    "Vertretung erstellt werden.",
    "kp.adult": "Die eLb ist volljährig.",
    "kp.no_rfb_while_cooperating": "Solange die Zusammenarbeit funktioniert, erfolgt nichts mit Rechtsfolgenbelehrung.",
    "kp.rfb_context_ok": "Eine Rechtsfolgenbelehrung ist in diesem Kooperationsmodus zulässig.",
    "mode.kp_active": "Mit dem aktiven Kooperationsplan gilt die Zusammenarbeit ohne Rechtsfolgenbelehrung.",
    "mode.stays_with_rfb": "Die Zusammenarbeit bleibt vorerst mit Rechtsfolgenbelehrung.",
    "mode.return_without_rfb": "Rückkehr zur Zusammenarbeit ohne Rechtsfolgenbelehrung.",
    "mode.voluntary_kp": "Mit dem freiwilligen Kooperationsplan endet die Ausnahme.",
    "ret.not_with_rfb": "Eine Rückkehr ohne RFB ist nur aus der Zusammenarbeit mit RFB möglich.",
    "ret.reason_required": "Für die Rückkehr ohne RFB ist eine Begründung nötig.",
    "ret.not_reliable_long_enough": "Die eLb muss die Pflichten mindestens {months} Monate zuverlässig erfüllt haben.",
    "ret.allowed": "Die eLb hält sich zuverlässig an die Absprachen; eine Rückkehr ohne RFB ist möglich.",
    "ret.aufhebung_needed": "{count} offene(r) Zuweisungsbescheid(e) werden nach § 48 SGB X aufgehoben.",
    "review.due": "Die Überprüfung ist fällig (spätestens {review_due}).",
    "review.early_trigger": "Eine vorzeitige Überprüfung ist wegen eines Anlasses nötig.",
    "review.before_due": "Eine Überprüfung ist jederzeit vor dem Fälligkeitstag möglich.",
    "review.term_ended": "Die Laufzeit des Kooperationsplans ist am {valid_to} abgelaufen: bitte fortschreiben "
    "(neue Version) statt anpassen.",
    "kp.not_under_review": "Der Kooperationsplan ist nicht in Überprüfung (Status: {status}).",
    "review.adapted": "Der Kooperationsplan wird in derselben Version angepasst; die nächste Überprüfung ist "
    "spätestens am {review_due}.",
    "review.change_note_required": "Bitte beschreiben Sie die Anpassung.",
    "eb.zero_without_reason": "Eine Mindestanzahl von 0 braucht eine Begründung.",
    "eb.due_day_invalid": "Der Nachweistag muss zwischen 1 und 28 liegen (angegeben: {day}).",
    "eb.valid": "Die Eigenbemühungen sind vollständig festgelegt.",
    "eb.vb_explained": "Die Leistungen aus dem Vermittlungsbudget wurden erläutert.",
    "eb.vb_not_documented": "Die Erläuterung des Vermittlungsbudgets ist noch nicht dokumentiert.",
    "eb.received": "Der Nachweis ist eingegangen.",
    "eb.within_grace": "Der Nachweis ist noch in der Nachfrist von {grace_days} Tagen.",
    "eb.missing_after_grace": "Der Nachweis fehlt auch nach der Nachfrist von {grace_days} Tagen.",
    "eb.incomplete": "Nachgewiesen sind {count} von mindestens {min_count} vereinbarten Eigenbemühungen: der "
    "Nachweis ist unvollständig.",
    "eb.complete": "Nachgewiesen sind {count} von mindestens {min_count} vereinbarten Eigenbemühungen.",
    "eb.received_in_future": "Das Eingangsdatum darf nicht in der Zukunft liegen.",
    "eb.count_invalid": "Die nachgewiesene Anzahl ist ungültig.",
    "eb.evidence_recorded": "Der Nachweis der Eigenbemühungen ist erfasst.",
    # Invitations
    "invitation.meldezweck_missing": "Jede Einladung braucht einen Meldezweck.",
    "invitation.examination_rfb_not_overridable": "Einladungen zu ärztlichen oder psychologischen Untersuchungen "
    "erfolgen immer mit Rechtsfolgenbelehrung.",
    "invitation.examination_always_rfb": "Einladung zur Untersuchung immer mit Rechtsfolgenbelehrung "
    "({percent} % für einen Monat bei Versäumnis ohne wichtigen Grund).",
    "invitation.bi_never_rfb": "Die Einladung zur beraterischen Intervention erfolgt ohne Rechtsfolgenbelehrung.",
    "invitation.bi_without_rfb": "Einladung zur beraterischen Intervention ohne Rechtsfolgenbelehrung.",
    "invitation.first_never_rfb": "Die erste Einladung zu Potenzialanalyse und KP erfolgt ohne Rechtsfolgenbelehrung.",
    "invitation.first_without_rfb": "Erste Einladung zu Potenzialanalyse und Kooperationsplan: ohne "
    "Rechtsfolgenbelehrung.",
    "invitation.deviation_reason_missing": "Wenn Sie von der Vorgabe abweichen, ist eine Begründung nötig.",
    "invitation.ifk_choice": "Vorlage nach Wahl der Integrationsfachkraft mit Begründung.",
    "invitation.on_request_without_rfb": "Einladung auf Wunsch der eLb oder im Widerspruchsverfahren: ohne "
    "Rechtsfolgenbelehrung.",
    "invitation.followup_without_rfb_000": "Solange die Zusammenarbeit funktioniert, erfolgen Einladungen ohne "
    "Rechtsfolgenbelehrung (Einstellung des Jobcenters).",
    "invitation.followup_with_rfb": "Weitere Einladungen erfolgen mit Rechtsfolgenbelehrung.",
    "invitation.fahrtkosten": "Fahrtkosten können auf Antrag übernommen werden – unabhängig von der "
    "Rechtsfolgenbelehrung.",
    "melde.no_rfb_no_minderung": "Ohne Rechtsfolgenbelehrung führt ein versäumter Termin nicht zu einer Minderung.",
    "melde.zugang_not_proven": "Der Zugang der Einladung ist nicht nachgewiesen.",
    "melde.wichtiger_grund": "Für das Versäumnis liegt ein wichtiger Grund vor: keine Minderung.",
    "melde.no_intervention": "Ein Meldeversäumnis ist kein Verstoß gegen den Kooperationsplan: es folgt keine "
    "beraterische Intervention, sondern gegebenenfalls die Anhörung nach § 32 SGB II.",
    "melde.not_a_meldeversaeumnis": "Die Anhörung wegen Meldeversäumnis passt nicht zu dieser Stufe ({status}).",
    "appointment.outcome": "Das Ergebnis des Termins ist erfasst.",
    "appointment.is_intervention": "Das Ergebnis der beraterischen Intervention wird bei der Eskalation erfasst.",
    "appointment.outcome_recorded": "Für diesen Termin ist bereits ein Ergebnis erfasst.",
    "appointment.outcome_unknown": "Bitte wählen Sie ein Ergebnis des Termins.",
    "appointment.not_yet": "Der Termin liegt noch in der Zukunft.",
    "melde.anhoerung_32": "Versäumter Termin trotz Rechtsfolgenbelehrung: Anhörung wegen Meldeversäumnis "
    "({percent} %, {months} Monat).",
    # Escalation
    "breach.no_current_kp": "Ohne aktiven Kooperationsplan kann kein Verstoß gegen Absprachen erfasst werden.",
    "breach.recorded": "Nicht eingehaltene Absprachen leiten die Eskalation ein.",
    "breach.description_required": "Bitte beschreiben Sie den Sachverhalt.",
    "breach.in_future": "Das Datum des Verstoßes darf nicht in der Zukunft liegen.",
    "escalation.wrong_step": "Dieser Schritt passt nicht zur aktuellen Stufe ({status}).",
    "escalation.intervention_first": "Zuerst ist die beraterische Intervention durchzuführen (aktuelle Stufe: "
    "{status}).",
    "escalation.exempt_type": "Für diese Maßnahmeart gibt es keine Aufforderung und keinen Zuweisungsbescheid mit "
    "Rechtsfolgenbelehrung; nur Gespräch und Anpassung des KP.",
    "escalation.not_exempt_type": "Die Maßnahmeart ist nicht ausgenommen.",
    "escalation.wichtiger_grund": "Es liegt ein wichtiger Grund vor; es folgt keine Aufforderung.",
    "escalation.no_wichtiger_grund": "Ein wichtiger Grund ist nicht ersichtlich.",
    "escalation.intervention_not_attended": "Die beraterische Intervention wurde nicht wahrgenommen.",
    "escalation.no_kp_use_15_6": "Ohne Kooperationsplan ist eine Aufforderung nach § 15 Abs. 6 SGB II zu erlassen.",
    "escalation.aufforderung_15_5": "Kein wichtiger Grund: Aufforderung nach § 15 Abs. 5 SGB II mit "
    "Rechtsfolgenbelehrung.",
    "escalation.psych_vermerk_required": "Der Verzicht auf die Aufforderung ist in einem Vermerk zu begründen.",
    "escalation.psych_skip": "Bei psychischer Erkrankung/komplexen Handlungsbedarfen wird von der Aufforderung "
    "abgesehen (dokumentiert).",
    "escalation.aufforderung_first": "Die Anhörung setzt eine Aufforderung mit Rechtsfolgenbelehrung voraus "
    "(aktuelle Stufe: {status}).",
    "escalation.deadline_not_passed": "Die Frist der Aufforderung ist noch nicht abgelaufen (Frist: {deadline}).",
    "escalation.deadline_too_short": "Die Frist muss nach der Bekanntgabe liegen (frühestens {earliest}).",
    "escalation.anhoerung": "Die Pflicht wurde trotz Aufforderung nicht erfüllt: Anhörung nach § 24 SGB X.",
    "escalation.abort_under_bescheid": "Abbruch trotz Zuweisungsbescheid mit RFB: Vorschlag einer Anhörung ohne "
    "erneute Aufforderung (rechtlich zu prüfen).",
    "escalation.complied": "Die Pflicht wurde fristgerecht erfüllt.",
    "minderung.first": "Erste Pflichtverletzung: Minderung um {percent} % für {months} Monat(e).",
    "minderung.repeated": "Wiederholte Pflichtverletzung innerhalb von {lookback_months} Monaten: Minderung um "
    "{percent} % für {months} Monat(e).",
    "minderung.melde_fix": "Meldeversäumnis: Minderung um {percent} % für {months} Monat.",
    "minderung.not_festgestellt": "Es ist keine Minderung festgestellt (Stufe: {status}).",
    "minderung.period_over": "Der Minderungszeitraum ist beendet.",
    "minderung.during_schlichtung": "Während einer Schlichtung führt eine Pflichtverletzung nicht zu einer Minderung.",
    "minderung.melde_during_schlichtung": "Meldeversäumnis während der Schlichtung: § 15a Abs. 3 nennt nur § 31 "
    "(rechtlich zu prüfen).",
    "minderung.no_schlichtung": "Zum Zeitpunkt des Verstoßes lief keine Schlichtung.",
    "minderung.too_late": "Die Minderung kann nur bis zum {deadline} festgestellt werden (6 Monate nach dem Verstoß).",
    "minderung.in_time": "Die Feststellung ist noch bis zum {deadline} möglich.",
    "minderung.lift_after_first_month": "Die Minderung endet nach Ablauf des ersten Monats.",
    "minderung.lift_now": "Die Minderung ist aufzuheben, weil die Pflicht erfüllt wurde.",
    "minderung.none": "Keine Leistungsminderung.",
    "minderung.reason_required": "Bitte geben Sie an, warum keine Minderung erfolgt.",
    "anhoerung.aufforderung_missing": "Zur Anhörung fehlt die zugrunde liegende Aufforderung.",
    "anhoerung.period_running": "Die Äußerungsfrist läuft noch bis zum {until}.",
    "anhoerung.period_over": "Die Äußerungsfrist ist abgelaufen.",
    "nokp.wait_for_schlichtung": "Während der Schlichtung wird das Ergebnis abgewartet.",
    "nokp.not_in_mode": "Eine Aufforderung nach § 15 Abs. 6 setzt voraus, dass kein Kooperationsplan besteht.",
    "nokp.aufforderung_15_6": "Kein Kooperationsplan: Aufforderung nach § 15 Abs. 6 SGB II mit Rechtsfolgenbelehrung.",
    "nokp.offer_kp_again": "Ein einvernehmlicher Kooperationsplan bleibt das Ziel: bitte erneut anbieten.",
    "nokp.not_applicable": "Dieser Hinweis gilt nur ohne Kooperationsplan.",
    "nokp.disagreement_required": "Bitte halten Sie fest, worüber keine Einigung erzielt wurde.",
    "nokp.current_kp_use_schlichtung": "Bei Streit über die Fortschreibung ist die Schlichtung der richtige Weg.",
    "nokp.no_agreement": "Im Gespräch ist kein Kooperationsplan zustande gekommen.",
    "kp.no_draft": "Es gibt keinen Entwurf eines Kooperationsplans.",
    "vv.without_rfb": "Solange die Zusammenarbeit funktioniert, erfolgen Vermittlungsvorschläge ohne RFB.",
    "vv.with_rfb": "Vermittlungsvorschläge erfolgen mit Rechtsfolgenbelehrung.",
    "vv.without_rfb_default": "Vermittlungsvorschläge erfolgen ohne Rechtsfolgenbelehrung.",
    # Letters
    "letter.is_va": "Das Schreiben ist ein Verwaltungsakt und enthält eine Rechtsbehelfsbelehrung.",
    "letter.not_va": "Das Schreiben ist kein Verwaltungsakt und enthält keine Rechtsbehelfsbelehrung.",
    "letter.kind_with_rfb": "Dieses Schreiben enthält eine Rechtsfolgenbelehrung.",
    "letter.kind_without_rfb": "Dieses Schreiben darf keine Rechtsfolgenbelehrung enthalten.",
    "letter.rfb_mismatch": "Rechtsfolgenbelehrung und Schreibenart passen nicht zusammen.",
    "rfb.applies_after_escalation": "Es gilt die Zusammenarbeit mit Rechtsfolgenbelehrung: eine Aufforderung oder ein "
    "Zuweisungsbescheid mit RFB ist ergangen. Ziel bleibt die Rückkehr ohne RFB.",
    "rfb.applies_without_kp": "Es besteht kein Kooperationsplan: Mitwirkungshandlungen werden mit "
    "Rechtsfolgenbelehrung aufgefordert (§ 15 Abs. 6 SGB II).",
    "rfb.schlichtung_running": "Eine Schlichtung läuft: Pflichtverletzungen nach § 31 führen jetzt nicht zu einer "
    "Minderung.",
    "rfb.exempt": "Für diesen Fall gilt eine Ausnahme (Kennung KP); es gibt keinen Kooperationsplan.",
    "rfb.no_kp_yet": "Noch kein Kooperationsplan: die erste Einladung erfolgt ohne Rechtsfolgenbelehrung.",
    "rfb.not_while_cooperating": "Die Zusammenarbeit funktioniert: nichts im Rahmen des Kooperationsplans erfolgt mit "
    "Rechtsfolgenbelehrung.",
    "rfb.concrete": "Die Rechtsfolgenbelehrung nennt die konkrete Pflicht und die Minderung ({percent} %, "
    "{months} Monat(e)).",
    "rfb.duty_missing": "Die konkrete Pflicht fehlt; eine Rechtsfolgenbelehrung muss konkret sein.",
    "rfb.level_invalid": "Die Minderungshöhe ({percent} %, {months} Monate) ist nicht zulässig.",
    "recipients.elb": "Das Schreiben geht an die eLb.",
    "recipients.minor_jointly": "Minderjährig: Einladung gemeinsam mit der gesetzlichen Vertretung.",
    "recipients.minor_to_gv": "Minderjährig: das Schreiben geht an die gesetzliche Vertretung, Kopie an die eLb.",
    "recipients.minor_without_gv": "Minderjährig, aber keine gesetzliche Vertretung erfasst – bitte nachtragen.",
    "letter.release_not_awaiting": "Dieses Schreiben wartet nicht auf eine Freigabe.",
    "letter.release_teamleitung_only": "Schreiben mit Rechtsfolgenbelehrung gibt nur die Teamleitung frei.",
    "letter.release_second_person": "Freigeben muss eine andere Person als die, die das Schreiben ausgestellt hat "
    "(Vier-Augen-Prinzip).",
    "letter.released": "Die Teamleitung hat die Rechtsfolgenbelehrung geprüft und das Schreiben freigegeben.",
    "letter.not_issuable": "Das Schreiben wurde nicht ausgestellt: {message}",
    "archive.file": "Das Dokument wird in der E-Akte abgelegt.",
    "archive.already_filed": "Das Dokument liegt bereits in der E-Akte.",
    # Measures
    "zuw.planned": "Die Maßnahme ist im Kooperationsplan vereinbart.",
    "zuw.plan_not_open": "Der Kooperationsplan kann nicht mehr ergänzt werden (Status: {status}).",
    "zuw.dates_inconsistent": "Die Daten passen nicht: Rückmeldung vor Beginn, Ende nach Beginn.",
    "zuw.not_in_catalogue": "Diese Maßnahme ist nicht (mehr) im Katalog.",
    "zuw.not_planned": "Die Maßnahme ist nicht mehr im Stand „geplant“ (Status: {status}).",
    "zuw.traeger_missing": "Die Kontaktdaten des Trägers sind unvollständig.",
    "zuw.needs_kp": "Ein Zuweisungsschreiben setzt einen Kooperationsplan voraus.",
    "zuw.schreiben_without_rfb": "Zuweisungsschreiben: informell, ohne Rechtsfolgenbelehrung.",
    "zuw.no_rfb_while_cooperating": "Solange die Zusammenarbeit funktioniert, erfolgt keine Zuweisung mit RFB.",
    "zuw.exempt_type": "Für diese Maßnahmeart gibt es keinen Zuweisungsbescheid mit Rechtsfolgenbelehrung.",
    "zuw.not_in_clarification": "Der Bescheid nach Abbruch setzt die Klärung voraus (Status: {status}).",
    "zuw.traeger_ruecksprache_missing": "Vor dem Bescheid ist Rücksprache mit dem Träger zu halten.",
    "zuw.bescheid_after_abort": "Abbruch ohne wichtigen Grund: angepasster Zuweisungsbescheid mit RFB für die "
    "Restlaufzeit.",
    "zuw.bescheid_needs_escalation": "Ein Zuweisungsbescheid ist erst nach einer Eskalation möglich (Modus: {mode}).",
    "zuw.bescheid_new_kp_after_abort": "Nach dem Abbruch wurde ein neuer KP erarbeitet: die Absprachen werden mit "
    "Zuweisungsbescheid (mit RFB) belegt.",
    "zuw.bescheid_with_rfb": "Zuweisungsbescheid mit Rechtsfolgenbelehrung (Modus: {mode}).",
    "zuw.no_remaining_term": "Der Kooperationsplan hat keine Restlaufzeit; bitte zuerst fortschreiben.",
    "zuw.remaining_term": "Der Bescheid gilt bis zum Ende des Kooperationsplans am {valid_to}.",
    "zuw.new_rueckmeldung_required": "Für den Bescheid ist eine neue Frist zur Vorstellung nötig.",
    "zuw.bescheid_needs_aufhebung": "Ein Zuweisungsbescheid muss förmlich aufgehoben werden.",
    "zuw.cannot_withdraw": "Die Zuweisung kann nicht mehr zurückgenommen werden (Status: {status}).",
    "zuw.withdraw_without_aufhebung": "Ein Zuweisungsschreiben ist kein Verwaltungsakt und wird ohne Aufhebung "
    "zurückgenommen.",
    "zuw.nothing_to_replace": "Es gibt keinen geltenden Bescheid, der ersetzt werden könnte (Status: {status}).",
    "zuw.replace_bescheid": "Der bisherige Zuweisungsbescheid wird aufgehoben; der neue Bescheid vermerkt dies.",
    "zuw.schreiben_needs_no_aufhebung": "Ein Zuweisungsschreiben muss nicht aufgehoben werden.",
    "zuw.nothing_to_lift": "Der Bescheid gilt nicht mehr (Status: {status}).",
    "zuw.aufhebung_48": "Aufhebung des Zuweisungsbescheids nach § 48 SGB X für die Zukunft.",
    "zuw.reported": "Die Rückmeldung des Trägers ist erfasst.",
    "zuw.started": "Die Maßnahme hat begonnen.",
    "zuw.completed": "Die Maßnahme ist abgeschlossen.",
    "abb.not_started": "Ein Abbruch setzt eine begonnene Maßnahme voraus (Status: {status}).",
    "abb.under_bescheid": "Abbruch trotz Zuweisungsbescheid: Vorschlag nach § 31 Abs. 1 Nr. 3 SGB II (rechtlich "
    "zu prüfen).",
    "abb.clarifying_talk": "Nach dem Abbruch folgt zuerst ein klärendes Gespräch.",
    "abb.not_in_clarification": "Die Maßnahme ist nicht in der Klärung (Status: {status}).",
    "abb.wichtiger_grund_adapt_kp": "Wichtiger Grund: der Kooperationsplan wird ohne RFB angepasst.",
    "abb.bescheid_for_rest_of_term": "Kein wichtiger Grund, Wiedereinstieg möglich: Zuweisungsbescheid für die "
    "Restlaufzeit.",
    "abb.kp_failed": "Die Maßnahme kann nicht fortgeführt werden und es kommt kein neuer KP zustande: der "
    "Kooperationsplan ist gescheitert.",
    "abb.missed_talk_continue_escalation": "Gespräch versäumt, die Maßnahme kann aber fortgeführt werden: weiter "
    "mit der Aufforderung.",
    "abb.new_kp_with_bescheid": "Wiedereinstieg nicht möglich: neuer Kooperationsplan, Absprachen mit "
    "Zuweisungsbescheid.",
    # Schlichtung and approvals
    "schlichtung.not_in_force": "Das Schlichtungsverfahren ist zu diesem Datum nicht vorgesehen.",
    "schlichtung.already_running": "Es läuft bereits eine Schlichtung.",
    "schlichtung.case_exempt": "Für diesen Fall gilt eine Ausnahme; eine Schlichtung ist nicht vorgesehen.",
    "schlichtung.disagreement_required": "Bitte halten Sie die strittigen Punkte fest.",
    "schlichtung.tl_approval_required": "Nach einem gescheiterten KP ist die Zustimmung der Teamleitung nötig.",
    "schlichtung.start": "Die Schlichtung beginnt; sie endet spätestens nach vier Wochen.",
    "schlichtung.tl_approved": "Die Teamleitung hat der Schlichtung zugestimmt.",
    "schlichtung.tl_requested": "Die Zustimmung der Teamleitung ist angefragt.",
    "schlichtung.no_failed_kp": "Eine Vorlage an die Teamleitung ist nur nach einem gescheiterten KP nötig.",
    "schlichtung.schlichter_required": "Bitte geben Sie die Schlichtungsperson an.",
    "schlichtung.not_running": "Die Schlichtung läuft nicht.",
    "schlichtung.draft_needed": "Für die Einigung ist zuerst der in der Schlichtung vereinbarte Kooperationsplan "
    "als Entwurf zu erfassen.",
    "schlichtung.still_running": "Die Schlichtung läuft noch bis zum {ends_on}.",
    "schlichtung.expired": "Vier Wochen sind abgelaufen: die Schlichtung endet ohne Einigung ({ends_on}).",
    "schlichtung.proposal_required": "Der gemeinsame Lösungsvorschlag ist festzuhalten.",
    "schlichtung.deviation_needs_justification": "Eine Abweichung vom Lösungsvorschlag ist schriftlich zu begründen.",
    "schlichtung.agreement_kp": "Einigung in der Schlichtung: der Kooperationsplan wird aktiviert.",
    "schlichtung.no_agreement_15_6": "Keine Einigung: bis zu einem KP gilt § 15 Abs. 6 SGB II.",
    "approval.already_decided": "Über diese Vorlage wurde bereits entschieden.",
    "approval.approved": "Die Teamleitung hat zugestimmt.",
    "approval.declined": "Die Teamleitung hat abgelehnt.",
    # Exemptions
    "exemption.kennung_missing": "Ohne KP ist die Kennung KP zu setzen.",
    "exemption.kennung_reason_not_meaningful": "Die Kennung KP braucht eine aussagekräftige Begründung (ein Satz).",
    "exemption.kennung_set": "Die Kennung KP ist mit Begründung gesetzt.",
    "exemption.ez_not_firm": "Die Einstellungszusage muss fest sein und ein Beginndatum haben.",
    "exemption.ez_too_far": "Die Beschäftigung muss innerhalb von {max_days} Tagen beginnen.",
    "exemption.ez_start_past": "Der Beschäftigungsbeginn liegt in der Vergangenheit.",
    "exemption.ez_support_needed": "Werden weitere Förderleistungen gebraucht, ist ein KP zu erstellen.",
    "exemption.ez": "Feste Einstellungszusage: ein KP ist bis zum Beschäftigungsbeginn ({until}) nicht nötig.",
    "exemption.p10_ended": "Der § 10-Grund ist entfallen.",
    "exemption.p10": "Ein § 10-Grund liegt vor; ein KP kann erstellt werden, muss aber nicht.",
    "exemption.p10_kp_sinnvoll": "Ein KP ist sinnvoll, weil er auf eine künftige Beendigung der Hilfebedürftigkeit "
    "zielt.",
    "exemption.pl1_not_working": "Profillage I: Vollzeitbeschäftigung, Selbstständigkeit oder Erwerbstätigkeit an der "
    "Grenze der Möglichkeiten muss vorliegen.",
    "exemption.pl1_reduction_possible": "Profillage I: ist eine Verringerung in den nächsten sechs Monaten möglich, "
    "gehört sie in einen KP.",
    "exemption.pl1": "Profillage I: alle Möglichkeiten sind ausgeschöpft.",
    "exemption.no_bulk": "Ausnahmen sind Einzelfallentscheidungen und können nicht als Massenaktion gesetzt werden.",
    "exemption.schlichtung_running": "Während einer Schlichtung kann keine Ausnahme erfasst werden.",
    "exemption.already_exempt": "Für diesen Fall gilt bereits eine Ausnahme.",
    "exemption.individual": "Einzelfallentscheidung mit Begründung und Prüftermin.",
    "exemption.job_started": "Die Arbeitsaufnahme ist bestätigt.",
    "exemption.job_not_started": "Die Arbeit wurde nicht aufgenommen: die Ausnahme entfällt.",
    "exemption.ez_waiting": "Die Arbeitsaufnahme kann noch bestätigt werden.",
    "exemption.p10_continues": "Der § 10-Grund besteht fort.",
    "exemption.pl1_changed": "Die Voraussetzungen der Profillage I liegen nicht mehr vor.",
    "exemption.pl1_continues": "Die Voraussetzungen der Profillage I bestehen fort.",
    "exemption.kennung_removed": "Die Kennung KP wurde entfernt.",
    "exemption.ez_withdrawn": "Die Einstellungszusage wurde zurückgenommen: die Ausnahme entfällt.",
    "exemption.ez_postponed": "Die Arbeitsaufnahme wurde über {max_days} Tage hinaus verschoben: die Ausnahme "
    "entfällt.",
    "exemption.ez_no_recheck": "Bei einer Einstellungszusage wird die Arbeitsaufnahme bestätigt, nicht geprüft.",
    "exemption.not_active": "Diese Ausnahme gilt nicht mehr.",
    "exemption.recheck_note_required": "Bitte vermerken Sie das Ergebnis der Prüfung.",
    "exemption.not_ez": "Diese Ausnahme beruht nicht auf einer Einstellungszusage.",
    "exemption.ez_start_date_invalid": "Das Datum der Arbeitsaufnahme ist nicht plausibel.",
    "exemption.ez_outcome_unknown": "Bitte wählen Sie, was mit der Einstellungszusage geschehen ist.",
    # Team lead's desk (RULES.md 5.4)
    "teamdesk.review_overdue": "Die Überprüfung des Kooperationsplans ist seit {days} Tagen überfällig (fällig am "
    "{review_due}); sie liegt der Teamleitung vor.",
    "teamdesk.review_not_in_queue": "Diese Überprüfung liegt der Teamleitung nicht (mehr) vor.",
    "teamdesk.comment_required": "Bitte schreiben Sie der Integrationsfachkraft, was zu tun ist (mindestens zwei "
    "Wörter).",
    "teamdesk.returned": "Die Teamleitung hat die Vorlage mit einem Kommentar an die Integrationsfachkraft "
    "zurückgegeben.",
    "teamdesk.decline_not_offered": "Ablehnen ist nur bei der Zustimmung zur Schlichtung vorgesehen.",
    "teamdesk.psych_skip_acknowledged": "Die Teamleitung trägt den dokumentierten Verzicht auf die Aufforderung mit.",
    "teamdesk.review_delay_accepted": "Die Teamleitung hat die Verzögerung der Überprüfung zur Kenntnis genommen.",
    "reassign.reason_required": "Bitte begründen Sie die neue Zuständigkeit (mindestens zwei Wörter).",
    "reassign.target_not_in_team": "Der Fall kann nur einer aktiven Integrationsfachkraft desselben Teams "
    "übertragen werden.",
    "reassign.same_person": "Diese Integrationsfachkraft ist bereits zuständig.",
    "reassign.allowed": "Die Teamleitung überträgt den Fall einer Integrationsfachkraft desselben Teams.",
    # Closing a case (RULES.md 5.1 → ENDED)
    "case.schlichtung_running": "Während einer Schlichtung kann der Fall nicht abgeschlossen werden; bitte zuerst "
    "ihr Ergebnis erfassen.",
    "case.closed_in_future": "Das Ende des Leistungsbezugs darf nicht in der Zukunft liegen.",
    "case.closed_before_start": "Das Ende des Leistungsbezugs darf nicht vor seinem Beginn ({start}) liegen.",
    "case.close_note_required": "Bitte vermerken Sie, warum der Leistungsbezug endet.",
    "case.closed": "Der Leistungsbezug endete am {closed_on}: der Fall wird abgeschlossen.",
    "case.is_closed": "Der Fall ist abgeschlossen (Leistungsbezug beendet am {closed_on}); es sind keine Schritte "
    "mehr möglich.",
    "kp.ended_with_case": "Der Kooperationsplan endet mit dem Fall.",
    "kp.ended_by_exemption": "Mit der Ausnahme endet der Kooperationsplan; die Kennung KP ist gesetzt.",
    # Generic
    "transition.not_allowed": "Dieser Schritt ist im aktuellen Stand nicht vorgesehen ({from} → {event}).",
}

SOURCE_PREFIXES = (
    (re.compile(r"^001 §(\d+(?:\.\d+)?)$"), "Fachliche Hinweise KP, Nr. {0}"),
    (re.compile(r"^000$"), "Jobcenter-Information „Der neue Kooperationsplan: Worum geht's?“"),
    (re.compile(r"^P(\d+)$"), "Produktentscheidung P{0}"),
    (re.compile(r"^RULES\.md (\d+(?:\.\d+)?)$"), "Regelkatalog, Abschnitt {0}"),
)


class _Params(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "…"


def _format_value(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return date.fromisoformat(value).strftime("%d.%m.%Y")
    return value


def sentence(code: str, params: Mapping[str, Any] | None = None) -> str:
    template = TEXTS.get(code)
    if template is None:
        raise KeyError(f"Kein Text für den Begründungscode {code}")
    return template.format_map(_Params({key: _format_value(value) for key, value in (params or {}).items()}))


def source_label(source: str) -> str:
    for pattern, template in SOURCE_PREFIXES:
        match = pattern.match(source)
        if match:
            return template.format(*match.groups())
    return source


def explain(reason: Reason) -> dict[str, Any]:
    """A reason for display: German sentence, rule ID, rendered sources, legal-review flag."""
    return {
        "text": sentence(reason.code, reason.params),
        "rule_id": reason.rule_id,
        "sources": [source_label(source) for source in reason.sources],
        "needs_legal_review": reason.needs_legal_review,
    }
