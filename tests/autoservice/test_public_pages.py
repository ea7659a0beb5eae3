from django.urls import reverse


def test_landing_lists_shops_and_staff_login(client, shop):
    page = client.get("/")
    assert page.status_code == 200
    html = page.content.decode()
    assert shop.name in html
    assert reverse("login") in html
    assert 'lang="ru"' in html


def test_shop_page_is_branded(client, shop):
    shop.brand_color = "#123456"
    shop.save()
    html = client.get(reverse("photoportal:shop_page", args=[shop.slug])).content.decode()
    assert "--brand: #123456" in html
    assert shop.name in html
    assert "Пн–Пт" in html or "Пн–Сб" in html


def test_unknown_shop_slug_is_a_branded_russian_404(client, db, settings):
    settings.DEBUG = False
    response = client.get("/s/no-such-shop/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Страница не найдена" in html
    assert "bootstrap" in html  # the product's layout, not Django's bare page


def test_inactive_shop_page_is_404(client, shop):
    shop.is_active = False
    shop.save()
    assert client.get(reverse("photoportal:shop_page", args=[shop.slug])).status_code == 404


def test_static_assets_come_from_the_app_not_a_cdn(client, db):
    html = client.get("/").content.decode()
    assert "/static/bootstrap/css/bootstrap.min.css" in html
    assert "/static/django_htmx/htmx" in html
    assert "cdn" not in html.lower()


def test_english_is_available(client, db):
    client.cookies["django_language"] = "en"
    html = client.get("/", headers={"accept-language": "en"}).content.decode()
    assert "Staff sign in" in html
