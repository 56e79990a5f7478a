"""Browser tests: a live server on a database of its own, driven by Debian's chromium.

The live app is a separate ``create_app`` on its own SQLite file and media folder (whatever
TEST_DATABASE_URL says), with real CSRF and jobs on in-process threads, served by werkzeug
on a free port. The session-wide ``app`` of tests/conftest.py is not touched.

Chromium is the system one (``apt-get install chromium``); Playwright only drives it. A
missing browser fails the tests, so a broken CI cannot look green; set
``ZHIXIN_SKIP_BROWSER=1`` to skip them deliberately instead.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select
from werkzeug.serving import make_server

from app import create_app, jobs
from app.auth.identity import IdType, make_resident_id, parse_resident_id
from app.auth.services import Identity, create_user
from app.catalog.models import Course
from app.demo import DEMO_PASSWORD, DRAFT_COURSE, seed_demo
from app.extensions import db
from app.orgs.credit_code import make_credit_code
from app.orgs.services import get_or_create_organisation
from app.permissions import Role

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
    "--autoplay-policy=no-user-gesture-required",
]

#: A learner who never enrols in anything (the outsider of the playback test).
OUTSIDER_MOBILE = "13900000077"
#: The demo organisation (see app/demo.py), which the outsider works for.
DEMO_ORG_CODE = "91110108MA01XY8D0"


@dataclass(frozen=True)
class LiveSite:
    url: str
    app: Flask
    media_root: Path
    course_id: int
    lesson_id: int
    password: str = DEMO_PASSWORD
    learner: str = "13800000001"
    author: str = "13800000002"
    reviewer: str = "13800000003"
    outsider: str = OUTSIDER_MOBILE


def _seed(app: Flask) -> tuple[int, int]:
    """Demo data plus an outsider; returns the draft course's id and its video lesson's id."""
    with app.app_context():
        upgrade()
        seed_demo(db.session, year=datetime.now(UTC).year)
        org = get_or_create_organisation(
            db.session, make_credit_code(DEMO_ORG_CODE), "知新示范科技有限公司"
        )
        resident = parse_resident_id(make_resident_id("110105", date(1990, 4, 1), 777))
        create_user(
            db.session,
            name="局外人",
            mobile=OUTSIDER_MOBILE,
            password=DEMO_PASSWORD,
            roles=(Role.LEARNER,),
            identity=Identity(
                IdType.RESIDENT_ID,
                resident.number,
                resident.gender,
                resident.birth_date,
                resident.region_code,
            ),
            organisation_id=org.id,
        )
        course = db.session.scalars(select(Course).filter_by(code=DRAFT_COURSE[0])).one()
        assert len(course.lessons) == 1
        assert course.lessons[0].media_asset_id is None
        ids = course.id, course.lessons[0].id
        db.session.commit()
        return ids


@pytest.fixture(scope="module")
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    folder = tmp_path_factory.mktemp("e2e")
    media_root = folder / "media"
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'live.db'}",
            "MEDIA_ROOT": str(media_root),
            "WTF_CSRF_ENABLED": True,  # a real browser sends real tokens
            "PASSWORD_HASHER": "cheapest",
            "JOBS_BACKEND": "thread",
            "JOBS_RESUME": False,
            "LOGIN_RATE_LIMIT": "10000 per minute",
            "LOGIN_IDENTIFIER_RATE_LIMIT": "10000 per minute",
            "REGISTER_RATE_LIMIT": "10000 per minute",
            "LOOKUP_RATE_LIMIT": "10000 per minute",
        }
    )
    course_id, lesson_id = _seed(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="zhixin-e2e-server", daemon=True)
    thread.start()
    try:
        yield LiveSite(
            url=f"http://127.0.0.1:{server.server_port}",
            app=app,
            media_root=media_root,
            course_id=course_id,
            lesson_id=lesson_id,
        )
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        jobs.shutdown(app)
        with app.app_context():
            db.engine.dispose()


def _no_browser(reason: str) -> None:
    if os.environ.get("ZHIXIN_SKIP_BROWSER") == "1":
        pytest.skip(f"{reason} (ZHIXIN_SKIP_BROWSER=1)")
    pytest.fail(f"{reason}. Set ZHIXIN_SKIP_BROWSER=1 to skip the browser tests.", pytrace=False)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian chromium, driven by Playwright's sync API."""
    if not CHROMIUM.exists():
        _no_browser(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
            "(apt-get install chromium fonts-noto-cjk); Playwright never downloads one here"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _no_browser("Playwright is not installed: run `make install` (the dev extra has it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


# -- helpers shared by the browser tests ------------------------------------------------------

#: Anything a page waits for, besides media processing.
STEP_TIMEOUT_MS = 10_000

#: Chromium now plays HLS natively, and player.js then leaves hls.js aside. Most learners'
#: browsers cannot, so one viewer is made to look like them and take the hls.js path.
WITHOUT_NATIVE_HLS = """
  const canPlayType = HTMLMediaElement.prototype.canPlayType;
  HTMLMediaElement.prototype.canPlayType = function (type) {
    return /mpegurl/i.test(type) ? "" : canPlayType.call(this, type);
  };
"""


def new_context(browser: Browser, *, native_hls: bool = True) -> BrowserContext:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(STEP_TIMEOUT_MS)
    if not native_hls:
        context.add_init_script(WITHOUT_NATIVE_HLS)
    return context
