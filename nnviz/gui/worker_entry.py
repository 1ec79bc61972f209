"""The training process: ``python -m nnviz.gui.worker_entry FD``.

TrainingSession starts it as a plain child of the Python that runs the window,
with its own entry module, so it never imports the program that opened the
window: under multiprocessing's "spawn" a script without an
``if __name__ == "__main__":`` guard would be run again in the child and open
a second window instead of training.  ``FD`` is the child's end of a socket
pair; everything else (the experiment, commands, snapshots) crosses it as the
typed records of ``nnviz.gui.worker_protocol``.  No Qt is imported here.
"""

from __future__ import annotations

import signal
import sys
from multiprocessing.connection import Connection


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].isdigit():
        print("usage: python -m nnviz.gui.worker_entry FD  (started by the nnviz window)",
              file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the window's to handle
    from nnviz.gui.session_worker import serve_connection
    serve_connection(Connection(int(args[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
