"""Running work on many threads at once, for the tests of races."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any


def run_concurrently(work: Callable[..., Any], arguments: Iterable[tuple]) -> list[BaseException]:
    """Run ``work(*args)`` on a thread of its own for each ``args``; what they raised."""
    errors: list[BaseException] = []

    def run(*args: Any) -> None:
        try:
            work(*args)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=args) for args in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
