"""The OpenAPI 3.1 document and its two viewers, served from installed packages."""

import re

import pytest
import yaml
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_schema_is_openapi_31_with_every_route(client):
    response = client.get(reverse("api:schema"), HTTP_ACCEPT="application/vnd.oai.openapi")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.1")
    assert set(schema["paths"]) >= {
        "/api/v1/leads/",
        "/api/v1/leads/{lead_id}/",
        "/api/v1/leads/{lead_id}/status/",
        "/api/v1/leads/{lead_id}/assignee/",
        "/api/v1/estimates/",
        "/api/v1/offers/",
        "/api/v1/intake/records/",
    }
    create = schema["paths"]["/api/v1/leads/"]["post"]
    assert {"200", "201", "400", "401", "403", "409", "429"} <= set(create["responses"])
    assert "application/problem+json" in create["responses"]["409"]["content"]
    assert schema["components"]["securitySchemes"]["shopToken"]["scheme"] == "bearer"


@pytest.mark.parametrize("name", ["api:docs", "api:redoc"])
def test_docs_pages_load_only_local_assets(client, name):
    html = client.get(reverse(name)).content.decode()
    urls = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']+)["\']', html)
    urls += re.findall(r'https?://[^\s"\'<>]+', html)
    assert any("drf_spectacular_sidecar" in url for url in urls), urls
    external = [u for u in urls if u.startswith(("http://", "https://", "//"))]
    assert external == [], external


@pytest.mark.parametrize(
    ("name", "asset"), [("api:docs", r"swagger-ui-bundle\.js"), ("api:redoc", r"redoc[^\"]*\.js")]
)
def test_viewer_scripts_are_static_files_of_the_installed_package(client, name, asset):
    from django.conf import settings
    from django.contrib.staticfiles import finders

    html = client.get(reverse(name)).content.decode()
    url = re.search(rf'src="({re.escape(settings.STATIC_URL)}[^"]*{asset})"', html).group(1)
    assert finders.find(url.removeprefix(settings.STATIC_URL)) is not None


def test_redoc_may_load_images_only_from_this_site(client):
    # Redoc's bundle would fetch its vendor's logo from a CDN.
    assert client.get(reverse("api:redoc"))["Content-Security-Policy"] == "img-src 'self' data:"


def test_problem_type_opens_an_explanation(client):
    response = client.get(reverse("api:problem", args=["rate-limited"]))
    assert response.status_code == 200
    assert "Retry-After" in response.content.decode()
    assert client.get("/api/problems/no-such-problem").status_code == 404
