from django.urls import reverse


def _form(shop, **overrides):
    data = {
        "profile-name": shop.name,
        "profile-kind": shop.kind,
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
    data["leads-sla_minutes"] = "15"
    data["leads-notification_emails"] = ""
    data["leads-embed_origins"] = ""
    data["leads-consent_title"] = "Согласие на обработку персональных данных"
    from autoservice.consent import consent_text_current

    data["leads-consent_body"] = consent_text_current(shop).body
    data.update(overrides)
    return data


def test_manager_saves_profile_and_hours(manager_client, shop):
    response = manager_client.post(reverse("autoservice:shop_settings"), _form(shop))
    assert response.status_code == 302
    shop.refresh_from_db()
    assert shop.timezone == "Asia/Yekaterinburg"
    assert shop.working_hours["mon"] == ["08:00", "19:00"]
    assert shop.working_hours["sat"] is None


def test_closing_before_opening_is_refused_and_input_kept(manager_client, shop):
    data = _form(shop, **{"hours-mon_open": "18:00", "hours-mon_close": "09:00"})
    data["profile-name"] = "Новое имя"
    response = manager_client.post(reverse("autoservice:shop_settings"), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Закрытие должно быть позже открытия" in html
    assert 'value="Новое имя"' in html
    shop.refresh_from_db()
    assert shop.name != "Новое имя"


def test_bad_brand_colour_is_explained(manager_client, shop):
    response = manager_client.post(
        reverse("autoservice:shop_settings"), _form(shop, **{"profile-brand_color": "red"})
    )
    assert "#RRGGBB" in response.content.decode()


def test_manager_sets_request_settings_and_sees_the_embed_snippet(manager_client, shop):
    data = _form(
        shop,
        **{
            "leads-sla_minutes": "30",
            "leads-notification_emails": "boss@sto.ru, desk@sto.ru",
            "leads-embed_origins": "https://mysto.ru/",
        },
    )
    assert manager_client.post(reverse("autoservice:shop_settings"), data).status_code == 302
    shop.refresh_from_db()
    assert shop.sla_minutes == 30
    assert shop.notification_email_list == ["boss@sto.ru", "desk@sto.ru"]
    assert shop.embed_origin_list == ["https://mysto.ru"]
    html = manager_client.get(reverse("autoservice:shop_settings")).content.decode()
    assert f"/s/{shop.slug}/photo/" in html
    assert "&lt;iframe" in html


def test_bad_email_and_origin_are_named(manager_client, shop):
    data = _form(
        shop,
        **{
            "leads-notification_emails": "boss@sto.ru, not-an-email",
            "leads-embed_origins": "https://mysto.ru/page",
        },
    )
    html = manager_client.post(reverse("autoservice:shop_settings"), data).content.decode()
    assert "not-an-email" in html
    assert "https://mysto.ru/page" in html


def test_changed_consent_text_becomes_a_new_version(manager_client, shop):
    from autoservice.consent import consent_text_current

    platform = consent_text_current(shop)
    manager_client.post(reverse("autoservice:shop_settings"), _form(shop))
    assert consent_text_current(shop) == platform  # unchanged text: no new version
    manager_client.post(
        reverse("autoservice:shop_settings"), _form(shop, **{"leads-consent_body": "Новый текст"})
    )
    current = consent_text_current(shop)
    assert current.shop == shop and current.version == 1 and current.body == "Новый текст"
    platform.refresh_from_db()
    assert platform.body != "Новый текст"


def test_manager_sets_the_shop_kind_that_picks_the_intake_shot_list(manager_client, shop):
    page = manager_client.get(reverse("autoservice:shop_settings")).content.decode()
    assert 'name="profile-kind"' in page and "сервис и ТО" in page
    response = manager_client.post(
        reverse("autoservice:shop_settings"), _form(shop, **{"profile-kind": "service"})
    )
    assert response.status_code == 302
    shop.refresh_from_db()
    assert shop.kind == "service"
