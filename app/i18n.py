"""Locale selection: Simplified Chinese unless the visitor chose English."""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, request

#: Cookie that remembers the visitor's language choice for a year.
LOCALE_COOKIE = "zhixin_locale"


def select_locale() -> str:
    if not has_request_context():  # CLI commands and jobs speak the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.cookies.get(LOCALE_COOKIE)
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    @app.context_processor
    def locale_context() -> dict[str, object]:
        code = select_locale()
        return {
            "current_locale": code,
            "html_lang": "zh-CN" if code == "zh_CN" else code,
            "languages": app.config["LANGUAGES"],
        }
