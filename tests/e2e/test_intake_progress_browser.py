"""While the advisor shoots (tablet, 820×1180), «Осталось снять» follows the shots; the
signing screen then shows everything the signatures cover."""

from __future__ import annotations

import pytest

from intake import services
from tests.e2e.test_intake_browser import TABLET, login, make_scene, row, start_intake, wait_done

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def tablet(browser):
    """An advisor's tablet in portrait: 820×1180, touch, Russian."""
    context = browser.new_context(**TABLET)
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


def _missing(page) -> str:
    return page.locator("#missing-shots .missing-names").inner_text()


def test_missing_shots_banner_follows_the_shots_as_they_are_taken(
    tablet, live_server, advisor, tmp_path
):
    page = tablet
    login(page, live_server, advisor)
    record = start_intake(page, live_server)
    banner = page.locator("#missing-shots")
    assert banner.is_visible()
    assert "Перед слева под 45°" in _missing(page) and "Перед справа под 45°" in _missing(page)

    front_left = row(page, "Перед слева под 45°")
    front_left.locator("input.shot-input").set_input_files(make_scene(tmp_path / "a.jpg", 1))
    wait_done(page, "Перед слева под 45°")
    page.wait_for_function(
        "() => !document.querySelector('#missing-shots .missing-names')"
        ".textContent.includes('Перед слева под 45°')"
    )
    assert "Перед справа под 45°" in _missing(page)
    page.screenshot(path="/tmp/shots-act/intake-record-820.png")

    # Everything else taken or skipped on the server: after a reload nothing is missing.
    for spec in services.missing_shots(record):
        services.shot_skip(record=record, spec=spec, reason="Снято в другом акте")
    services.record_update_details(
        record=record,
        odometer_km=45210,
        fuel_level=4,
        warning_lamps=["check_engine"],
        belongings="Видеорегистратор",
        damages=[
            {"part": "taillamp_left", "kind": "broken", "size": ""},
            {"part": "door_front_left", "kind": "dent", "size": "2"},
        ],
    )
    page.reload()
    assert banner.is_hidden()
    page.goto(f"{live_server.url}/staff/intake/{record.pk}/sign/")
    summary = page.locator("#sign-summary").inner_text()
    for shown in ("45210 км", "1/2", "Видеорегистратор", "Фонарь задний левый", "1 кадр"):
        assert shown in summary, shown
    page.screenshot(path="/tmp/shots-act/intake-sign-820.png", full_page=True)
