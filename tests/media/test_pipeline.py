"""From upload to playback: resumable uploads, processing, bad files, signed delivery."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from app import jobs
from app.catalog.models import Course, CourseStatus, Lesson
from app.extensions import db
from app.jobs.models import Job, JobStatus
from app.media.models import MediaAsset, MediaStatus, Upload
from app.media.services import sweep_abandoned_uploads
from app.permissions import Role
from tests.media.conftest import process, upload_file


def asset_of_lesson(app, lesson_id: int) -> MediaAsset | None:
    with app.app_context():
        lesson = db.session.get(Lesson, lesson_id)
        asset = db.session.get(MediaAsset, lesson.media_asset_id) if lesson.media_asset_id else None
        if asset is not None:
            db.session.expunge(asset)
        return asset


def media_root(app):
    from pathlib import Path

    return Path(app.config["MEDIA_ROOT"])


class TestUploadProtocol:
    def test_an_interrupted_upload_resumes_where_the_server_stopped(
        self, app, client, studio, good_clip
    ):
        data = good_clip.read_bytes()
        started = client.post(
            "/api/v1/uploads",
            json={"lesson_id": studio["video"], "filename": "课程.mp4", "size": len(data)},
        )
        url = started.json["url"]
        half = len(data) // 2
        client.patch(url, data=data[:half], headers={"Upload-Offset": "0"})
        # The connection dropped; the page asks where to resume.
        assert client.get(url).json["offset"] == half
        wrong = client.patch(url, data=data[:10], headers={"Upload-Offset": "0"})
        assert wrong.status_code == 409
        assert wrong.json["offset"] == half
        done = client.patch(url, data=data[half:], headers={"Upload-Offset": str(half)})
        assert done.json["status"] == "complete"
        assert done.json["asset"]["status"] == "pending"

    def test_a_file_over_the_limit_is_refused_before_anything_is_stored(
        self, app, client, studio, monkeypatch
    ):
        monkeypatch.setitem(app.config, "MEDIA_MAX_UPLOAD_BYTES", 1000)
        before = set((media_root(app)).rglob("*")) if media_root(app).exists() else set()
        response = client.post(
            "/api/v1/uploads",
            json={"lesson_id": studio["video"], "filename": "a.mp4", "size": 1001},
        )
        assert response.status_code == 413
        assert "1000" in response.json["error"] or "KB" in response.json["error"]
        after = set((media_root(app)).rglob("*")) if media_root(app).exists() else set()
        assert after == before

    def test_more_bytes_than_announced_are_refused(self, client, studio):
        started = client.post(
            "/api/v1/uploads", json={"lesson_id": studio["video"], "filename": "a.mp4", "size": 10}
        )
        response = client.patch(started.json["url"], data=b"x" * 11, headers={"Upload-Offset": "0"})
        assert response.status_code == 413
        assert client.get(started.json["url"]).json["offset"] == 0

    @pytest.mark.parametrize(
        "body",
        [None, {"lesson_id": "1", "filename": "a", "size": 1}, {"lesson_id": 1, "size": 1}],
    )
    def test_malformed_requests_get_a_readable_422(self, client, studio, body):
        response = client.post("/api/v1/uploads", json=body)
        assert response.status_code == 422
        assert response.json["error"]

    def test_empty_files_are_refused(self, client, studio):
        response = client.post(
            "/api/v1/uploads", json={"lesson_id": studio["video"], "filename": "a.mp4", "size": 0}
        )
        assert response.status_code == 409
        assert response.json["error"]

    def test_authors_of_another_provider_cannot_upload_to_the_lesson(
        self, client, studio, make_user, make_provider, login
    ):
        login(make_user(Role.AUTHOR, provider_id=make_provider()))
        response = client.post(
            "/api/v1/uploads", json={"lesson_id": studio["video"], "filename": "a", "size": 5}
        )
        assert response.status_code == 404

    def test_someone_elses_upload_cannot_be_continued(self, client, studio, make_user, login):
        started = client.post(
            "/api/v1/uploads", json={"lesson_id": studio["video"], "filename": "a", "size": 5}
        )
        login(make_user(Role.AUTHOR, provider_id=studio["provider"]))
        assert client.get(started.json["url"]).status_code == 404
        assert (
            client.patch(started.json["url"], data=b"x", headers={"Upload-Offset": "0"}).status_code
            == 404
        )

    @pytest.mark.parametrize(
        ("sent", "shown"),
        [("../../etc/passwd", "passwd"), ("C:\\videos\\第1讲.mp4", "第1讲.mp4"),
         ("e\u0301cole\u202e.mp4", "\u00e9cole.mp4"), ("  ..  ", "upload")],
    )  # fmt: skip
    def test_file_names_are_only_labels(self, app, client, studio, sent, shown):
        started = client.post(
            "/api/v1/uploads", json={"lesson_id": studio["video"], "filename": sent, "size": 5}
        )
        with app.app_context():
            upload = db.session.get(Upload, started.json["upload_id"])
            assert upload.original_name == shown
            assert upload.part_key == f"uploads/{upload.id}.part"

    def test_abandoned_uploads_are_deleted_after_the_timeout(self, app, client, studio):
        from datetime import timedelta

        from app.db import utcnow

        started = client.post(
            "/api/v1/uploads", json={"lesson_id": studio["video"], "filename": "a", "size": 10}
        )
        client.patch(started.json["url"], data=b"12345", headers={"Upload-Offset": "0"})
        part = media_root(app) / f"uploads/{started.json['upload_id']}.part"
        assert part.exists()
        with app.test_request_context():
            assert sweep_abandoned_uploads(db.session, now=utcnow() + timedelta(hours=1)) == 0
            assert sweep_abandoned_uploads(db.session, now=utcnow() + timedelta(hours=25)) == 1
            db.session.commit()
        assert not part.exists()
        assert client.get(started.json["url"]).json["status"] == "aborted"


class TestProcessing:
    def test_a_video_becomes_an_hls_ladder_with_a_poster(self, app, client, studio, clip_720p):
        upload_file(client, studio["video"], clip_720p)
        process(app)
        asset = asset_of_lesson(app, studio["video"])
        assert asset.status == MediaStatus.READY
        assert [r["height"] for r in asset.renditions] == [360, 540, 720]
        folder = media_root(app) / asset.output_prefix
        assert (folder / "master.m3u8").exists()
        assert (folder / "poster.jpg").exists()
        assert not (media_root(app) / asset.original_key).exists() or asset.original_key
        with app.app_context():
            lesson = db.session.get(Lesson, studio["video"])
            assert lesson.duration_seconds == round(asset.duration_seconds)

    def test_progress_is_reported_while_processing(self, app, client, studio, good_clip):
        answer = upload_file(client, studio["video"], good_clip)
        process(app)
        with app.app_context():
            job = db.session.scalars(select(Job).order_by(Job.id.desc())).first()
            assert (job.status, job.progress) == (JobStatus.SUCCEEDED, 100)
        polled = client.get(f"/api/v1/uploads/{answer['upload_id']}").json
        assert polled["asset"]["status"] == "ready"

    def test_a_pdf_document_is_checked_and_stored(self, app, client, studio, make_pdf):
        upload_file(client, studio["document"], make_pdf("three-pages.pdf", 3))
        process(app)
        asset = asset_of_lesson(app, studio["document"])
        assert (asset.status, asset.page_count) == (MediaStatus.READY, 3)
        assert (media_root(app) / asset.output_prefix / "document.pdf").exists()

    def test_the_same_file_uploaded_twice_is_converted_once(
        self, app, client, studio, good_clip, make_course
    ):
        upload_file(client, studio["video"], good_clip)
        process(app)
        first = asset_of_lesson(app, studio["video"])
        with app.app_context():
            course = db.session.get(Course, studio["course"])
            course.lessons.append(Lesson(position=3, title="重复", kind=first.kind))
            db.session.commit()
            other = course.lessons[-1].id
        upload_file(client, other, good_clip, name="copy.mp4")
        process(app)
        assert asset_of_lesson(app, other).id == first.id
        with app.app_context():
            assert db.session.scalar(select(MediaAsset.id).where(MediaAsset.id > first.id)) is None

    @pytest.mark.parametrize(
        ("sample", "lesson", "code"),
        [
            ("text_renamed", "video", "not_media"),
            ("truncated_clip", "video", "truncated"),
            ("audio_only_renamed", "video", "no_video_stream"),
            ("png_renamed", "video", "image_not_video"),
            ("wide_clip", "video", "bad_dimensions"),
            ("encrypted_pdf", "document", "pdf_encrypted"),
            ("corrupt_pdf", "document", "pdf_corrupt"),
        ],
    )
    def test_bad_files_end_with_a_clear_message_and_leave_nothing_behind(
        self, app, client, studio, request, sample, lesson, code
    ):
        path = request.getfixturevalue(sample)
        upload_file(client, studio[lesson], path)
        process(app)
        asset = asset_of_lesson(app, studio[lesson])
        assert (asset.status, asset.error_code) == (MediaStatus.FAILED, code)
        assert not (media_root(app) / asset.original_key).exists()
        assert not (media_root(app) / asset.output_prefix).exists()
        with app.app_context():
            job = db.session.scalars(select(Job).order_by(Job.id.desc())).first()
            assert (job.status, job.attempts) == (JobStatus.FAILED, 1)  # no pointless retries
        client.get("/locale/en")
        page = client.get(f"/author/courses/{studio['course']}").get_data(as_text=True)
        assert "Processing failed" in page

    def test_a_crash_mid_transcode_publishes_nothing_and_the_retry_succeeds(
        self, app, client, studio, good_clip, monkeypatch
    ):
        import app.media.tasks as tasks

        upload_file(client, studio["video"], good_clip)
        real = tasks.package_hls

        def crash(src, out_dir, *args, **kwargs):
            raise KeyboardInterrupt  # stands in for the process being killed

        monkeypatch.setattr(tasks, "package_hls", crash)
        with pytest.raises(KeyboardInterrupt):
            process(app)
        asset = asset_of_lesson(app, studio["video"])
        assert asset.status == MediaStatus.PROCESSING
        assert not (media_root(app) / asset.output_prefix).exists()
        # On restart the orphaned job is found and run again from the start.
        monkeypatch.setattr(tasks, "package_hls", real)
        with app.app_context():
            job = db.session.scalars(select(Job).order_by(Job.id.desc())).first()
            job.heartbeat_at = job.started_at = job.started_at.replace(year=2000)
            db.session.commit()
            assert jobs.recover_orphans(db.session) == [job.id]
            db.session.commit()
        process(app)
        assert asset_of_lesson(app, studio["video"]).status == MediaStatus.READY

    def test_an_author_can_cancel_and_retry(self, app, client, studio, good_clip):
        upload_file(client, studio["video"], good_clip)
        asset = asset_of_lesson(app, studio["video"])
        assert client.post(f"/media/{asset.id}/cancel").status_code == 302
        assert asset_of_lesson(app, studio["video"]).error_code == "cancelled"
        process(app)  # the cancelled job does not run
        assert asset_of_lesson(app, studio["video"]).status == MediaStatus.FAILED
        assert client.post(f"/media/{asset.id}/retry").status_code == 302
        process(app)
        assert asset_of_lesson(app, studio["video"]).status == MediaStatus.READY

    def test_replacing_media_of_a_published_course_sends_it_back_to_review(
        self, app, client, studio, good_clip
    ):
        with app.app_context():
            course = db.session.get(Course, studio["course"])
            course.status = CourseStatus.PUBLISHED
            db.session.commit()
        upload_file(client, studio["video"], good_clip)
        with app.app_context():
            assert db.session.get(Course, studio["course"]).status == CourseStatus.DRAFT


class TestDelivery:
    @pytest.fixture
    def published(self, app, client, studio, good_clip):
        upload_file(client, studio["video"], good_clip)
        process(app)
        with app.app_context():
            course = db.session.get(Course, studio["course"])
            course.status = CourseStatus.PUBLISHED
            db.session.commit()
        return studio

    def lesson_page(self, client, studio):
        return client.get(f"/courses/{studio['course']}/lessons/{studio['video']}")

    def master_url(self, page: str) -> str:
        return page.split('data-hls-src="')[1].split('"')[0]

    def test_an_enrolled_learner_gets_the_playlist_and_segments(
        self, app, client, published, make_user, login
    ):
        login(make_user())
        client.post(f"/courses/{published['course']}/enrol")
        url = self.master_url(self.lesson_page(client, published).get_data(as_text=True))
        master = client.get(url)
        assert master.status_code == 200
        assert master.mimetype == "application/vnd.apple.mpegurl"
        rendition = next(line for line in master.get_data(as_text=True).splitlines()
                         if line.endswith(".m3u8"))  # fmt: skip
        base = url.rsplit("/", 1)[0]
        playlist = client.get(f"{base}/{rendition}")
        segment = next(line for line in playlist.get_data(as_text=True).splitlines()
                       if line.endswith(".ts"))  # fmt: skip
        folder = rendition.rsplit("/", 1)[0]
        full = client.get(f"{base}/{folder}/{segment}")
        assert (full.status_code, full.mimetype) == (200, "video/mp2t")
        partial = client.get(f"{base}/{folder}/{segment}", headers={"Range": "bytes=0-187"})
        assert partial.status_code == 206
        assert len(partial.data) == 188

    def test_outsiders_get_no_url_and_forged_or_expired_urls_fail(
        self, app, client, published, make_user, login
    ):
        login(make_user())  # not enrolled
        assert self.lesson_page(client, published).status_code == 302
        client.post("/logout")
        assert self.lesson_page(client, published).status_code == 302
        login(make_user())
        client.post(f"/courses/{published['course']}/enrol")
        url = self.master_url(self.lesson_page(client, published).get_data(as_text=True))
        client.post("/logout")
        _, _, expires, signature, *rest = url.split("/")
        forged = "/".join(["", "m", expires, "A" * len(signature), *rest])
        assert client.get(forged).status_code == 403
        stale = "/".join(["", "m", "1000", signature, *rest])
        assert client.get(stale).status_code == 403
        escape = "/".join(["", "m", expires, signature, rest[0], rest[1], "..", "..", "x.pdf"])
        assert client.get(escape).status_code in (403, 404)
        assert client.get(url).status_code == 200  # the URL itself works for whoever holds it

    def test_reviewers_preview_unpublished_lessons_as_learners_see_them(
        self, app, client, studio, good_clip, make_user, login
    ):
        upload_file(client, studio["video"], good_clip)
        process(app)
        login(make_user(Role.REVIEWER))
        page = self.lesson_page(client, studio).get_data(as_text=True)
        assert client.get(self.master_url(page)).status_code == 200


def test_no_temporary_folders_are_left_in_the_media_root(app):
    leftovers = [p for p in media_root(app).rglob("*") if ".tmp-" in p.name]
    assert leftovers == []
    assert os.path.isdir(media_root(app))


def test_scratch_folders_of_killed_workers_are_swept(tmp_path):
    import time

    from app.media.tasks import sweep_work_dir

    old, fresh = tmp_path / "hls-old", tmp_path / "hls-fresh"
    old.mkdir()
    fresh.mkdir()
    (old / "seg_00001.ts").write_bytes(b"x")
    past = time.time() - 2 * 86400
    os.utime(old, (past, past))
    assert sweep_work_dir(tmp_path, max_age=86400) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["hls-fresh"]


def test_media_sweep_command(app, transaction):
    result = app.test_cli_runner().invoke(args=["media", "sweep"])
    assert result.exit_code == 0, result.output
    assert "abandoned uploads" in result.output


class TestCourseRulesForUploads:
    def test_finishing_an_upload_sends_a_published_course_back_to_review(
        self, app, client, studio, good_clip
    ):
        with app.app_context():
            db.session.get(Course, studio["course"]).status = CourseStatus.PUBLISHED
            db.session.commit()
        data = good_clip.read_bytes()
        started = client.post(
            "/api/v1/uploads",
            json={"lesson_id": studio["video"], "filename": "a.mp4", "size": len(data)},
        )
        with app.app_context():  # starting an upload changes nothing for learners
            assert db.session.get(Course, studio["course"]).status == CourseStatus.PUBLISHED
        client.patch(started.json["url"], data=data, headers={"Upload-Offset": "0"})
        with app.app_context():
            assert db.session.get(Course, studio["course"]).status == CourseStatus.DRAFT

    def test_a_course_that_went_into_review_meanwhile_refuses_the_file(
        self, app, client, studio, good_clip
    ):
        data = good_clip.read_bytes()
        started = client.post(
            "/api/v1/uploads",
            json={"lesson_id": studio["video"], "filename": "a.mp4", "size": len(data)},
        )
        with app.app_context():
            db.session.get(Course, studio["course"]).status = CourseStatus.IN_REVIEW
            db.session.commit()
        refused = client.patch(started.json["url"], data=data, headers={"Upload-Offset": "0"})
        assert refused.status_code == 409
        assert asset_of_lesson(app, studio["video"]) is None
        with app.app_context():  # withdrawn: the last request again completes it
            db.session.get(Course, studio["course"]).status = CourseStatus.DRAFT
            db.session.commit()
        again = client.patch(
            started.json["url"], data=b"", headers={"Upload-Offset": str(len(data))}
        )
        assert again.json["status"] == "complete"

    def test_an_asset_left_processing_by_a_dead_worker_can_be_retried(
        self, app, client, studio, good_clip
    ):
        upload_file(client, studio["video"], good_clip)
        asset = asset_of_lesson(app, studio["video"])
        with app.app_context():
            job = db.session.scalars(select(Job).order_by(Job.id.desc())).first()
            job.status = JobStatus.FAILED
            db.session.get(MediaAsset, asset.id).status = MediaStatus.PROCESSING
            db.session.commit()
        jobs.dispatched(app).clear()
        assert client.post(f"/media/{asset.id}/retry").status_code == 302
        process(app)
        assert asset_of_lesson(app, studio["video"]).status == MediaStatus.READY
