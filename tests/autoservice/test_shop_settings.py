from django.urls import reverse


def _form(shop, **overrides):
    data = {
        "profile-name": shop.name,
        "profile-region": shop.region,
        "profile-address": shop.address,
        "profile-phone": shop.phone,
        "profile-email": "",
        "profile-timezone": "Asia/Yekaterinburg",
        "profile-brand_color": "#aa0000",
    }
    for day in ("mon", "tue", "wed", "thu", "fri"):
        data[f"hours-{day}_open"] = "08:00"
        data[f"hours-{day}_close"] = "19:00"
    data.update(overrides)
    return data


def test_manager_saves_profile_and_hours(manager_client, shop):
    response = manager_client.post(reverse("shop_settings"), _form(shop))
    assert response.status_code == 302
    shop.refresh_from_db()
    assert shop.timezone == "Asia/Yekaterinburg"
    assert shop.working_hours["mon"] == ["08:00", "19:00"]
    assert shop.working_hours["sat"] is None


def test_closing_before_opening_is_refused_and_input_kept(manager_client, shop):
    data = _form(shop, **{"hours-mon_open": "18:00", "hours-mon_close": "09:00"})
    data["profile-name"] = "Новое имя"
    response = manager_client.post(reverse("shop_settings"), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Закрытие должно быть позже открытия" in html
    assert 'value="Новое имя"' in html
    shop.refresh_from_db()
    assert shop.name != "Новое имя"


def test_bad_brand_colour_is_explained(manager_client, shop):
    response = manager_client.post(
        reverse("shop_settings"), _form(shop, **{"profile-brand_color": "red"})
    )
    assert "#RRGGBB" in response.content.decode()
