"""The task registry: which function runs a job of a given kind."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.jobs.runner import JobContext

TaskFunction = Callable[["JobContext"], None]

_TASKS: dict[str, TaskFunction] = {}


def task(kind: str) -> Callable[[TaskFunction], TaskFunction]:
    """Register ``fn(ctx)`` as the task that runs jobs of ``kind``, e.g. ``@task("media.process")``.

    Kinds are global, so registering a different function under a taken kind is an error;
    the same function imported twice (under another module name) is accepted.
    """

    def register(fn: TaskFunction) -> TaskFunction:
        existing = _TASKS.get(kind)
        if existing is not None and _origin(existing) != _origin(fn):
            raise ValueError(f"another task is already registered as {kind!r}: {existing!r}")
        _TASKS[kind] = fn
        return fn

    return register


def lookup(kind: str, modules: Iterable[str] = ()) -> TaskFunction | None:
    """The task for ``kind``, importing its module first when nothing registered it yet.

    A worker process only knows the tasks whose modules were imported. Besides the given
    ``modules`` (JOBS_IMPORTS), the convention ``<area>.<name>`` → ``app.<area>.tasks`` is
    tried, so an area's tasks are found even when nothing else imported them.
    """
    fn = _TASKS.get(kind)
    if fn is not None:
        return fn
    area = kind.split(".", 1)[0]
    candidates = [*modules, f"app.{area}.tasks"] if area.isidentifier() else [*modules]
    for name in candidates:
        _import_if_present(name)
    return _TASKS.get(kind)


def registered_kinds() -> list[str]:
    return sorted(_TASKS)


def _import_if_present(name: str) -> None:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        # Only a missing module (or parent package) of that name is tolerated, not a broken
        # import inside an existing tasks module.
        if exc.name is None or not (name == exc.name or name.startswith(exc.name + ".")):
            raise


def _origin(fn: Any) -> tuple[str, str]:
    code = getattr(fn, "__code__", None)
    return (getattr(code, "co_filename", ""), getattr(fn, "__qualname__", repr(fn)))
