from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse

from rules.ruleset import CURRENT

# The links and assets of templates/base.html. They are the same on every page, but reversing and looking up
# fifteen of them on each page cost about a millisecond (bench/RESULTS.md "Pages"); they are worked out once per
# script prefix (a deployment has one).
FRAME_URLS = {
    "home": "home",
    "logout": "logout",
    "worklist": "worklist",
    "notifications": "notifications:list",
    "caseload": "cases:caseload",
    "create": "cases:create",
    "massrun": "massrun:index",
    "team": "team:desk",
    "admin": "admin:index",
    "calendar": "calendar_settings",
}
FRAME_STATIC = {
    "bootstrap_css": "vendor/bootstrap/bootstrap.min.css",
    "app_css": "css/app.css",
    "favicon": "img/favicon.svg",
    "bootstrap_js": "vendor/bootstrap/bootstrap.bundle.min.js",
    "htmx_js": "vendor/htmx/htmx.min.js",
    "app_js": "js/app.js",
}


@lru_cache(maxsize=8)
def _frame(script_prefix: str) -> dict[str, dict[str, str]]:
    return {
        "url": {key: reverse(name) for key, name in FRAME_URLS.items()},
        "static": {key: static(path) for key, path in FRAME_STATIC.items()},
    }


def _nav_active(request: HttpRequest) -> str:
    """Which entry of the main navigation is the current page (aria-current)."""
    match = request.resolver_match
    if match is None:
        return ""
    if match.url_name == "worklist":
        return "worklist"
    if match.view_name == "notifications:list":
        return "notifications"
    if match.url_name in ("caseload", "create"):
        return match.url_name
    if match.namespace in ("massrun", "team"):
        return match.namespace
    return ""


def site(request: HttpRequest) -> dict[str, object]:
    """Values every page shows: the Rechtsstand (P3), the idle timeout warning (T24), the frame's links."""
    return {
        "ruleset": CURRENT,
        "session_idle_timeout_minutes": settings.SESSION_IDLE_TIMEOUT_MINUTES,
        "frame": _frame(get_script_prefix()),
        "nav_active": _nav_active(request),
    }
