"""Every page passes axe-core (WCAG 2.0–2.2 A and AA, and 7:1 text contrast) on a phone and on
a desktop, scrolls no sideways on the phone, and the homes can be worked with the keyboard alone.

One live server and one Chromium serve the whole module. The server starts empty, so the
first-run /setup page is checked first; then a demo-like world is written (an open SOS, a
medicine, calls, a paired box, an invitation and a password-reset link) and every other page is
visited as the role that may see it. A page route that is neither listed in PAGES nor in
NOT_PAGES fails `test_every_page_route_is_visited`, so new pages are checked once listed.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.routing import APIRoute
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from sqlalchemy import select
from sqlalchemy.orm import Session

from protocol import CallKind, Lang
from server.appointments.schedule import materialise
from server.core.db import Database
from server.links import LinkPurpose, issue_link
from server.meals.ordering import Orderer
from server.models import (
    Call,
    CallStatus,
    Clinic,
    Department,
    Dish,
    Elder,
    ElderDiet,
    Meal,
    MealMode,
    MealOrder,
    MealOrderStatus,
    OpeningHours,
    OrderedBy,
    ServicePoint,
    ServicePointKind,
    Slot,
    SubsidyCategory,
    utcnow,
)
from server.models.calls import CallEndReason
from server.runtime import Runtime
from tests.server.meals_world import make_meal_point, make_menu
from tests.server.routes import api_operations
from tests.server.test_pages import log_in
from tests.support.axe import assert_accessible
from tests.support.browser import chromium
from tests.support.databases import migrated_database
from tests.support.error_logs import SERVER_LOGS
from tests.support.live_server import LiveServer
from tests.support.waiting import wait_until
from tests.support.world import PASSWORD, World, make_device, make_world

pytestmark = pytest.mark.e2e

SHOTS = Path("/tmp/shots/wt-a11y")
SHANGHAI = ZoneInfo("Asia/Shanghai")
SECRET = "accessibility-test-secret-key-0123456789"
VIEWPORTS = {"phone": (390, 844), "desktop": (1280, 900)}
SIZES = {**VIEWPORTS, "small": (320, 640)}

# Route paths that answer GET but are not pages, and why.
NOT_PAGES = {
    "/": "redirects to the viewer's home",
    "/favicon.ico": "an icon",
    "/elders/export.csv": "a CSV download",
    "/elders/import/template.csv": "a CSV download",
    "/elders/import/refused/{token}.csv": "a CSV download",
    "/meals/area/elder": "redirects to the chosen elder's subsidy page",
}


@dataclass(frozen=True)
class Page:
    """A page route, who looks at it, and the address filled in from the world."""

    route: str
    role: str  # "anonymous", or a World user attribute
    address: str = ""  # a format string over Site.ids; the route itself when empty

    def url(self, site: Site) -> str:
        """The address to open, with ?lang=en."""
        path = (self.address or self.route).format(**site.ids)
        return f"{site.server.url}{path}{'&' if '?' in path else '?'}lang=en"


PAGES = (
    Page("/login", "anonymous"),
    Page("/forgot-password", "anonymous"),
    Page("/reset-password/{token}", "anonymous", "/reset-password/{reset_token}"),
    Page("/invite/{token}", "anonymous", "/invite/{invite_token}"),
    Page("/family", "family_a"),
    Page("/family/call/{elder_id}", "family_a", "/family/call/{elder_a}"),
    Page("/elders/{elder_id}/family", "family_a", "/elders/{elder_a}/family"),
    Page("/account", "family_a"),
    Page("/doctor", "doctor_a"),
    Page("/doctor/consults", "doctor_a"),
    Page("/doctor/elders/{elder_id}", "doctor_a", "/doctor/elders/{elder_a}"),
    Page("/operator", "operator_a"),
    Page("/elders", "operator_a"),
    Page("/elders/new", "operator_a"),
    Page("/elders/{elder_id}/edit", "operator_a", "/elders/{elder_a}/edit"),
    Page("/elders/import", "operator_a"),
    Page("/admin", "admin"),
    Page("/admin/areas", "admin"),
    Page("/admin/areas/new", "admin"),
    Page("/admin/areas/{area_id}", "admin", "/admin/areas/{area_a}"),
    Page("/admin/clinics", "admin"),
    Page("/admin/clinics/new", "admin"),
    Page("/admin/clinics/{clinic_id}", "admin", "/admin/clinics/{clinic_a}"),
    Page("/admin/service-points", "admin"),
    Page("/admin/service-points/new", "admin"),
    Page("/admin/service-points/{point_id}", "admin", "/admin/service-points/{point}"),
    Page("/admin/staff", "admin"),
    Page("/admin/staff/new", "admin"),
    Page("/admin/staff/{user_id}", "admin", "/admin/staff/{doctor_a}"),
    Page("/admin/audit", "admin"),
    Page(
        "/appointments/book",
        "family_a",
        "/appointments/book?elder={elder_a}&department=gp&clinic={clinic_a}&day={free_day}",
    ),
    Page("/appointments/book/confirm/{hold_id}", "family_a", "/appointments/book/confirm/{hold}"),
    Page("/appointments/booked/{visit_id}", "family_a", "/appointments/booked/{visit}"),
    Page("/clinic", "doctor_a", "/clinic?day={visit_day}"),
    Page("/clinic/hours", "doctor_a"),
    # ?rung=1: the page as after its ring (no TV here), with "Ring again".
    Page("/clinic/video/{appointment_id}", "doctor_a", "/clinic/video/{visit}?rung=1"),
    Page("/meals/kitchen", "meal_staff"),
    Page("/meals/area", "operator_a"),
    Page("/meals/area/elders/{elder_id}", "operator_a", "/meals/area/elders/{elder_a}"),
    Page("/meals/elders/{elder_id}/statement", "family_a", "/meals/elders/{elder_a}/statement"),
    # Not a route of its own: the page every refusal shows.
    Page("(error page)", "family_a", "/family/call/{elder_b}"),
)


@dataclass
class Site:
    """The module's live server, its world once written, and one browser."""

    server: LiveServer
    driver: Any
    db_url: str
    world: World | None = None
    ids: dict[str, object] = field(default_factory=dict)
    cookies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    role: str = "anonymous"

    def as_role(self, role: str) -> None:
        """Be logged in as ``role`` (a World attribute) or nobody, logging in once per role."""
        if role == self.role:
            return
        self.driver.delete_all_cookies()
        if role != "anonymous":
            if role not in self.cookies:
                assert self.world is not None
                log_in(self.driver, self.server, self.world.user(role).email, PASSWORD)
                wait_until(lambda: "/login" not in self.driver.current_url, what=f"{role} in")
                self.cookies[role] = self.driver.get_cookies()
            else:
                self.driver.get(f"{self.server.url}/healthz")
                for cookie in self.cookies[role]:
                    self.driver.add_cookie(cookie)
        self.role = role

    def resize(self, viewport: str) -> None:
        """Make the page's viewport (not the window) the size of ``viewport``."""
        width, height = SIZES[viewport]
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
        )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """An empty server and a browser, shared by the module."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path_factory.mktemp("a11y")
    with migrated_database(tmp) as url:
        server = LiveServer(
            db_url=url,
            data_dir=tmp / "server",
            extra_env={"ANXIN_SECRET_KEY": SECRET, "ANXIN_SCHEDULER_ENABLED": "false"},
        )
        server.start()
        try:
            with chromium() as driver:
                yield Site(server=server, driver=driver, db_url=url)
        finally:
            server.stop()


@pytest.fixture(autouse=True)
def server_errors_fail_each_test(site: Site) -> None:
    """The module's server log is checked by every test (the shared fixture clears the list)."""
    assert site.server.log_path is not None
    SERVER_LOGS.started(site.server.log_path)


def seed(site: Site) -> Site:
    """Write the demo-like world once: every page then has something to show."""
    if site.world is not None:
        return site
    database = Database(site.db_url)
    with database.session() as db:
        world = make_world(db)
        box_token, device_id = make_device(db, world.elder_a)
        ended = utcnow() - timedelta(hours=2)
        db.add_all(
            [
                Call(
                    kind=CallKind.FAMILY,
                    status=CallStatus.ENDED,
                    elder_id=world.elder_a.id,
                    device_id=device_id,
                    user_id=world.family_a.id,
                    requested_at=ended,
                    answered_at=ended,
                    ended_at=ended + timedelta(minutes=6),
                    end_reason=CallEndReason.HUNG_UP,
                ),
                Call(
                    kind=CallKind.CONSULT,
                    status=CallStatus.ENDED,
                    elder_id=world.elder_a.id,
                    device_id=device_id,
                    clinic_id=world.clinic_a.id,
                    user_id=world.doctor_a.id,
                    requested_at=ended,
                    answered_at=ended,
                    ended_at=ended + timedelta(minutes=9),
                    end_reason=CallEndReason.HUNG_UP,
                    outcome="Blood pressure fine",
                    notes="Keep the morning dose.",
                ),
            ]
        )
        reset_token, _ = issue_link(
            db, SECRET, LinkPurpose.RESET, world.family_a.email, user_id=world.family_a.id
        )
        invite_token, _ = issue_link(
            db,
            SECRET,
            LinkPurpose.INVITE,
            "cousin@test.anxin",
            elder_id=world.elder_a.id,
            relation="grandson",
            created_by=world.family_a,
        )
        point = ServicePoint(
            kind=ServicePointKind.MEAL_POINT,
            name="Happiness Meal Point",
            address="5 Test Road",
            latitude=39.93,
            longitude=116.46,
            service_area_id=world.area_a.id,
        )
        db.add(point)
        db.flush()
        point_id = point.id
        slot_ids = add_clinic_week(db, world)
        add_meals(db, world)
        db.expunge_all()
    database.dispose()
    server = site.server
    with server.login(world.family_a.email, PASSWORD) as api:
        plan = {
            "medicine": "Amlodipine 5 mg",
            "colour": "#d03030",
            "schedule": {"times": ["08:00", "20:00"], "start_date": date.today().isoformat()},
        }
        resp = api.post(f"/api/elders/{world.elder_a.id}/medication-plans", json=plan)
        assert resp.status_code == 201, resp.text
        visit = api.post(
            "/api/appointments",
            json={
                "slot_id": slot_ids[0],
                "elder_id": world.elder_a.id,
                "kind": "video",
                "idempotency_key": "a11y-1",
            },
        )
        assert visit.status_code == 201, visit.text
        hold = api.post(
            "/api/appointments/holds", json={"slot_id": slot_ids[1], "elder_id": world.elder_a.id}
        )
        assert hold.status_code == 201, hold.text
    visit_day = datetime.fromisoformat(visit.json()["starts_at"]).astimezone(SHANGHAI).date()
    resp = httpx.post(
        f"{server.url}/api/box/sensor-events",
        json={"key": "fall-a11y-0001", "kind": "fall"},
        headers={"Authorization": f"Bearer {box_token}"},
    )
    assert resp.status_code == 201, resp.text
    site.world = world
    site.ids = {
        "elder_a": world.elder_a.id,
        "elder_b": world.elder_b.id,
        "area_a": world.area_a.id,
        "clinic_a": world.clinic_a.id,
        "doctor_a": world.doctor_a.id,
        "point": point_id,
        "reset_token": reset_token,
        "invite_token": invite_token,
        "hold": hold.json()["id"],
        "visit": visit.json()["id"],
        "visit_day": visit_day.isoformat(),
        "free_day": visit_day.isoformat(),
    }
    return site


def add_meals(db: Session, world: World) -> None:
    """Area A's meal point with today's and tomorrow's lunch, elder A's diet, an order each day
    (tomorrow's delivered home) and a subsidy category; its staff become ``world.meal_staff``."""
    elder = db.get(Elder, world.elder_a.id)
    assert elder is not None
    elder.latitude, elder.longitude = 39.905, 116.4
    db.add(ElderDiet(elder_id=elder.id, low_salt=True, allergens="peanut"))
    db.add(
        SubsidyCategory(
            service_area_id=world.area_a.id,
            code="over_80",
            name_zh="八十岁以上",
            name_en="Over 80",
            percent=20,
            is_active=True,
        )
    )
    mp = make_meal_point(db, world.area_a.id)
    today = utcnow().astimezone(SHANGHAI).date()
    family = Orderer(OrderedBy.FAMILY, "user:a11y", Lang.EN, user_id=world.family_a.id)
    for day, dish, mode in (
        (today, "Tomato and egg", MealMode.DINE_IN),
        (today + timedelta(days=1), "Mixed vegetables", MealMode.DELIVERY),
    ):
        _, dishes = make_menu(db, mp, day)
        order = MealOrder(
            elder_id=elder.id,
            service_point_id=mp.point_id,
            menu_id=db.get(Dish, dishes[dish]).menu_id,  # type: ignore[union-attr]
            dish_id=dishes[dish],
            day=day,
            meal=Meal.LUNCH,
            mode=mode,
            status=MealOrderStatus.ORDERED,
            price_cents=1000,
            subsidy_cents=200,
            payable_cents=800,
            ordered_by=family.kind,
            idempotency_key=f"a11y-{day}",
            sender=family.sender,
        )
        db.add(order)
    db.flush()
    setattr(world, "meal_staff", mp.staff)  # noqa: B010 - a role the shared World lacks


def add_clinic_week(db: Session, world: World) -> list[int]:
    """Clinic A's general practice every day, 09:00–11:00 and 14:00–15:00 (clinic or video);
    the ids of two free slots two days on."""
    clinic = db.get(Clinic, world.clinic_a.id)
    assert clinic is not None
    dept = Department(clinic_id=clinic.id, code="gp", name_zh="全科", name_en="General practice")
    db.add(dept)
    db.flush()
    for weekday in range(7):
        for start, end in ((9 * 60, 11 * 60), (14 * 60, 15 * 60)):
            hours = OpeningHours(
                clinic_id=clinic.id,
                doctor_id=world.doctor_a.id,
                department_id=dept.id,
                weekday=weekday,
                start_minute=start,
                end_minute=end,
                slot_minutes=30,
                capacity=1,
                kinds="clinic,video",
            )
            db.add(hours)
            db.flush()
            materialise(db, hours, clinic, utcnow())
    return list(
        db.scalars(
            select(Slot.id)
            .where(Slot.starts_at > utcnow() + timedelta(days=2))
            .order_by(Slot.starts_at)
            .limit(2)
        )
    )


def page_routes(rt: Runtime) -> set[str]:
    """Paths of the GET routes that the API document does not list: the pages and downloads."""
    from server.app import create_app

    app = create_app(runtime=rt)
    documented = {path for _, path in api_operations(app)}
    found = set()
    for router in rt.wiring.routers:
        for route in router.routes:
            if isinstance(route, APIRoute) and "GET" in route.methods:
                if route.path not in documented and route.path != "/healthz":
                    found.add(route.path)
    return found


def test_every_page_route_is_visited(rt: Runtime) -> None:
    routes = page_routes(rt)
    visited = {page.route for page in PAGES} | {"/setup"}  # test_setup_page_on_an_empty_server
    missing = routes - visited - set(NOT_PAGES)
    assert not missing, f"page routes no accessibility test visits (add them to PAGES): {missing}"
    gone = (visited | set(NOT_PAGES)) - routes - {"(error page)"}
    assert not gone, f"listed routes that no longer exist: {gone}"


def full_page_screenshot(driver: Any, path: Path) -> None:
    """The whole page, as tall as it is, at the viewport's width."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    width = driver.execute_script("return window.innerWidth;")
    clip = {"x": 0, "y": 0, "width": width, "height": min(size["height"], 6000), "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"captureBeyondViewport": True, "clip": clip}
    )
    path.write_bytes(base64.b64decode(shot["data"]))


def check(site: Site, viewport: str, name: str) -> None:
    """axe on the open page, no sideways scroll on a phone, and a screenshot."""
    driver = site.driver
    wait_until(
        lambda: driver.execute_script("return document.readyState") == "complete",
        what=f"{name} loaded",
    )
    full_page_screenshot(driver, SHOTS / f"{name}-{viewport}.png")
    widths = page_widths(driver)
    sideways = viewport == "phone" and widths[0] > widths[1] + 1
    try:
        assert_accessible(driver, f"{name} at {viewport}")
    except AssertionError as err:
        if sideways:
            raise AssertionError(f"{err}\n  and it scrolls sideways: {widths}") from err
        raise
    assert not sideways, f"{name} scrolls sideways on a phone: {widths}"
    if viewport == "phone":  # the smallest phones still in use, too
        site.resize("small")
        narrow = page_widths(driver)
        site.resize(viewport)
        assert narrow[0] <= narrow[1] + 1, f"{name} scrolls sideways at 320 px: {narrow}"


def page_widths(driver: Any) -> list[int]:
    """[how wide the page is, how wide the viewport is]."""
    return list(
        driver.execute_script("return [document.scrollingElement.scrollWidth, window.innerWidth];")
    )


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_setup_page_on_an_empty_server(site: Site, viewport: str) -> None:
    if site.world is not None:
        pytest.skip("the world is written already: /setup shows only on an empty server")
    site.resize(viewport)
    site.driver.get(f"{site.server.url}/setup?lang=en")
    assert site.driver.find_elements(By.CSS_SELECTOR, "form input[type=password]")
    check(site, viewport, "setup")


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.route)
def test_page_is_accessible(site: Site, page: Page, viewport: str) -> None:
    seed(site)
    site.resize(viewport)
    site.as_role(page.role)
    site.driver.get(page.url(site))
    assert "/login" not in site.driver.current_url or page.role == "anonymous", page
    name = page.route.strip("/()").replace("/", "_").replace("{", "").replace("}", "") or "root"
    check(site, viewport, name.replace(" ", "-"))


@pytest.mark.parametrize("page", [p for p in PAGES if p.route in {"/family", "/operator"}])
def test_chinese_homes_are_accessible(site: Site, page: Page) -> None:
    seed(site)
    site.resize("phone")
    site.as_role(page.role)
    site.driver.get(page.url(site).replace("lang=en", "lang=zh"))
    assert site.driver.find_element(By.TAG_NAME, "html").get_attribute("lang").startswith("zh")
    check(site, "phone", f"{page.route.strip('/')}-zh")


# --- the keyboard alone ---------------------------------------------------------------------

FOCUS_STATE = """
var el = document.activeElement;
if (!el || el === document.body) { return null; }
var style = getComputedStyle(el);
var ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
           || (style.boxShadow && style.boxShadow !== 'none');
var key = el.tagName + '#' + el.id + '@' + Array.prototype.indexOf.call(
  document.querySelectorAll(el.tagName), el);
return {key: key, id: el.id, tag: el.tagName.toLowerCase(),
        text: (el.innerText || el.value || '').trim().slice(0, 40),
        href: el.getAttribute('href') || '', ring: ring};
"""


def tab_through(site: Site, limit: int = 250) -> list[dict[str, Any]]:
    """Press Tab from the top of the page until focus comes round again; each element that got
    focus, once (a time input takes several presses, one per part)."""
    driver = site.driver
    driver.execute_script("document.activeElement && document.activeElement.blur();")

    def press_tab() -> None:  # to whatever has focus, as a person would
        ActionChains(driver).send_keys(Keys.TAB).perform()

    press_tab()
    reached: list[dict[str, Any]] = []
    for _ in range(limit):
        state = driver.execute_script(FOCUS_STATE)
        if state is None or (reached and state == reached[0]):
            break
        if not reached or state["key"] != reached[-1]["key"]:
            reached.append(state)
        press_tab()
    return reached


@pytest.mark.parametrize(
    "role, path, actions",
    [
        ("family_a", "/family", ("#main", "urgent-sos-ack-", "urgent-sos-call-", "family-link-")),
        ("operator_a", "/operator", ("#main", "sos-ack-", "/elders")),
    ],
    ids=["family", "operator"],
)
def test_homes_work_with_the_keyboard_alone(
    site: Site, role: str, path: str, actions: tuple[str, ...]
) -> None:
    seed(site)
    site.resize("desktop")
    site.as_role(role)
    site.driver.get(f"{site.server.url}{path}?lang=en")
    # The page's catch-up refresh (on the socket's welcome) redraws its live regions: Tab after
    # it, or the focus is lost with the region it was in.
    wait_until(
        lambda: site.driver.execute_script("return document.body.dataset.liveUpdates") != "0",
        what=f"{path} caught up",
    )
    reached = tab_through(site)
    assert reached and reached[0]["href"].endswith("#main"), f"no skip link first: {reached[:3]}"
    for action in actions:
        hits = [r for r in reached if action in r["id"] or action in r["href"]]
        assert hits, f"{path}: Tab never reaches {action!r}; it reached {reached}"
    unringed = [r for r in reached if not r["ring"]]
    assert not unringed, f"{path}: focused without a visible ring: {unringed}"
