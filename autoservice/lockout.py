"""How the login lockout (django-axes) names the account a login attempt was for."""

from __future__ import annotations

from django.http import HttpRequest

# axes keeps the username in a 255-character column; no account's login is longer.
USERNAME_MAX_CHARS = 255


def axes_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The login as typed, cut to what the lockout log can store (a 10 000-character login
    was a database error, a 500, instead of a counted failure)."""
    if credentials:
        username = credentials.get("username")
    else:
        username = getattr(request, "POST", {}).get("username")
    return username[:USERNAME_MAX_CHARS] if isinstance(username, str) else username
