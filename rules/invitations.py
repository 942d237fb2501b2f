"""Invitations (RULES.md 3.3; P1): which letter, with or without RFB, and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from rules.decision import Decision, Reason, allow, refuse
from rules.facts import CaseFacts
from rules.letters import LetterKind
from rules.parameters import bool_param
from rules.states import Mode


class AppointmentKind(StrEnum):
    ERSTGESPRAECH = "ERST"
    FOLGETERMIN = "FOLGE"
    UEBERPRUEFUNG = "REVIEW"
    BERATERISCHE_INTERVENTION = "BI"
    AERZTLICH = "AERZTLICH"
    PSYCHOLOGISCH = "PSYCH"
    AUF_WUNSCH = "WUNSCH"
    WIDERSPRUCH = "WIDERSPRUCH"


class RfbChoice(StrEnum):
    DEFAULT = "DEFAULT"  # follow the rules
    WITH = "WITH"  # the IFK picks the template with RFB (R-INV-4)
    WITHOUT = "WITHOUT"  # the IFK picks the template without RFB (R-INV-4)


@dataclass(frozen=True)
class InvitationDecision:
    decision: Decision
    letter_kind: LetterKind
    with_rfb: bool


FAHRTKOSTEN = Reason("invitation.fahrtkosten", "R-INV-6", ("§ 59 SGB II", "§ 309 SGB III", "001 §4.2"))


def _result(kind: LetterKind, with_rfb: bool, *reasons: Reason) -> InvitationDecision:
    return InvitationDecision(allow(*reasons, FAHRTKOSTEN), kind, with_rfb)


def invitation(
    facts: CaseFacts,
    appointment: AppointmentKind,
    *,
    on: date,
    choice: RfbChoice = RfbChoice.DEFAULT,
    deviation_reason: str = "",
    meldezweck: str = "",
) -> InvitationDecision:
    """R-INV-1..6 with P1: the letter kind and whether it carries an RFB.

    - R-INV-5: an examination invitation always carries an RFB (overrides R-KP-9, not overridable).
    - R-INV-3: the Beraterische Intervention invitation never does.
    - R-INV-1: the first PA/KP invitation never does (counted per Leistungsfall).
    - R-INV-2 / P1: further invitations carry an RFB by default; the Jobcenter may switch to the 000
      practice (no RFB while cooperation works); the IFK may deviate with a reason (R-INV-4).
    - L-24: a Meldezweck is required for every invitation.
    """
    if not meldezweck.strip():
        reason = Reason("invitation.meldezweck_missing", "R-INV-2", ("§ 309 Abs. 2 SGB III", "§ 59 SGB II"))
        return InvitationDecision(refuse(reason), LetterKind.EINL_OHNE_RFB, False)

    if appointment in (AppointmentKind.AERZTLICH, AppointmentKind.PSYCHOLOGISCH):
        if choice is RfbChoice.WITHOUT:
            reason = Reason("invitation.examination_rfb_not_overridable", "R-INV-5", ("001 §4.2", "§ 32 SGB II"))
            return InvitationDecision(refuse(reason), LetterKind.EINL_UNTERSUCHUNG, True)
        return _result(
            LetterKind.EINL_UNTERSUCHUNG,
            True,
            Reason("invitation.examination_always_rfb", "R-INV-5", ("001 §4.2", "§ 32 SGB II"), {"percent": 10}),
        )

    if appointment is AppointmentKind.BERATERISCHE_INTERVENTION:
        if choice is RfbChoice.WITH:
            reason = Reason("invitation.bi_never_rfb", "R-INV-3", ("001 §4.2", "001 §6.1"))
            return InvitationDecision(refuse(reason), LetterKind.EINL_BI, False)
        return _result(
            LetterKind.EINL_BI,
            False,
            Reason("invitation.bi_without_rfb", "R-INV-3", ("001 §4.2", "001 §6.1", "001 §6.2")),
        )

    first_without_rfb = bool_param("invitation.first_without_rfb", on)
    if appointment is AppointmentKind.ERSTGESPRAECH and not facts.first_invitation_sent and first_without_rfb:
        if choice is RfbChoice.WITH:
            reason = Reason("invitation.first_never_rfb", "R-INV-1", ("§ 15 Abs. 4 SGB II", "001 §2", "001 §4.2"))
            return InvitationDecision(refuse(reason), LetterKind.EINL_KP_ERST, False)
        return _result(
            LetterKind.EINL_KP_ERST,
            False,
            Reason(
                "invitation.first_without_rfb",
                "R-INV-1",
                ("§ 15 Abs. 4 SGB II", "001 §2", "001 §4.2"),
                needs_legal_review=True,
            ),
        )

    if choice is not RfbChoice.DEFAULT:
        if not deviation_reason.strip():
            reason = Reason("invitation.deviation_reason_missing", "R-INV-4", ("001 §4.2",))
            return InvitationDecision(refuse(reason), LetterKind.EINL_OHNE_RFB, False)
        with_rfb = choice is RfbChoice.WITH
        return _result(
            LetterKind.EINL_RFB if with_rfb else LetterKind.EINL_OHNE_RFB,
            with_rfb,
            Reason("invitation.ifk_choice", "R-INV-4", ("001 §4.2",), {"with_rfb": with_rfb}),
        )

    if appointment in (AppointmentKind.AUF_WUNSCH, AppointmentKind.WIDERSPRUCH):
        return _result(
            LetterKind.EINL_OHNE_RFB,
            False,
            Reason("invitation.on_request_without_rfb", "R-INV-4", ("001 §4.2",), {"kind": appointment.value}),
        )

    cooperation_works = facts.mode is Mode.COOP_NO_RFB
    if not facts.followup_invitation_rfb and cooperation_works:
        # P1 switched to the 000 practice; R-KP-9: nothing carries an RFB while cooperation works.
        return _result(
            LetterKind.EINL_OHNE_RFB,
            False,
            Reason("invitation.followup_without_rfb_000", "R-KP-9", ("000", "P1")),
        )
    return _result(
        LetterKind.EINL_RFB,
        True,
        Reason("invitation.followup_with_rfb", "R-INV-2", ("001 §4.2", "§ 59 SGB II", "§ 309 SGB III", "P1")),
    )


def missed_appointment_consequence(*, with_rfb: bool, dispatch_proven: bool, wichtiger_grund: bool = False) -> Decision:
    """R-INV-7: a missed appointment can only lead to a § 32 Minderung after a correct written RFB, and never
    when the eLb had a wichtiger Grund (§ 32 Abs. 1 Satz 2 SGB II)."""
    if wichtiger_grund:
        return refuse(Reason("melde.wichtiger_grund", "R-INV-7", ("§ 32 Abs. 1 SGB II",)))
    sources = ("§ 32 SGB II", "BSG B 4 AS 30/09 R")
    if not with_rfb:
        return refuse(Reason("melde.no_rfb_no_minderung", "R-INV-7", sources))
    if not dispatch_proven:
        return refuse(Reason("melde.zugang_not_proven", "R-INV-7", sources, needs_legal_review=True))
    return allow(Reason("melde.anhoerung_32", "R-INV-7", sources, {"percent": 10, "months": 1}))


class AppointmentOutcome(StrEnum):
    PENDING = "PENDING"
    ATTENDED = "ATTENDED"
    NOT_ATTENDED = "NOT_ATTENDED"
    CANCELLED = "CANCELLED"
    POSTPONED = "POSTPONED"


RECORDABLE_OUTCOMES = frozenset(AppointmentOutcome) - {AppointmentOutcome.PENDING}
# Whether the eLb came can only be said once the day has come; a cancellation or a new date can be earlier.
OUTCOMES_AFTER_THE_DATE = frozenset({AppointmentOutcome.ATTENDED, AppointmentOutcome.NOT_ATTENDED})
APPOINTMENT_SOURCES = ("§ 59 SGB II", "§ 309 SGB III", "001 §4.2")


def appointment_outcome(
    *, is_intervention: bool, recorded: bool, outcome: str | None, appointment_day: date, on: date
) -> Decision:
    """R-MON-1: the outcome of an appointment is recorded once, for an appointment other than the Beraterische
    Intervention (its outcome belongs to the escalation, R-ESC-1). With `outcome` None: may an outcome be
    recorded at all (the next-steps panel offers the step)."""
    if is_intervention:
        return refuse(Reason("appointment.is_intervention", "R-ESC-1", ("001 §6.1",)))
    if recorded:
        return refuse(Reason("appointment.outcome_recorded", "R-MON-1", APPOINTMENT_SOURCES))
    if outcome is None:
        return allow(Reason("appointment.outcome", "R-MON-1", APPOINTMENT_SOURCES))
    if outcome not in RECORDABLE_OUTCOMES:
        return refuse(Reason("appointment.outcome_unknown", "R-MON-1", APPOINTMENT_SOURCES))
    if outcome in OUTCOMES_AFTER_THE_DATE and appointment_day > on:
        return refuse(Reason("appointment.not_yet", "R-MON-1", APPOINTMENT_SOURCES))
    return allow(Reason("appointment.outcome", "R-MON-1", APPOINTMENT_SOURCES, {"outcome": outcome}))
