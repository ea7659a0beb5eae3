"""The manager makes a scoped token at every viewport; the API documentation renders from
the app's own static files, with no request to another host."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from autoservice.models import ApiToken
from tests.e2e.helpers import VIEWPORTS, staff_login
from tests.e2e.helpers import shot as _shot
from tests.factories import MembershipFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_manager_makes_a_scoped_expiring_token(browser, live_server, shop, viewport):
    manager = MembershipFactory(shop=shop, role="manager")
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="ru-RU")
    page = context.new_page()
    staff_login(page, live_server, manager)
    page.goto(f"{live_server.url}/staff/settings/api/")
    page.fill("input[name=name]", "Битрикс24")
    page.get_by_label("заявки: чтение").check()
    page.get_by_label("заявки: создание, статус, ответственный").check()
    page.select_option("select[name=expires_in_days]", "30")
    page.get_by_role("button", name="Создать токен").click()
    token = page.locator("#new-token").inner_text()
    assert token.startswith("sto_")
    _shot(page, f"api-tokens-{viewport}")
    row = page.locator("tbody tr").first
    assert "заявки: чтение" in row.inner_text()
    assert ApiToken.objects.get(shop=shop).scopes == ["leads:read", "leads:write"]
    context.close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("name", "ready"), [("docs", ".opblock"), ("redoc", "h1")])
def test_api_documentation_renders_from_local_files(browser, live_server, name, ready):
    context = browser.new_context(viewport=VIEWPORTS["desktop"], locale="ru-RU")
    page = context.new_page()
    hosts = set()
    # What the page received: Redoc's bundle asks for its vendor's logo on a CDN, which the
    # page's Content-Security-Policy blocks before it leaves the browser.
    page.on(
        "response",
        lambda response: (
            response.url.startswith("http") and hosts.add(urlsplit(response.url).netloc)
        ),
    )
    page.goto(f"{live_server.url}/api/v1/{name}/")
    page.wait_for_selector(ready)
    assert "/api/v1/leads/" in page.content()
    _shot(page, f"api-{name}")
    assert hosts == {urlsplit(live_server.url).netloc}
    context.close()
