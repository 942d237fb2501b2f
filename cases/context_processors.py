from django.conf import settings
from django.http import HttpRequest

from rules.ruleset import CURRENT


def site(request: HttpRequest) -> dict[str, object]:
    """Values every page shows: the Rechtsstand (P3) and the idle timeout warning (T24)."""
    return {
        "ruleset": CURRENT,
        "session_idle_timeout_minutes": settings.SESSION_IDLE_TIMEOUT_MINUTES,
    }
