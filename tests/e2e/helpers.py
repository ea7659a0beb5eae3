"""What the staff pages' browser tests share: the three viewports, signing in, screenshots."""

from __future__ import annotations

import os
import re
from pathlib import Path

VIEWPORTS = {
    "phone": {"width": 390, "height": 844},
    "tablet": {"width": 820, "height": 1180},
    "desktop": {"width": 1440, "height": 900},
}


def staff_login(page, live_server, membership) -> None:
    """Sign in through the login form as the factories' staff member (their test password)."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", membership.user.username)
    page.fill("#id_password", "correct-horse-42")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/"))


def shot(page, name: str) -> None:
    """SHOTS_DIR=/tmp/shots-… keeps the screenshots for a person to look at."""
    if folder := os.environ.get("SHOTS_DIR"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)
