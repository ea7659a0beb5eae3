"""Every staff view is scoped to the user's shop; another shop's object is a 404."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import MembershipFactory, UserFactory
from tests.s3 import redirects_to_bucket, served_bytes
from tests.staff_views import STAFF_VIEWS, kwargs_for, method_for, methods_for, object_views


def _staff_url_names(patterns=None, prefix: str = "", namespace: str = "") -> set[str]:
    """Every named URL under /staff/, with its namespace (`leads:lead_detail`)."""
    names: set[str] = set()
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names |= _staff_url_names(entry.url_patterns, route, inner)
        elif isinstance(entry, URLPattern) and route.startswith("staff/") and entry.name:
            names.add(namespace + entry.name)
    return names


def test_every_staff_view_is_in_the_tenancy_registry():
    missing = _staff_url_names() - set(STAFF_VIEWS)
    assert not missing, f"staff views without a cross-shop test: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(STAFF_VIEWS))
def test_anonymous_is_sent_to_login(client, shop, name):
    url = reverse(name, kwargs=kwargs_for(name, shop))
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", sorted(STAFF_VIEWS))
def test_user_without_shop_is_refused(client, shop, name):
    client.force_login(UserFactory())
    response = client.get(reverse(name, kwargs=kwargs_for(name, shop)))
    assert response.status_code == 403
    assert "сотрудник" in response.content.decode()


@pytest.mark.parametrize("name", sorted(STAFF_VIEWS))
def test_manager_opens_own_shop_view(manager_client, shop, name):
    call = getattr(manager_client, method_for(name))
    response = call(reverse(name, kwargs=kwargs_for(name, shop)))
    if redirects_to_bucket(response):
        # A stored file with STORAGE=s3: the view's 302 goes to the bucket, on another host
        # the test client cannot follow to; the presigned URL must open the file.
        assert served_bytes(response)
        return
    if response.status_code in (301, 302, 303):
        response = manager_client.get(response["Location"], follow=True)
    assert response.status_code == 200


@pytest.mark.parametrize("name", object_views())
def test_object_of_another_shop_is_404(manager_client, other_shop, name):
    kwargs = kwargs_for(name, other_shop)
    # A view answers another method with 405 before it looks anything up.
    for method in methods_for(name):
        response = getattr(manager_client, method)(reverse(name, kwargs=kwargs))
        assert response.status_code == 404, (name, method)


def test_inactive_shop_locks_its_staff_out(client, shop):
    member = MembershipFactory(shop=shop, role="manager")
    shop.is_active = False
    shop.save()
    client.force_login(member.user)
    assert client.get(reverse("autoservice:staff_home")).status_code == 403


def test_team_lists_only_own_shop(manager_client, manager, other_shop):
    stranger = MembershipFactory(shop=other_shop)
    colleague = MembershipFactory(shop=manager.shop)
    page = manager_client.get(reverse("autoservice:team")).content.decode()
    assert colleague.user.email in page
    assert stranger.user.email not in page


def test_advisor_cannot_open_manager_pages(advisor_client):
    for name in ("autoservice:shop_settings", "autoservice:team", "autoservice:member_create"):
        response = advisor_client.get(reverse(name))
        assert response.status_code == 403
        assert "руководител" in response.content.decode()


def test_advisor_sees_own_shop_on_home(advisor_client, advisor, other_shop):
    page = advisor_client.get(reverse("autoservice:staff_home"), follow=True).content.decode()
    assert advisor.shop.name in page
    assert other_shop.name not in page
