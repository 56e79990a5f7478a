"""Languages: Simplified Chinese by default, English on request, nothing left untranslated."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
#: Babel resolves zh_CN to zh_Hans_CN, so that is the catalog folder Flask-Babel reads.
CATALOG = ROOT / "app" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def source_messages() -> set[str]:
    """Every msgid the code and templates use, extracted as `make messages` does."""
    method_map = [("app/**.py", "python"), ("templates/**.html", "jinja2")]
    found = set()

    def wanted(path: str) -> bool:
        name = os.path.basename(path)
        return not name.startswith(".") and name not in {"__pycache__", "node_modules"}

    for _, _, message, _, _ in extract_from_dir(
        str(ROOT),
        method_map=method_map,
        directory_filter=wanted,
        keywords={"_": None, "_l": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None},
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.fixture(scope="module")
def catalog():
    with CATALOG.open("rb") as handle:
        return read_po(handle, locale="zh_CN")


def test_every_message_has_a_chinese_translation(catalog):
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalog
        if m.id
        and m.string
        and all(m.string if isinstance(m.string, tuple) else [m.string])
        and not m.fuzzy
    }
    missing = sorted(source_messages() - translated)
    assert missing == [], "run `make messages` and translate: " + "; ".join(missing[:20])


def test_translations_keep_every_placeholder(catalog):
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) <= wanted | set(PLACEHOLDER.findall(ids[0])), (
                message.id
            )
            assert set(PLACEHOLDER.findall(ids[0])) <= set(PLACEHOLDER.findall(string)) | {
                "%(num)d"
            }, message.id


def test_chinese_is_the_default(client):
    page = client.get("/courses").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert "公需科目" in page


def test_english_on_request_and_remembered(client):
    response = client.get("/locale/en?next=/courses")
    assert response.headers["Location"] == "/courses"
    page = client.get("/courses").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Public subject" in page
    client.get("/locale/zh_CN")
    assert "公需科目" in client.get("/courses").get_data(as_text=True)


def test_an_unknown_language_changes_nothing(client):
    client.get("/locale/xx")
    assert '<html lang="zh-CN">' in client.get("/").get_data(as_text=True)
