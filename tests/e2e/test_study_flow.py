"""Study timing (学时) end to end, in a real browser against the live app (1 s heartbeats).

A learner plays a published course's one 8 s video lesson: the status bar says study time is
being counted and the credited time rises; skipping ahead is refused; watching to the end
completes the lesson and the course, whose hours then count in "My credit hours".

A second learner checks the rules around it: speed is held at 1×, a hidden or unfocused page
pauses the video and says so to the server at once, heartbeats retry with fresh payloads through
a network outage (one at a time), another tab takes over and can be taken back from, signing
out stops the timing; and a document's reading time counts only while the page is visible.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.auth.models import User
from app.catalog.models import Course
from app.catalog.services import CourseSpec, LessonSpec, create_course, get_or_create_provider
from app.catalog.taxonomy import Category, Department, Field, LessonKind
from app.credits.models import CreditRecord
from app.extensions import db
from app.learning.progress_models import PlaybackSession
from app.learning.services import enrol
from app.media.models import MediaAsset, MediaStatus
from app.media.services import import_file
from app.media.storage import get_storage
from courseware.synth import make_test_clip, make_text_pdf
from tests.e2e.conftest import STEP_TIMEOUT_MS, LiveSite, new_context

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Request, Response

pytestmark = pytest.mark.e2e

CLIP_SECONDS = 8
COURSE_TITLE = "学时计时演示课程"
COURSE_HOURS = "2"
#: Processing an 8 s 180p clip takes a second or two; allow for a slow CI machine.
PROCESSING_TIMEOUT_S = 30


@dataclass(frozen=True)
class StudySite:
    site: LiveSite
    video_course: int
    video_lesson: int
    document_course: int
    document_lesson: int

    def lesson_url(self, course_id: int, lesson_id: int) -> str:
        return f"{self.site.url}/courses/{course_id}/lessons/{lesson_id}"


def _new_course(provider: Any, code: str, title: str, lesson: LessonSpec) -> Course:
    return create_course(
        db.session,
        provider,
        CourseSpec(
            code=code,
            title=title,
            category=Category.PROFESSIONAL,
            field=Field.NEXT_GEN_IT,
            department=Department.MIIT,
            hours=COURSE_HOURS,
            years=(datetime.now(UTC).year,),
            lessons=(lesson,),
        ),
    )


def _seed(site: LiveSite, folder: Path) -> tuple[int, int, int, int]:
    """Two published courses: one 8 s video lesson, one 1-minute document lesson.

    The learner is enrolled in the video course; the second learner (the live site's
    "outsider", a learner like any other here) in both.
    """
    app = site.app
    clip, notes = folder / "eight-seconds.mp4", folder / "notes.pdf"
    make_test_clip(clip, seconds=CLIP_SECONDS, width=320, height=180)
    make_text_pdf(notes, [["Study notes", "", "Read me for a minute."]])
    with app.app_context():
        provider = get_or_create_provider(db.session, "ZX-DEMO", "知新继续教育示范基地")
        author = db.session.scalars(select(User).filter_by(mobile=site.author)).one()
        video = _new_course(
            provider,
            "ZX-E2E-STUDY",
            COURSE_TITLE,
            LessonSpec("八秒短片", LessonKind.VIDEO, duration_seconds=CLIP_SECONDS),
        )
        document = _new_course(
            provider,
            "ZX-E2E-READ",
            "学时阅读演示课程",
            LessonSpec("一分钟讲义", LessonKind.DOCUMENT, required_minutes=1),
        )
        db.session.flush()
        assets = [
            import_file(db.session, get_storage(), author, video.lessons[0], clip).id,
            import_file(db.session, get_storage(), author, document.lessons[0], notes).id,
        ]
        db.session.commit()
        ids = video.id, video.lessons[0].id, document.id, document.lessons[0].id

    # The live app processes them on its job threads.
    deadline = time.monotonic() + PROCESSING_TIMEOUT_S
    while True:
        with app.app_context():
            statuses = [db.session.get(MediaAsset, asset).status for asset in assets]
        if all(status == MediaStatus.READY for status in statuses):
            break
        assert MediaStatus.FAILED not in statuses, "a lesson file could not be processed"
        assert time.monotonic() < deadline, f"still processing: {statuses}"
        time.sleep(0.2)

    with app.app_context():
        learner, other = (
            db.session.scalars(select(User).filter_by(mobile=mobile)).one()
            for mobile in (site.learner, site.outsider)
        )
        for course_id, learners in ((ids[0], (learner, other)), (ids[2], (other,))):
            course = db.session.get(Course, course_id)
            course.submit_for_review()
            course.publish()
            for user in learners:
                enrol(db.session, user, course)
        db.session.commit()
    return ids


@pytest.fixture(scope="module")
def study_site(
    live_site: LiveSite, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StudySite]:
    app = live_site.app
    saved = app.config["HEARTBEAT_INTERVAL_SECONDS"]
    # Config is read per request, and this live app serves this module only.
    app.config["HEARTBEAT_INTERVAL_SECONDS"] = 1
    ids = _seed(live_site, tmp_path_factory.mktemp("study"))
    try:
        yield StudySite(live_site, *ids)
    finally:
        app.config["HEARTBEAT_INTERVAL_SECONDS"] = saved


def sign_in(page: Page, site: LiveSite, mobile: str) -> None:
    page.goto(f"{site.url}/login")
    page.fill("#identifier", mobile)
    page.fill("#password", site.password)
    with page.expect_navigation():
        page.click("main form [type=submit]")
    assert urlsplit(page.url).path != "/login", page.inner_text("main")


def message(page: Page, key: str) -> str:
    """A translated message the page hands to study.js."""
    value = page.get_attribute("#study", f"data-msg-{key}")
    assert value, key
    return value


def credited(page: Page) -> float:
    return float(page.get_attribute("#study", "data-credited-seconds") or 0)


def open_lesson(page: Page, url: str) -> None:
    """Open a lesson and wait until its playback session has started."""
    page.goto(url)
    page.wait_for_selector("#study[data-credited-seconds]")


def play(page: Page) -> None:
    page.evaluate(
        """() => {
          const video = document.getElementById('lesson-video');
          video.muted = true;
          return video.play();
        }"""
    )
    page.wait_for_selector("#study[data-state=timing]")


def wait_for_text(page: Page, selector: str, text: str) -> None:
    page.wait_for_function(
        "([selector, text]) => document.querySelector(selector).textContent === text",
        arg=[selector, text],
    )


class Beats:
    """The heartbeats a page sent: their payloads, and how many were ever in flight at once."""

    def __init__(self, page: Page) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        #: What the server answered (200 only), after what.
        self.replies: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)
        page.on("response", self._answered)

    @staticmethod
    def _is_beat(request: Request) -> bool:
        return request.method == "POST" and request.url.endswith("/heartbeats")

    def _started(self, request: Request) -> None:
        if self._is_beat(request):
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.sent.append((request.url.rsplit("/", 2)[-2], request.post_data_json))

    def _ended(self, request: Request) -> None:
        if self._is_beat(request):
            self.in_flight -= 1

    def _answered(self, response: Response) -> None:
        if self._is_beat(response.request) and response.status == 200:
            self.replies.append((response.request.post_data_json, response.json()))

    def reply(self, page: Page, reason: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Wait for the first reply given for ``reason``."""
        deadline = time.monotonic() + STEP_TIMEOUT_MS / 1000
        while True:
            for payload, answer in self.replies:
                if answer["reason"] == reason:
                    return payload, answer
            assert time.monotonic() < deadline, self.replies
            page.wait_for_timeout(50)

    def sessions(self) -> list[str]:
        return list(dict.fromkeys(session for session, _payload in self.sent))

    def check(self) -> None:
        """One request at a time; seq counts up from 1 per session; a seq is never reused."""
        assert self.most_in_flight == 1, self.most_in_flight
        for session in self.sessions():
            payloads: dict[int, dict[str, Any]] = {}
            order = []
            for sid, payload in self.sent:
                if sid == session:
                    assert payloads.setdefault(payload["seq"], payload) == payload, payload
                    order.append(payload["seq"])
            assert order == sorted(order), order
            assert sorted(payloads) == list(range(1, len(payloads) + 1)), sorted(payloads)


def test_watching_a_lesson_earns_the_course_hours(
    browser: Browser, study_site: StudySite, tmp_path: Path
) -> None:
    site = study_site.site
    context = new_context(browser, native_hls=False)
    page = context.new_page()
    sign_in(page, site, site.learner)

    # 1. The lesson opens with its study bar: a session is started, nothing counted yet.
    open_lesson(page, study_site.lesson_url(study_site.video_course, study_site.video_lesson))
    study = page.locator("#study")
    status = study.locator(".study-status[role=status]")
    assert status.get_attribute("aria-live") == "polite"
    assert study.get_attribute("data-state") == "paused"
    assert status.locator(".study-state").inner_text() == message(page, "not-timing")
    assert status.locator(".study-reason").inner_text() == message(page, "press-play")
    assert credited(page) == 0

    # 2. Play (muted): the bar says study time is counted, and the credited time rises.
    play(page)
    assert page.evaluate("() => Boolean(window.Hls)")  # through hls.js
    assert status.locator(".study-state").inner_text() == message(page, "timing")
    page.wait_for_function(
        "() => Number(document.getElementById('study').dataset.creditedSeconds) >= 1"
    )
    assert re.search(r"\d", page.inner_text("#study .study-credited"))
    page.screenshot(path=str(tmp_path / "study-timing.png"), full_page=True)

    # 3. Skipping ahead is refused: back to the furthest point watched, with the reason.
    page.evaluate(
        """() => {
          const video = document.getElementById('lesson-video');
          video.currentTime = video.duration - 1;
        }"""
    )
    wait_for_text(page, "#study .study-notice", message(page, "seek"))
    position = page.evaluate("() => document.getElementById('lesson-video').currentTime")
    assert position < CLIP_SECONDS - 3, position

    # 4. Watching to the end completes the lesson, and with it the course.
    page.wait_for_function(
        "() => document.getElementById('lesson-video').ended", timeout=CLIP_SECONDS * 2000
    )
    done = study.locator(".study-done")
    page.locator("#study .study-course-done").wait_for()
    assert message(page, "lesson-done") in done.inner_text()
    assert message(page, "course-done") in done.inner_text()
    assert float(study.get_attribute("data-covered-ratio") or 0) >= 0.95
    assert status.locator(".study-reason").inner_text() == message(page, "complete")
    page.screenshot(path=str(tmp_path / "study-complete.png"), full_page=True)
    with site.app.app_context():
        learner_id = db.session.scalars(select(User.id).filter_by(mobile=site.learner)).one()
        record = db.session.scalars(
            select(CreditRecord).filter_by(user_id=learner_id, course_id=study_site.video_course)
        ).one()
        assert str(record.hours.normalize()) == COURSE_HOURS
        assert 0 < record.study_seconds <= CLIP_SECONDS + 1

    # 5. "My credit hours" counts the course.
    with page.expect_navigation():
        done.get_by_role("link", name=message(page, "hours-link")).click()
    assert urlsplit(page.url).path == "/my/hours"
    professional = page.locator(".ledger-table tbody tr").filter(
        has=page.locator(".tag-professional")
    )
    assert professional.locator("td").first.inner_text() == COURSE_HOURS
    assert page.inner_text(".ledger-total .big-number").startswith(COURSE_HOURS + " ")
    context.close()


HIDE = """() => {
  Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});
  Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
  document.dispatchEvent(new Event('visibilitychange'));
}"""
SHOW = """() => {
  delete document.visibilityState;
  delete document.hidden;
  document.dispatchEvent(new Event('visibilitychange'));
}"""
BLUR = """() => {
  document.hasFocus = () => false;
  window.dispatchEvent(new Event('blur'));
}"""
FOCUS = """() => {
  delete document.hasFocus;
  window.dispatchEvent(new Event('focus'));
}"""


def test_the_rules_around_the_player(browser: Browser, study_site: StudySite) -> None:
    site = study_site.site
    context = new_context(browser)
    page = context.new_page()
    sign_in(page, site, site.outsider)
    beats = Beats(page)
    lesson_url = study_site.lesson_url(study_site.video_course, study_site.video_lesson)
    open_lesson(page, lesson_url)
    reason = "#study .study-reason"
    play(page)

    # Only normal speed.
    page.evaluate("() => { document.getElementById('lesson-video').playbackRate = 2; }")
    wait_for_text(page, "#study .study-notice", message(page, "rate"))
    assert page.evaluate("() => document.getElementById('lesson-video').playbackRate") == 1

    # A hidden page, then an unfocused window: the video pauses, the server hears at once,
    # and playing again is left to the learner.
    page.wait_for_function("() => document.getElementById('lesson-video').currentTime > 1.2")
    for hide, show, why in ((HIDE, SHOW, "hidden"), (BLUR, FOCUS, "blurred")):
        before = len(beats.sent)
        page.evaluate(hide)
        page.wait_for_selector("#study[data-state=paused]")
        assert page.evaluate("() => document.getElementById('lesson-video').paused")
        wait_for_text(page, reason, message(page, why))
        deadline = time.monotonic() + 1.0
        while not any(not p["visible"] for _s, p in beats.sent[before:]):
            assert time.monotonic() < deadline, beats.sent[before:]
            page.wait_for_timeout(50)
        if why == "hidden":
            # What played since the last heartbeat is not counted: the video goes back to
            # the furthest point counted, to be watched again, so coverage has no holes.
            _payload, answer = beats.reply(page, "hidden")
            page.wait_for_function(
                "(furthest) => document.getElementById('lesson-video').currentTime"
                " <= furthest + 0.3",
                arg=answer["furthest_position"],
            )
        page.evaluate(show)
        wait_for_text(page, reason, message(page, "away"))
        assert page.evaluate("() => document.getElementById('lesson-video').paused")
        play(page)

    # The network drops: heartbeats are tried again, later and later, each reporting the
    # present with a new seq (the server measures from its own clock: nothing counts twice).
    page.evaluate("() => document.getElementById('lesson-video').pause()")
    page.route("**/heartbeats", lambda route: route.abort())
    page.wait_for_selector("#study[data-state=problem]")
    offline = re.escape(message(page, "offline")).replace(r"\{s\}", r"\d+")
    assert re.fullmatch(offline, page.inner_text(reason)), page.inner_text(reason)
    failing = len(beats.sent)
    while len(beats.sent) < failing + 1:  # tried again after 1 s (and then after 2 s)
        page.wait_for_timeout(100)
    page.unroute("**/heartbeats")
    page.wait_for_selector("#study[data-state=paused]", timeout=STEP_TIMEOUT_MS)
    retried = [p["seq"] for _s, p in beats.sent[failing - 1 :]]
    assert retried == sorted(set(retried)), retried

    # Another tab takes over; the first says so and can take over again.
    first_session = beats.sessions()[-1]
    other = context.new_page()
    other_beats = Beats(other)
    open_lesson(other, lesson_url)
    page.wait_for_selector("#study[data-state=problem]")
    wait_for_text(page, reason, message(page, "superseded"))
    take_over = page.locator("#study .study-take-over")
    assert take_over.is_visible()
    take_over.click()
    page.wait_for_selector("#study[data-state=paused]")
    assert take_over.is_hidden()
    other.wait_for_selector("#study[data-state=problem]")
    wait_for_text(other, reason, message(other, "superseded"))
    assert beats.sessions()[0] == first_session
    deadline = time.monotonic() + 3
    while len(beats.sessions()) < 2 or beats.sent[-1][0] == first_session:
        assert time.monotonic() < deadline, beats.sessions()
        page.wait_for_timeout(100)
    beats.check()
    other_beats.check()

    # Signing out elsewhere stops the timing, and says why.
    other.click(".header-tools form [type=submit]")
    page.wait_for_selector("#study[data-state=problem]")
    wait_for_text(page, reason, message(page, "signed-out"))
    assert take_over.is_hidden()
    context.close()
    with site.app.app_context():
        coverage = db.session.get(PlaybackSession, first_session).coverage
    holes = [later[0] - earlier[1] for earlier, later in itertools.pairwise(coverage)]
    assert coverage[0][0] == 0, coverage
    assert all(hole < 0.3 for hole in holes), coverage


def test_reading_time_counts_while_the_document_is_seen(
    browser: Browser, study_site: StudySite
) -> None:
    site = study_site.site
    context = new_context(browser)
    page = context.new_page()
    sign_in(page, site, site.outsider)
    beats = Beats(page)
    open_lesson(page, study_site.lesson_url(study_site.document_course, study_site.document_lesson))
    assert page.get_attribute("#study", "data-kind") == "document"
    page.wait_for_selector("#study[data-state=timing]")
    page.wait_for_function(
        "() => Number(document.getElementById('study').dataset.creditedSeconds) >= 1"
    )
    page.evaluate(HIDE)
    page.wait_for_selector("#study[data-state=paused]")
    page.wait_for_timeout(1500)
    reading = [p["position"] for _s, p in beats.sent if p["visible"]]
    hidden = [p for _s, p in beats.sent if not p["visible"]]
    assert hidden, beats.sent
    # While hidden, the reading time stands still.
    assert max(p["position"] for p in hidden) - min(p["position"] for p in hidden) < 0.1
    assert max(reading) <= hidden[0]["position"] + 0.01
    page.evaluate(SHOW)
    page.wait_for_selector("#study[data-state=timing]")
    beats.check()
    context.close()
