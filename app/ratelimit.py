"""Rate limiting: Flask-Limiter, doing its per-request work only for views that have a limit."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import flask_limiter
from flask import Blueprint, Flask, Response, current_app, request
from flask.globals import request_ctx

#: Settings that would give every view a limit; refused (see ``Limiter``).
_GLOBAL_LIMIT_SETTINGS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")


class Limiter(flask_limiter.Limiter):
    """Flask-Limiter whose before-request check runs only for views decorated with a limit.

    Flask-Limiter resolves every view's limits on every request, even for views that declare
    none or are exempt: a fifth of the CPU of a bare JSON response, and as much again of a
    study heartbeat. Here no limit applies to every view (``init_app`` refuses default,
    application-wide and meta limits, and ``limit`` refuses blueprints), so a view has a limit
    exactly when ``limit`` decorated it. Those views are remembered by qualified name, the way
    Flask-Limiter itself matches them, so the order of decorators does not matter.

    Flask-Limiter's after-request hook (rate-limit headers, conditional deductions) and its
    teardown likewise built its per-request context for every response, another 7 % of a
    bare response's instructions: they now run only when a check made that context.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        for name in ("default_limits", "application_limits", "meta_limits"):
            if kwargs.get(name):
                raise ValueError(f"{name} would limit every view; decorate the views instead")
        super().__init__(*args, **kwargs)
        self._limited_views: set[str] = set()
        self._needs_check: dict[Callable[..., Any], bool] = {}

    def init_app(self, app: Flask) -> None:
        configured = [name for name in _GLOBAL_LIMIT_SETTINGS if app.config.get(name)]
        if configured:
            raise RuntimeError(
                f"{', '.join(configured)} would limit every view; decorate the views instead"
            )
        super().init_app(app)
        _run_hooks_only_after_a_check(app, self)

    def limit(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:  # type: ignore[override]
        route_limit = super().limit(*args, **kwargs)

        def decorate(view: Callable[..., Any]) -> Any:
            if isinstance(view, Blueprint):
                raise TypeError("limit each view of the blueprint rather than the blueprint")
            self._limited_views.add(_qualified_name(view))
            return route_limit(view)

        return decorate

    def shared_limit(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("shared limits would not be checked; see Limiter")

    def _check_request_limit(
        self, callable_name: str | None = None, in_middleware: bool = True
    ) -> None:
        if in_middleware and not self._view_needs_check(request.endpoint):
            return
        super()._check_request_limit(callable_name, in_middleware)

    def _view_needs_check(self, endpoint: str | None) -> bool:
        view = current_app.view_functions.get(endpoint or "")
        if view is None:
            return False  # no route: nothing to limit (Flask-Limiter skips these too)
        needed = self._needs_check.get(view)
        if needed is None:
            needed = self._needs_check[view] = _qualified_name(view) in self._limited_views
        return needed


def _qualified_name(view: Callable[..., Any]) -> str:
    """A view's name, the same through ``functools.wraps`` (as ``access`` wraps views)."""
    return f"{view.__module__}.{view.__qualname__}"


def _run_hooks_only_after_a_check(app: Flask, limiter: flask_limiter.Limiter) -> None:
    """Replace Flask-Limiter's after-request and teardown hooks with ones that do nothing
    when no limit was checked in the request (Flask-Limiter's context was never made)."""
    inject = _registered(
        app.after_request_funcs,
        lambda f: (
            isinstance(f, partial)
            and f.func is flask_limiter.Limiter._Limiter__inject_headers  # type: ignore[attr-defined]
            and f.args == (limiter,)
        ),
    )
    release = _registered(
        app.teardown_request_funcs,
        lambda f: (
            getattr(f, "__self__", None) is limiter
            and f.__func__ is flask_limiter.Limiter._Limiter__release_context
        ),  # type: ignore[attr-defined]
    )

    def inject_headers(response: Response) -> Response:
        return inject(response) if _checked() else response

    def release_context(error: BaseException | None = None) -> None:
        if _checked():
            release(error)

    _replace(app.after_request_funcs, inject, inject_headers)
    _replace(app.teardown_request_funcs, release, release_context)


def _checked() -> bool:
    """Whether Flask-Limiter made its context in this request (it does when it checks)."""
    return hasattr(request_ctx._get_current_object(), "_limiter_request_context")  # type: ignore[attr-defined]


def _registered(hooks: dict[Any, list[Any]], is_it: Callable[[Any], bool]) -> Any:
    found = [f for f in hooks.get(None, ()) if is_it(f)]
    if len(found) != 1:  # Flask-Limiter registers its hooks differently: look again
        raise RuntimeError("Flask-Limiter's request hooks were not found where expected")
    return found[0]


def _replace(hooks: dict[Any, list[Any]], old: Any, new: Any) -> None:
    functions = hooks[None]
    functions[functions.index(old)] = new
