"""Grid-search cells on a Dask distributed cluster (``pip install nnviz[cluster]``).

``cluster`` is a scheduler address ("tcp://host:8786", as printed by
``dask scheduler``), a ``distributed.Client``, or a ``LocalCluster``.  Each
cell is one Dask task running :func:`nnviz.core.grid.run_cell` with BLAS
limited to one thread; every worker needs nnviz installed.  A task whose
worker is lost is rerun by Dask (``retries``); if it still fails its cell is
marked "failed" with Dask's message and the search goes on.
"""

from __future__ import annotations

import time
import uuid
from typing import Callable, Mapping, Sequence

from .errors import SpecError

__all__ = ["run_on_cluster", "train_cell_on_worker"]

RETRIES = 1                   # reruns of a task that raised (a lost worker is Dask's own retry)
CONNECT_TIMEOUT = "10s"
POLL_SECONDS = 0.05


def train_cell_on_worker(number: int, cell: dict, history: bool) -> dict:
    """The task: cell ``number`` with one BLAS thread (Dask workers run tasks in threads)."""
    from threadpoolctl import threadpool_limits

    from .grid import run_cell
    from .grid_pool import die_if_asked

    die_if_asked(number)

    with threadpool_limits(1):
        return run_cell(cell, history=history)


def _connect(cluster):
    """(client, owned): a Client for an address / LocalCluster, or the Client given."""
    try:
        from distributed import Client
    except ImportError:
        raise SpecError("cluster", "needs the Dask 'distributed' package",
                        "pip install nnviz[cluster]") from None
    if isinstance(cluster, Client):
        return cluster, False
    address = getattr(cluster, "scheduler_address", cluster)
    if not isinstance(address, str) or not address:
        raise SpecError("cluster", f"expected a scheduler address like 'tcp://host:8786', "
                        f"a Client or a LocalCluster, got {type(cluster).__name__}")
    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False), True
    except (OSError, TimeoutError, ValueError) as exc:
        raise SpecError("cluster", f"cannot reach the Dask scheduler at {address}: {exc}",
                        "start one with 'dask scheduler' and check the address") from None


def run_on_cluster(tasks: Sequence[tuple], cluster, on_outcome: Callable[[int, Mapping], None],
                   cancelled: Callable[[], bool]) -> None:
    """Submit every (number, cell, history) task; call ``on_outcome`` here as each
    finishes, until all are done or ``cancelled()`` (then the rest are cancelled)."""
    from distributed import as_completed

    client, owned = _connect(cluster)
    search = uuid.uuid4().hex[:8]
    futures = {}
    try:
        for number, cell, history in tasks:
            future = client.submit(train_cell_on_worker, number, cell, history, pure=False,
                                   retries=RETRIES, key=f"nnviz-grid-{search}-{number}")
            futures[future] = number
        pending = as_completed(futures, loop=client.loop)
        while not pending.is_empty():
            if cancelled():
                return
            if not pending.has_ready():
                time.sleep(POLL_SECONDS)
                continue
            for future in pending.next_batch(block=False):
                on_outcome(futures[future], _outcome(future))
    finally:
        client.cancel([f for f in futures if not f.done()])
        if owned:
            client.close()


def _outcome(future) -> Mapping:
    """The task's result, or a "failed" outcome with Dask's reason (e.g. a lost worker)."""
    if future.status == "finished":
        return future.result()
    if future.status == "cancelled":
        return {"status": "failed", "message": "the cluster cancelled this cell"}
    exc = future.exception()
    return {"status": "failed", "message": f"on the cluster: {type(exc).__name__}: {exc}"}
