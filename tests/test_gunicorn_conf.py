"""gunicorn.conf.py: the settings gunicorn reads from the project folder."""

from __future__ import annotations

import gc
import os
import runpy
from pathlib import Path

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def test_gunicorn_runs_two_workers_per_core_plus_one():
    assert runpy.run_path(str(CONF))["workers"] == 2 * (os.cpu_count() or 1) + 1


def test_each_worker_freezes_what_start_up_loaded():
    settings = runpy.run_path(str(CONF))
    assert gc.get_freeze_count() == 0
    try:
        settings["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 0  # out of reach of full collections
    finally:
        gc.unfreeze()


def test_workers_signal_liveness_through_memory_not_disk():
    if not os.path.isdir("/dev/shm"):  # noqa: S108
        return
    assert runpy.run_path(str(CONF))["worker_tmp_dir"] == "/dev/shm"  # noqa: S108
