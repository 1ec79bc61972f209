"""Grid-search cells on local worker processes.

Each worker is ``python -m nnviz.core.grid_pool``: a fresh interpreter that
never imports the caller's ``__main__`` (so a script without a main guard may
call ``grid_search``), with BLAS and OpenMP limited to one thread so the
workers do not fight over the cores.  Tasks and outcomes are lines of JSON
(data only, never pickle) on the worker's stdin and on a private copy of its
stdout (prints from training go to stderr); a cell's run crosses as
``Run.to_dict()``.  A worker that dies (killed, out of memory) fails its cell only:
a new worker takes the next cell.  Cancelling kills every worker at once.

Like joblib's reusable executor, the workers of a finished search stay idle
for the next one (same environment and folder) and end by themselves after
``IDLE_SECONDS``, or when this process ends (their stdin closes).
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import select
import subprocess
import sys
import threading
from collections import deque
from multiprocessing.connection import wait
from pathlib import Path
from typing import Callable, Mapping, Sequence

__all__ = ["run_locally", "Worker", "ONE_THREAD_ENV", "stop_idle_workers"]

#: Environment that limits BLAS/OpenMP pools to one thread (read when numpy loads).
ONE_THREAD_ENV = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                         "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                                         "NUMEXPR_NUM_THREADS", "BLIS_NUM_THREADS")}
#: Test hook: a worker given this cell number kills itself (proves a dead worker fails one cell).
DIE_ON_CELL_ENV = "NNVIZ_GRID_TEST_DIE_ON_CELL"
POLL_SECONDS = 0.05           # how often cancel is checked while cells train
IDLE_SECONDS = 300.0          # an idle worker waits this long for another search, then exits
IDLE_SECONDS_ENV = "NNVIZ_GRID_IDLE_SECONDS"

_idle: list["Worker"] = []    # workers of finished searches, ready for the next one
_idle_lock = threading.Lock()


def _worker_env() -> dict:
    """The caller's environment, one BLAS thread, and nnviz importable from where it is now."""
    env = {**os.environ, **ONE_THREAD_ENV}
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


class Worker:
    """One worker process and the cell it is training (``number``, or None when idle)."""

    def __init__(self):
        env = {**_worker_env(), IDLE_SECONDS_ENV: str(IDLE_SECONDS)}
        self.key = _pool_key()
        self.proc = subprocess.Popen([sys.executable, "-m", "nnviz.core.grid_pool"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env=env, cwd=os.getcwd())
        self.number: int | None = None
        self.task: tuple | None = None

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def send(self, task: tuple) -> None:
        """Hand the worker a cell.  If it has just died the pipe is broken: its
        output then ends, and the loop fails this cell like any other death."""
        self.number, self.task = task[0], task
        try:
            self.proc.stdin.write(_line(task))
            self.proc.stdin.flush()
        except OSError:
            pass

    def receive(self) -> tuple[int, dict]:
        """The outcome of the current cell; EOFError etc. if the worker died."""
        number, outcome = _read_line(self.proc.stdout)
        self.number = self.task = None
        return number, _outcome_from_data(outcome)

    def death_message(self) -> str:
        code = self.proc.wait()
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            how = f"was killed ({name}{', perhaps out of memory' if -code == signal.SIGKILL else ''})"
        else:
            how = f"exited with code {code}"
        return f"the worker process {how} while training this cell"

    def stop(self) -> None:
        """End the process now (it holds no state worth keeping)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass


def _pool_key() -> tuple:
    """Workers are reused only by searches with the same environment and folder."""
    return tuple(sorted(_worker_env().items())), os.getcwd()


def _take_workers(count: int) -> list[Worker]:
    """``count`` workers: idle ones of earlier searches first, then new ones."""
    key = _pool_key()
    with _idle_lock:
        usable = [w for w in _idle if w.key == key and w.alive]
        stale = [w for w in _idle if w not in usable]
        taken, _idle[:] = usable[:count], usable[count:]
    for worker in stale:
        worker.stop()
    return taken + [Worker() for _ in range(count - len(taken))]


def _give_back(workers: list[Worker]) -> None:
    """Keep idle, live workers for the next search; stop any still busy."""
    keep = [w for w in workers if w.number is None and w.alive]
    for worker in workers:
        if worker not in keep:
            worker.stop()
    with _idle_lock:
        _idle.extend(keep)


@atexit.register
def stop_idle_workers() -> None:
    """End the idle workers now (the next search starts new ones); also at exit."""
    with _idle_lock:
        idle, _idle[:] = list(_idle), []
    for worker in idle:
        worker.stop()


def run_locally(tasks: Sequence[tuple], jobs: int,
                on_outcome: Callable[[int, Mapping], None],
                cancelled: Callable[[], bool], *, workers: list | None = None) -> None:
    """Train ``tasks`` ((number, cell dict, history) tuples) on ``jobs`` processes,
    calling ``on_outcome(number, outcome)`` here as each finishes, until all are
    done or ``cancelled()`` (then every worker is killed).  ``workers``, if
    given, is filled with the Worker objects used (for tests)."""
    pending = deque(tasks)
    pool: list[Worker] = workers if workers is not None else []
    retried: set[int] = set()
    stopped = False
    try:
        pool.extend(_take_workers(min(jobs, len(pending))))
        for worker in pool:
            worker.send(pending.popleft())
        while any(w.number is not None for w in pool):
            if cancelled():
                stopped = True
                return
            busy = {w.proc.stdout: w for w in pool if w.number is not None}
            for stream in wait(list(busy), timeout=POLL_SECONDS):
                worker = busy[stream]
                number, task = worker.number, worker.task
                try:
                    number, outcome = worker.receive()
                except (EOFError, OSError, ValueError):
                    outcome = {"status": "failed", "message": worker.death_message()}
                    worker.stop()
                    worker.number = worker.task = None
                    if worker.proc.returncode == 0 and number not in retried:
                        retried.add(number)          # it had just timed out idle: not the cell's fault
                        pending.appendleft(task)
                        outcome = None
                    if pending and not cancelled():
                        pool[pool.index(worker)] = worker = Worker()
                if pending and not cancelled():
                    worker.send(pending.popleft())
                if outcome is not None:
                    on_outcome(number, outcome)
    except BaseException:
        stopped = True
        raise
    finally:
        if stopped:
            for worker in pool:
                worker.stop()
        else:
            _give_back(pool)


def _line(message) -> bytes:
    """One message as a line of JSON (NaN allowed: a diverged cell's loss)."""
    return json.dumps(message, separators=(",", ":")).encode("utf-8") + b"\n"


def _read_line(stream):
    """The next message; EOFError when the other side has gone."""
    line = stream.readline()
    if not line.endswith(b"\n"):
        raise EOFError("the other process closed the channel")
    return json.loads(line)


def _outcome_to_data(outcome: dict) -> dict:
    run = outcome.get("run")
    return {**outcome, "run": run.to_dict() if run is not None else None}


def _outcome_from_data(outcome: dict) -> dict:
    from nnviz.core.runs import Run
    run = outcome.get("run")
    return {**outcome, "run": Run.from_dict(run) if run is not None else None}


def die_if_asked(number: int) -> None:
    """The test hook: kill this process (as the OOM killer would) before cell ``number``."""
    if os.environ.get(DIE_ON_CELL_ENV) == str(number):
        os.kill(os.getpid(), signal.SIGKILL)


def worker_main() -> None:
    """The worker loop: read a task, train the cell, write the outcome, until EOF."""
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())   # stray prints cannot corrupt the channel
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    from nnviz.core.grid import run_cell, warm_up

    warm_up()

    tasks = sys.stdin.buffer
    idle = float(os.environ.get(IDLE_SECONDS_ENV, IDLE_SECONDS))
    while True:
        if not select.select([tasks], [], [], idle)[0]:
            return                                  # no search wanted this worker for a while
        try:
            number, cell, history = _read_line(tasks)
        except EOFError:
            return
        die_if_asked(number)
        outcome = run_cell(cell, history=history)
        channel.write(_line((number, _outcome_to_data(outcome))))
        channel.flush()


if __name__ == "__main__":
    try:
        worker_main()
    except (BrokenPipeError, KeyboardInterrupt):
        pass
