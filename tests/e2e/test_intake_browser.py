"""An advisor takes a car in on a tablet: shoots the list (shots upload in the background,
wait out a dropped connection and a reload, a bad shot is retaken), fills in the details,
the customer and the advisor sign on the screen, and the act is sealed."""

from __future__ import annotations

import io
import random
import re
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageEnhance
from pypdf import PdfReader

from intake.models import IntakeRecord, IntakeShot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

TABLET = {
    "viewport": {"width": 820, "height": 1180},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "ru-RU",
    "timezone_id": "Europe/Moscow",
}
PLATE = "А123ВС77"
VIN = "XTAGFK330LY123456"
SKIPPED = "Салон сзади"
RETAKEN = "Табличка VIN"
UPLOADS = "**/staff/intake/*/shots/"


@pytest.fixture
def tablet_page(browser):
    """An advisor's tablet in portrait: 820×1180, touch, Russian."""
    context = browser.new_context(**TABLET)
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()


def make_scene(path: Path, seed: int, size=(1600, 1200), light: float = 1.0) -> Path:
    """A sharp, well-lit camera-sized JPEG; every seed is a different scene, so the
    server's near-duplicate check (a 64-bit difference hash) tells them apart."""
    rnd = random.Random(seed)
    width, height = size
    image = Image.new("RGB", size, tuple(rnd.randrange(60, 200) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(36):
        x, y = rnd.randrange(width), rnd.randrange(height)
        r = rnd.randrange(40, 380)
        colour = tuple(rnd.randrange(30, 230) for _ in range(3))
        shape = draw.ellipse if rnd.random() < 0.5 else draw.rectangle
        shape((x - r, y - r, x + r, y + r), fill=colour, outline=(0, 0, 0), width=6)
    image = Image.blend(image, Image.effect_noise(size, 20).convert("RGB"), 0.12)
    if light != 1.0:
        image = ImageEnhance.Brightness(image).enhance(light)
    image.save(path, "JPEG", quality=90)
    return path


# Remembers every warning of the browser's own check, however briefly shown, and the most
# uploads the page ever had running at once.
RECORD_PROGRESS = """() => {
  window.seenWarnings = [];
  window.maxInFlight = 0;
  new MutationObserver(() => {
    for (const el of document.querySelectorAll("#shot-list .shot-warn")) {
      if (el.textContent) window.seenWarnings.push(el.textContent);
    }
    const running = document.querySelectorAll(
      "#shot-list figure[data-state='uploading'], #shot-list figure[data-state='checking']");
    window.maxInFlight = Math.max(window.maxInFlight, running.length);
  }).observe(document.getElementById("shot-list"),
             {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def login(page, live_server, membership) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", membership.user.username)
    page.fill("#id_password", "correct-horse-42")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/"))


def start_intake(page, live_server) -> IntakeRecord:
    page.goto(f"{live_server.url}/staff/intake/new/")
    option = page.locator("#id_template option", has_text="Приёмка на кузовной ремонт")
    page.select_option("#id_template", option.get_attribute("value"))
    # The make before the VIN: start.js fills an empty make from the VIN's maker code
    # when the VIN changes, and its answer must not land in the middle of typing.
    page.fill("#id_make", "LADA")
    page.fill("#id_model", "Vesta")
    page.fill("#id_year", "2020")
    page.fill("#id_plate", PLATE)
    page.fill("#id_vin", VIN)
    page.fill("#id_customer_name", "Сергей Петров")
    page.fill("#id_customer_phone", "+7 916 555-44-33")
    page.check("#id_consent")
    page.get_by_role("button", name="Начать съёмку").click()
    page.wait_for_url(re.compile(r"/staff/intake/\d+/$"))
    page.wait_for_function("window.intakeCapture !== undefined")
    return IntakeRecord.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))


def _title(page, name: str):
    # "3. Перед" must not match "1. Перед слева под 45°".
    return page.locator("strong", has_text=re.compile(rf"^\d+\. {re.escape(name)}$"))


def row(page, name: str):
    return page.locator("li.shot-row", has=_title(page, name))


def wait_done(page, name: str) -> None:
    page.locator("li.shot-row.shot-done", has=_title(page, name)).wait_for()


def wait_nothing_pending(page, timeout: float = 60_000) -> None:
    page.wait_for_selector('#shot-list[data-pending="0"]', state="attached", timeout=timeout)


def client_id_of(body: bytes | None) -> str:
    found = re.search(rb'name="client_id"\r\n\r\n([0-9a-f-]{36})', body or b"")
    return found[1].decode() if found else ""


def draw_signature(page, selector: str, strokes: list[list[tuple[float, float]]]) -> None:
    """Strokes in fractions of the pad, drawn with the pointer in several segments."""
    box = page.locator(selector).bounding_box()
    for stroke in strokes:
        points = [
            (box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in stroke
        ]
        page.mouse.move(*points[0])
        page.mouse.down()
        for x, y in points[1:]:
            page.mouse.move(x, y, steps=6)
        page.mouse.up()


def scroll_through(page) -> None:
    """Lets the lazy thumbnails load before a full-page screenshot."""
    height = page.evaluate("document.documentElement.scrollHeight")
    for y in range(0, height, 800):
        page.evaluate("y => window.scrollTo(0, y)", y)
        page.wait_for_timeout(50)
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_function(
        "() => [...document.images].every(img => img.complete && img.naturalWidth > 0)"
    )


def ink_pixels(page, selector: str) -> int:
    return page.eval_on_selector(
        selector,
        """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                  let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 128) n++;
                  return n; }""",
    )


@pytest.mark.timeout(180)
def test_advisor_shoots_the_list_on_a_tablet_and_both_sign_the_sealed_act(
    tablet_page, live_server, advisor, tmp_path
):
    started = time.monotonic()
    page = tablet_page
    login(page, live_server, advisor)
    record = start_intake(page, live_server)
    assert (record.plate, record.vin, record.make, record.model) == (PLATE, VIN, "LADA", "Vesta")

    rows = page.locator("li.shot-row")
    names = [
        rows.nth(i).locator("strong").inner_text().split(". ", 1)[1] for i in range(rows.count())
    ]
    required = [
        name
        for i, name in enumerate(names)
        if rows.nth(i).get_attribute("data-required") == "1" and name != SKIPPED
    ]
    assert SKIPPED in names and RETAKEN in required and len(required) >= 15
    assert row(page, "Крыша").get_attribute("data-required") == "0"
    photos = {
        name: make_scene(tmp_path / f"shot_{n:02d}.jpg", seed=n) for n, name in enumerate(required)
    }
    first, second, third = required[:3]

    # The workshop's Wi-Fi drops: the server is unreachable and the first two shots queue.
    posted: list[str] = []
    lost: list[int] = []  # which post had its answer lost
    mode = {"now": "unreachable"}

    def uploads(route):
        posted.append(client_id_of(route.request.post_data_buffer))
        if mode["now"] == "unreachable":
            route.abort("internetdisconnected")
        elif mode["now"] == "answer_lost":
            # The server stores the shot but its answer never reaches the tablet.
            mode["now"] = "through"
            lost.append(len(posted) - 1)
            route.fetch()
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(UPLOADS, uploads)
    for name in (first, second):
        row(page, name).locator("input.shot-input").set_input_files(photos[name])
        # The thumbnail is there at once, from the file itself.
        assert (
            row(page, name)
            .locator("figure.shot-local img")
            .get_attribute("src")
            .startswith("blob:")
        )
    queue = page.locator("#shot-queue")
    page.wait_for_selector('#shot-queue[data-count="2"]')
    page.wait_for_selector("figure.shot-local[data-state='retry']")
    assert "Не отправлено: 2 кадра" in queue.inner_text()
    assert page.get_attribute("#to-sign", "aria-disabled") == "true"
    assert "все кадры дойдут до сервера" in page.locator("#to-sign-hint").inner_text()

    # The advisor reloads the tablet: the taken shots are still there, from IndexedDB.
    page.reload()
    page.wait_for_selector('#shot-queue[data-count="2"]')
    for name in (first, second):
        assert row(page, name).locator("figure.shot-local").count() == 1
    assert page.get_attribute("#to-sign", "aria-disabled") == "true"
    page.screenshot(path="/tmp/e2e-intake-queued.png")

    # The connection comes back, but the first answer is lost on the way: the retry sends
    # the same client id and the server keeps one shot.
    mode["now"] = "answer_lost"
    wait_done(page, first)
    wait_done(page, second)
    wait_nothing_pending(page)
    assert all(posted) and len(set(posted)) == 2, posted
    # Sent again after its answer was lost, with the same client id: still one shot.
    assert len(lost) == 1 and posted[lost[0]] in posted[lost[0] + 1 :], posted
    assert IntakeShot.objects.filter(record=record).count() == 2
    assert {str(s.client_id) for s in IntakeShot.objects.filter(record=record)} == set(posted)
    page.unroute(UPLOADS)
    assert page.get_attribute("#to-sign", "aria-disabled") is None

    # No network at all: the shot waits and says so, then goes when the network is back.
    page.context.set_offline(True)
    row(page, third).locator("input.shot-input").set_input_files(photos[third])
    page.wait_for_selector("figure.shot-local[data-state='offline']")
    assert "Нет связи" in queue.inner_text()
    page.context.set_offline(False)
    wait_done(page, third)

    # The rest of the list, shot after shot without waiting; at most two uploads at a time.
    page.evaluate(RECORD_PROGRESS)
    dark = make_scene(tmp_path / "vin_dark.jpg", seed=99, size=(1200, 800), light=0.15)
    for name in required[3:]:
        shot = dark if name == RETAKEN else photos[name]
        row(page, name).locator("input.shot-input").set_input_files(shot)
    wait_nothing_pending(page)
    for name in required[3:]:
        if name != RETAKEN:
            wait_done(page, name)
    assert 1 <= page.evaluate("maxInFlight") <= 2

    # The dark, small VIN shot: warned in the browser, refused by the server, retaken.
    vin_row = row(page, RETAKEN)
    rejected = vin_row.locator("figure.shot-rejected")
    assert "Слишком темно" in rejected.locator("figcaption").inner_text()
    assert "Слишком маленькое фото" in rejected.locator("figcaption").inner_text()
    assert any("Темно" in w and "Маленькое фото" in w for w in page.evaluate("seenWarnings"))
    assert "shot-done" not in vin_row.get_attribute("class")
    with page.expect_file_chooser() as chooser:
        rejected.get_by_role("button", name="Переснять").click()
    chooser.value.set_files(photos[RETAKEN])
    wait_done(page, RETAKEN)
    wait_nothing_pending(page)
    # The server's thumbnails replaced the local ones.
    page.wait_for_function(
        """() => [...document.querySelectorAll('#shot-list figure.shot-thumb img')]
                 .every(img => img.getAttribute('src').includes('/thumb/'))"""
    )

    # «Салон сзади» cannot be shot today: skipped with a reason that goes into the act.
    skipped = row(page, SKIPPED)
    skipped.locator("summary", has_text="Не получается снять").click()
    skipped.locator("input[name=reason]").fill("Задний диван завален вещами клиента")
    with page.expect_navigation():
        skipped.get_by_role("button", name="Пропустить").click()
    wait_done(page, SKIPPED)
    assert "пропущен" in row(page, SKIPPED).locator(".shot-state").inner_text()

    # A damage close-up, with the part it shows.
    damage = page.locator("li.shot-row[data-damage='1']")
    part = damage.locator("select[name=damage_part] option").nth(1).get_attribute("value")
    damage.locator("select[name=damage_part]").select_option(part)
    damage.locator("input.shot-input").set_input_files(
        make_scene(tmp_path / "scratch.jpg", seed=500, size=(2000, 1500))
    )
    page.locator("li.shot-row.shot-done[data-damage='1']").wait_for()
    wait_nothing_pending(page)
    close_up = IntakeShot.objects.get(record=record, spec__is_damage=True)
    assert close_up.damage_part == part and close_up.accepted

    page.fill("#id_odometer_km", "84210")
    page.select_option("#id_fuel_level", "4")
    with page.expect_navigation():
        page.locator("#calc-form button[type=submit]").click()
    page.get_by_text("Данные акта сохранены.").wait_for()
    record.refresh_from_db()
    assert (record.odometer_km, record.fuel_level) == (84210, 4)
    page.wait_for_function("window.intakeCapture !== undefined")
    assert page.locator("li.shot-row[data-required='1']:not(.shot-done)").count() == 0
    stored = IntakeShot.objects.filter(record=record)
    assert stored.filter(accepted=True).count() == len(required) + 1
    assert stored.filter(accepted=False).count() == 1
    scroll_through(page)
    page.screenshot(path="/tmp/e2e-intake-shot-list.png", full_page=True)

    page.locator("#to-sign").click()
    page.wait_for_url(re.compile(rf"/staff/intake/{record.pk}/sign/$"))
    draw_signature(
        page,
        "#pad-customer",
        [
            [(0.1, 0.7), (0.2, 0.3), (0.3, 0.75), (0.42, 0.35), (0.55, 0.7)],
            [(0.6, 0.4), (0.9, 0.5)],
        ],
    )
    draw_signature(
        page,
        "#pad-advisor",
        [[(0.15, 0.5), (0.3, 0.2), (0.35, 0.8), (0.5, 0.3), (0.7, 0.75), (0.85, 0.4)]],
    )
    assert page.evaluate("intakeSignature.drawn()") == [True, True]
    before = ink_pixels(page, "#pad-customer")
    assert before > 500
    # Turning the tablet keeps the signatures.
    page.set_viewport_size({"width": 1180, "height": 820})
    page.wait_for_timeout(300)
    assert ink_pixels(page, "#pad-customer") > 500
    page.set_viewport_size(TABLET["viewport"])
    page.wait_for_timeout(300)
    assert ink_pixels(page, "#pad-customer") > 500
    page.screenshot(path="/tmp/e2e-intake-sign.png", full_page=True)

    page.locator("#seal-button").click()
    page.wait_for_url(re.compile(rf"/staff/intake/{record.pk}/$"))
    assert "подписан и опечатан" in page.locator(".record-sealed").inner_text()
    record.refresh_from_db()
    assert record.is_sealed and record.customer_signature and record.advisor_signature
    page.screenshot(path="/tmp/e2e-intake-sealed.png", full_page=True)

    act = page.request.get(f"{live_server.url}/staff/intake/{record.pk}/act.pdf")
    assert act.ok and act.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(act.body())).pages)
    assert PLATE in text
    assert VIN in text

    page.goto(f"{live_server.url}/staff/intake/{record.pk}/verify/")
    assert "Не изменялась" in page.locator(".verify-result").inner_text()
    print(f"intake on a tablet: {time.monotonic() - started:.1f} s")


@pytest.fixture
def camera_page(browser):
    """A tablet whose browser has a (fake) camera and has been allowed to use it."""
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

    with_camera = browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
        ],
    )
    context = with_camera.new_context(**TABLET)
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()
    with_camera.close()


@pytest.mark.timeout(180)
def test_guided_camera_shows_the_outline_and_uploads_the_full_frame(
    camera_page, live_server, advisor
):
    page = camera_page
    login(page, live_server, advisor)
    record = start_intake(page, live_server)
    first = page.locator("li.shot-row").first
    first.get_by_role("button", name="Камера с подсказкой").click()

    view = page.get_by_role("dialog", name="Камера с подсказкой")
    view.wait_for()
    page.wait_for_function("document.querySelector('.cam-view video').videoWidth > 0")
    assert view.locator("svg.cam-guide path").count() >= 2
    assert "Перед слева под 45°" in view.inner_text()
    width, height = page.evaluate(
        "(() => { const v = document.querySelector('.cam-view video');"
        " return [v.videoWidth, v.videoHeight]; })()"
    )
    page.screenshot(path="/tmp/e2e-intake-camera.png")

    view.get_by_role("button", name="Сделать снимок").click()
    # The view moves on to the next shot of the list by itself.
    view.get_by_text("Перед справа под 45°").wait_for()
    page.keyboard.press("Escape")
    assert page.locator(".cam-view").count() == 0
    wait_nothing_pending(page)
    shot = IntakeShot.objects.get(record=record)
    # The whole frame of the video track went to the server, whatever it thought of it.
    assert (shot.width, shot.height) == (width, height)
    assert shot.spec.code == "front_left_45"
    figure = first.locator("figure.shot-thumb")
    assert figure.get_attribute("data-shot-id") == str(shot.pk)
    if not shot.accepted:
        assert figure.locator("figcaption").inner_text() == " ".join(shot.quality["problems"])
        assert figure.get_by_role("button", name="Переснять").is_visible()
    assert page.evaluate("intakeCapture.pending()") == 0
    print(f"guided camera: {width}×{height}, accepted={shot.accepted}, {shot.quality['problems']}")
