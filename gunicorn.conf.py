"""gunicorn's settings for Zhixin, read from the project folder (``gunicorn 'app:create_app()'``).

Options given on the command line override these.
"""

import gc
import os

#: Sync workers, 2 × cores + 1: better throughput and tail latency here than threaded workers
#: (``bench/heartbeat.py --threads 4`` compares).
workers = 2 * (os.cpu_count() or 1) + 1

#: Each worker touches a file here on every request to show the master it is alive: keep it
#: in memory rather than on a disk's journal (gunicorn's advice for busy or containerised hosts).
_SHM = "/dev/shm"  # noqa: S108 (gunicorn creates its file there with mkstemp)
if os.path.isdir(_SHM):
    worker_tmp_dir = _SHM


def post_worker_init(worker: object) -> None:
    """Take the loaded app out of the garbage collector's sight once it is built.

    Start-up leaves ~130,000 long-lived objects (the app, SQLAlchemy's metadata, Babel's
    catalogs) in the oldest generation, and every full collection walked them all: a worker
    paused 80-150 ms once a minute or so under load, and every request queued on it waited
    with it (measured with bench/heartbeat.py). Frozen, they are never collected; what the
    requests allocate still is.
    """
    gc.freeze()
