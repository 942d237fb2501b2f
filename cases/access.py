"""The access log (§ 67 ff. SGB X): who read which case, and every denial (T1, T2)."""

from __future__ import annotations

from django.http import HttpRequest

from cases.models import AccessLog, User


def access_log_write(*, user: User, case_id: int, request: HttpRequest, granted: bool) -> None:
    match = request.resolver_match
    AccessLog.objects.create(
        user=user,
        case_id_accessed=case_id,
        view_name=match.view_name if match else "",
        path=request.path[:500],
        outcome=AccessLog.Outcome.GRANTED if granted else AccessLog.Outcome.DENIED,
    )
