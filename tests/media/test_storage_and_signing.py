"""Local storage keys and appends, and signed media URLs checked without the database."""

from __future__ import annotations

import io

import pytest

from app.media import signing
from app.media.storage import LocalStorage, OffsetMismatch, StorageError, check_key


class TestKeys:
    @pytest.mark.parametrize("key", ["media/abc/master.m3u8", "uploads/x.part", "originals/a1"])
    def test_plain_relative_keys_are_fine(self, key):
        assert check_key(key) == key

    @pytest.mark.parametrize(
        "key", ["../etc/passwd", "/abs", "media/../../x", "a//b", "media/./x", "名字", "a b"]
    )
    def test_keys_that_could_escape_are_refused(self, key):
        with pytest.raises(StorageError):
            check_key(key)


class TestAppend:
    def test_chunks_must_arrive_at_the_current_offset(self, tmp_path):
        storage = LocalStorage(tmp_path)
        assert storage.append("uploads/u.part", 0, io.BytesIO(b"hello "), limit=100) == 6
        with pytest.raises(OffsetMismatch) as error:
            storage.append("uploads/u.part", 3, io.BytesIO(b"again"), limit=100)
        assert error.value.expected == 6
        assert storage.append("uploads/u.part", 6, io.BytesIO(b"world"), limit=100) == 11
        assert (tmp_path / "uploads/u.part").read_bytes() == b"hello world"

    def test_a_chunk_past_the_limit_is_cut_back_off(self, tmp_path):
        storage = LocalStorage(tmp_path)
        storage.append("uploads/u.part", 0, io.BytesIO(b"12345"), limit=10)
        with pytest.raises(StorageError):
            storage.append("uploads/u.part", 5, io.BytesIO(b"6789012345"), limit=5)
        assert storage.size("uploads/u.part") == 5

    def test_publish_tree_replaces_the_prefix_in_one_step(self, tmp_path):
        storage = LocalStorage(tmp_path / "root")
        out = tmp_path / "work"
        out.mkdir()
        (out / "master.m3u8").write_text("#EXTM3U\n")
        storage.publish_tree(out, "media/abc")
        assert (tmp_path / "root/media/abc/master.m3u8").exists()
        assert not out.exists()


class TestSigning:
    def test_a_signature_opens_one_prefix_until_it_expires(self, app):
        with app.app_context():
            path = signing.signed_path("media/" + "a" * 32, "master.m3u8", ttl=60, now=1000)
            _, _, expires, signature, *rest = path.split("/")
            prefix = "/".join(rest[:2])
            assert signing.verify(prefix, int(expires), signature, now=1000)
            assert not signing.verify(prefix, int(expires), signature, now=int(expires) + 1)
            assert not signing.verify("media/" + "b" * 32, int(expires), signature, now=1000)
            assert not signing.verify(prefix, int(expires) + 600, signature, now=1000)

    def test_urls_issued_close_together_are_identical(self, app):
        with app.app_context():
            first = signing.signed_path("media/x", "a.ts", ttl=3600, now=10_000)
            second = signing.signed_path("media/x", "a.ts", ttl=3600, now=10_100)
        assert first == second
