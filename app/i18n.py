"""Locale selection: Simplified Chinese unless the visitor chose English."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_babel import get_locale

#: Cookie that remembers the visitor's language choice for a year.
LOCALE_COOKIE = "zhixin_locale"


def select_locale() -> str:
    chosen = request.cookies.get(LOCALE_COOKIE)
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    @app.context_processor
    def locale_context() -> dict[str, object]:
        locale = get_locale()
        code = str(locale) if locale else app.config["BABEL_DEFAULT_LOCALE"]
        return {
            "current_locale": code,
            "html_lang": "zh-CN" if code == "zh_CN" else code,
            "languages": app.config["LANGUAGES"],
        }
