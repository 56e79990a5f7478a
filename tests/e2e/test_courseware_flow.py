"""Issue #3, end to end in a real browser: upload → review → playback, and who may not watch.

An author uploads a real video through the upload widget and watches its progress, then
submits the course; a reviewer previews the lesson (it really plays) and approves; an
enrolled learner's browser fetches the HLS master playlist and segments through hls.js and
plays them; an outsider is turned away from the lesson, and forged media URLs get 403.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from app.catalog.models import Course, CourseStatus
from app.extensions import db
from tests.e2e.conftest import STEP_TIMEOUT_MS, LiveSite, new_context

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = pytest.mark.e2e

#: Uploading and processing a 3 s clip takes a few seconds; allow for a slow CI machine.
PROCESSING_TIMEOUT_MS = 30_000


class Traffic:
    """Every response a page received, to check what the player fetched."""

    def __init__(self, page: Page) -> None:
        self.responses: list[tuple[str, int]] = []
        page.on("response", lambda response: self.responses.append((response.url, response.status)))

    def media(self, suffix: str) -> list[tuple[str, int]]:
        return [(url, status) for url, status in self.responses if url.endswith(suffix)]


def player_path(page: Page) -> str:
    return page.evaluate(
        """() => {
          const video = document.getElementById('lesson-video');
          return window.Hls && video.currentSrc.startsWith('blob:') ? 'hls.js' : 'native';
        }"""
    )


def sign_in(context: BrowserContext, site: LiveSite, mobile: str) -> Page:
    page = context.new_page()
    page.goto(f"{site.url}/login")
    page.fill("#identifier", mobile)
    page.fill("#password", site.password)
    with page.expect_navigation():
        page.click("main form [type=submit]")
    assert urlsplit(page.url).path != "/login", page.inner_text("main")
    return page


def wait_until_playable(page: Page) -> None:
    """The player has loaded the playlists and a segment: the video has a current frame."""
    page.wait_for_function(
        "() => document.getElementById('lesson-video').readyState >= 2",
        timeout=STEP_TIMEOUT_MS,
    )
    assert page.locator(".player-error").is_hidden()


def assert_fetched_hls(traffic: Traffic, master: str) -> None:
    playlists = traffic.media(".m3u8")
    segments = traffic.media(".ts")
    assert playlists, traffic.responses
    assert urlsplit(playlists[0][0]).path == master, traffic.responses
    assert len(playlists) >= 2, playlists  # the master and at least one variant
    assert segments, traffic.responses
    # 206 answers a native player's "Range: bytes=0-": the whole file, too.
    assert all(status in (200, 206) for _url, status in playlists + segments), traffic.responses


def forged(path: str, *, signature: bool = False, expiry: bool = False) -> str:
    """A media path with its signature altered or its expiry pushed back."""
    empty, m, expires, sig, rest = path.split("/", 4)
    assert (empty, m) == ("", "m"), path
    if signature:
        sig = ("B" if sig[0] == "A" else "A") + sig[1:]
    if expiry:
        expires = str(int(expires) + 600)
    return "/".join((empty, m, expires, sig, rest))


def test_upload_review_and_signed_playback(
    browser: Browser, live_site: LiveSite, good_clip: Path, tmp_path: Path
) -> None:
    site = live_site
    course_url = f"/courses/{site.course_id}"
    lesson_url = f"{course_url}/lessons/{site.lesson_id}"
    widget = f"#lesson-media-{site.lesson_id}"

    # 1. The author uploads the clip in the browser and follows its progress.
    author_ctx = new_context(browser)
    page = sign_in(author_ctx, site, site.author)
    page.goto(f"{site.url}/author{course_url}")
    progress: list[tuple[str, int]] = []
    page.expose_function("zxProgress", lambda text, value: progress.append((text, int(value))))
    page.evaluate(
        """(widget) => {
          const bar = document.querySelector(widget + ' .progress');
          new MutationObserver(() => window.zxProgress(
            bar.querySelector('.progress-text').textContent, bar.getAttribute('aria-valuenow')
          )).observe(bar, {subtree: true, childList: true, characterData: true, attributes: true});
        }""",
        widget,
    )
    page.set_input_files(f"{widget} input[type=file]", good_clip)
    page.click(f"{widget} .upload-start")
    page.locator(f"{widget} .progress").wait_for(state="visible")
    page.wait_for_function(
        """(widget) => {
          const root = document.querySelector(widget + ' .media-upload');
          const text = root && root.querySelector('.progress-text').textContent;
          return Boolean(text) && text.startsWith(root.dataset.msgProcessing);
        }""",
        arg=widget,
        timeout=PROCESSING_TIMEOUT_MS,
    )
    page.screenshot(path=str(tmp_path / "1-author-progress.png"), full_page=True)
    # The widget reloads the page once the file is ready.
    page.locator(f"{widget} .tag-media-ready").wait_for(timeout=PROCESSING_TIMEOUT_MS)
    labels = {
        key: page.get_attribute(f"{widget} .media-upload", f"data-msg-{key}")
        for key in ("uploading", "processing")
    }
    stages = [text.rsplit(" ", 1)[0] for text, _value in progress]
    assert stages[0] == labels["uploading"], progress
    assert stages[-1] == labels["processing"], progress
    assert progress[-1][1] == 100, progress
    assert all(0 <= value <= 100 for _text, value in progress), progress
    assert good_clip.name in page.inner_text(widget)

    # 2. ... and sends the course to review.
    page.click(f"form[action$='{course_url}/submit'] [type=submit]")
    page.locator(f"form[action$='{course_url}/withdraw']").wait_for()
    author_ctx.close()

    # 3. The reviewer finds it in the queue, previews the lesson (it plays), approves.
    reviewer_ctx = new_context(browser)
    page = sign_in(reviewer_ctx, site, site.reviewer)
    traffic = Traffic(page)
    page.goto(f"{site.url}/review/")
    page.click(f"a[href='/review{course_url}']")
    page.click(f"#lessons a[href='{lesson_url}']")
    assert urlsplit(page.url).path == lesson_url
    master = urlsplit(page.get_attribute("#lesson-video", "data-hls-src")).path
    wait_until_playable(page)
    assert_fetched_hls(traffic, master)
    page.go_back()
    page.click("#approve-submit")
    page.locator(".flashes .alert-success").wait_for()
    assert urlsplit(page.url).path == "/review/"
    reviewer_ctx.close()
    with site.app.app_context():
        assert db.session.get(Course, site.course_id).status == CourseStatus.PUBLISHED

    # 4. A learner enrols, opens the lesson: hls.js fetches the HLS files and plays them.
    learner_ctx = new_context(browser, native_hls=False)
    page = sign_in(learner_ctx, site, site.learner)
    traffic = Traffic(page)
    page.goto(f"{site.url}{course_url}")
    page.click(f"form[action$='{course_url}/enrol'] [type=submit]")
    page.locator(".flashes .alert-success").wait_for()
    page.goto(f"{site.url}{course_url}")
    page.click(f"a[href='{lesson_url}']")
    master = urlsplit(page.get_attribute("#lesson-video", "data-hls-src")).path
    wait_until_playable(page)
    page.evaluate(
        """() => {
          const video = document.getElementById('lesson-video');
          video.muted = true;
          return video.play();
        }"""
    )
    page.wait_for_function(
        "() => document.getElementById('lesson-video').currentTime > 0.5",
        timeout=STEP_TIMEOUT_MS,
    )
    assert_fetched_hls(traffic, master)
    assert player_path(page) == "hls.js"
    page.screenshot(path=str(tmp_path / "2-learner-lesson.png"), full_page=True)
    segment = urlsplit(traffic.media(".ts")[0][0]).path
    learner_ctx.close()

    # 5. An outsider (signed in, not enrolled) is sent to the course page, with no player...
    outsider_ctx = new_context(browser)
    page = sign_in(outsider_ctx, site, site.outsider)
    traffic = Traffic(page)
    page.goto(f"{site.url}{lesson_url}")
    assert urlsplit(page.url).path == course_url
    assert page.locator("[data-hls-src]").count() == 0
    assert "/m/" not in page.content()
    assert page.locator(f"form[action$='{course_url}/enrol']").is_visible()
    assert not traffic.media(".m3u8")
    assert not traffic.media(".ts")
    outsider_ctx.close()

    # ... and without cookies, altered media URLs are refused. (The genuine URL is the
    # permission, so it still works: that proves the 403s come from the signature check.)
    anonymous_ctx = new_context(browser)
    request = anonymous_ctx.request
    assert request.get(f"{site.url}{master}").status == 200
    forgeries = {
        "master, signature": forged(master, signature=True),
        "master, later expiry": forged(master, expiry=True),
        "segment, signature": forged(segment, signature=True),
    }
    statuses = {name: request.get(f"{site.url}{path}").status for name, path in forgeries.items()}
    assert statuses == dict.fromkeys(forgeries, 403)
    anonymous_ctx.close()
