"""Grid-search cells on local worker processes.

Each worker is ``python -m nnviz.core.grid_pool``: a fresh interpreter that
never imports the caller's ``__main__`` (so a script without a main guard may
call ``grid_search``), with BLAS and OpenMP limited to one thread so the
workers do not fight over the cores.  Tasks and outcomes are pickles on the
worker's stdin and on a private copy of its stdout (prints from training go
to stderr).  A worker that dies (killed, out of memory) fails its cell only:
a new worker takes the next cell.  Cancelling kills every worker at once.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
from collections import deque
from multiprocessing.connection import wait
from pathlib import Path
from typing import Callable, Mapping, Sequence

__all__ = ["run_locally", "Worker", "ONE_THREAD_ENV"]

#: Environment that limits BLAS/OpenMP pools to one thread (read when numpy loads).
ONE_THREAD_ENV = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                         "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                                         "NUMEXPR_NUM_THREADS", "BLIS_NUM_THREADS")}
#: Test hook: a worker given this cell number kills itself (proves a dead worker fails one cell).
DIE_ON_CELL_ENV = "NNVIZ_GRID_TEST_DIE_ON_CELL"
POLL_SECONDS = 0.05           # how often cancel is checked while cells train


def _worker_env() -> dict:
    """The caller's environment, one BLAS thread, and nnviz importable from where it is now."""
    env = {**os.environ, **ONE_THREAD_ENV}
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


class Worker:
    """One worker process and the cell it is training (``number``, or None when idle)."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "nnviz.core.grid_pool"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env=_worker_env(), cwd=os.getcwd())
        self.number: int | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def send(self, task: tuple) -> None:
        """Hand the worker a cell.  If it has just died the pipe is broken: its
        output then ends, and the loop fails this cell like any other death."""
        self.number = task[0]
        try:
            pickle.dump(task, self.proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self.proc.stdin.flush()
        except OSError:
            pass

    def receive(self) -> tuple[int, dict]:
        """The outcome of the current cell; EOFError etc. if the worker died."""
        number, outcome = pickle.load(self.proc.stdout)
        self.number = None
        return number, outcome

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


def run_locally(tasks: Sequence[tuple], jobs: int,
                on_outcome: Callable[[int, Mapping], None],
                cancelled: Callable[[], bool], *, workers: list | None = None) -> None:
    """Train ``tasks`` ((number, cell dict, history) tuples) on ``jobs`` processes,
    calling ``on_outcome(number, outcome)`` here as each finishes, until all are
    done or ``cancelled()``.  ``workers``, if given, is filled with the live
    Worker objects (for tests that kill one)."""
    pending = deque(tasks)
    pool: list[Worker] = workers if workers is not None else []
    try:
        pool.extend(Worker() for _ in range(min(jobs, len(pending))))
        for worker in pool:
            worker.send(pending.popleft())
        while any(w.number is not None for w in pool):
            if cancelled():
                return
            busy = {w.proc.stdout: w for w in pool if w.number is not None}
            for stream in wait(list(busy), timeout=POLL_SECONDS):
                worker = busy[stream]
                number = worker.number
                try:
                    number, outcome = worker.receive()
                except (EOFError, OSError, pickle.UnpicklingError):
                    outcome = {"status": "failed", "message": worker.death_message()}
                    worker.stop()
                    worker.number = None
                    if pending and not cancelled():
                        pool[pool.index(worker)] = worker = Worker()
                if pending and not cancelled():
                    worker.send(pending.popleft())
                on_outcome(number, outcome)
    finally:
        for worker in pool:
            worker.stop()


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
    while True:
        try:
            number, cell, history = pickle.load(tasks)
        except EOFError:
            return
        die_if_asked(number)
        outcome = run_cell(cell, history=history)
        pickle.dump((number, outcome), channel, protocol=pickle.HIGHEST_PROTOCOL)
        channel.flush()


if __name__ == "__main__":
    try:
        worker_main()
    except (BrokenPipeError, KeyboardInterrupt):
        pass
