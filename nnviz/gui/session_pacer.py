"""ViewPacer: hands a session's snapshots and view data to the views one view
at a time, so the GUI thread never repaints every plot in one go.

Qt repaints all the widgets changed in one event-loop turn together: five
plot views updated from one snapshot make one 50-100 ms repaint, and for that
long the window does not react.  The pacer updates one view, waits until that
view has painted (or ``paint_timeout``), lets the event loop run, then updates
the next, always with the newest data (older data a view has not drawn yet is
dropped, as the session itself coalesces).  When every view has drawn its
latest data it calls ``session.frame_painted()``, so the session sends the next
snapshot only when the last one is on screen.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

PAINT_TIMEOUT_MS = 50    # a view that does not repaint (hidden, unchanged) holds nobody longer


class ViewPacer(QObject):
    """Feeds ``update_snapshot(snap)`` / ``update_data(data)`` views from a session.

    Use it instead of connecting the views to the session's signals::

        pacer = ViewPacer(session)
        pacer.add_snapshot_view(loss_view)
        pacer.add_data_view("output", output_view)
    """

    def __init__(self, session, parent: QObject | None = None, *,
                 paint_timeout_ms: int = PAINT_TIMEOUT_MS):
        super().__init__(parent if parent is not None else session)
        self._session = session
        self._snapshot_views: list[QWidget] = []
        self._data_views: dict[str, list[QWidget]] = {}
        self._pending: dict[QWidget, tuple[str, object]] = {}   # insertion order = turn order
        self._watched: dict[QObject, QWidget] = {}              # painted object -> its view
        self._awaiting: QWidget | None = None
        self._scheduled = False
        self._timeout = QTimer(self)
        self._timeout.setSingleShot(True)
        self._timeout.setInterval(paint_timeout_ms)
        self._timeout.timeout.connect(self._painted)
        session.snapshot.connect(self._on_snapshot)
        session.viewData.connect(self._on_data)

    # ------------------------------------------------------------------ views
    def add_snapshot_view(self, view: QWidget) -> None:
        """A view with ``update_snapshot(snap)``: gets the newest snapshot."""
        self._snapshot_views.append(view)
        self._watch(view)

    def add_data_view(self, name: str, view: QWidget) -> None:
        """A view with ``update_data(data)``: gets the newest data named ``name``."""
        self._data_views.setdefault(name, []).append(view)
        self._watch(view)

    def flush(self) -> None:
        """Update every view with its pending data now (e.g. before a screenshot)."""
        while self._pending:
            self._update_next()
        self._awaiting = None

    # ------------------------------------------------------------------ incoming
    def _on_snapshot(self, snap) -> None:
        for view in self._snapshot_views:
            self._queue(view, "update_snapshot", snap)

    def _on_data(self, name: str, data) -> None:
        for view in self._data_views.get(name, ()):
            self._queue(view, "update_data", data)

    def _queue(self, view: QWidget, method: str, payload) -> None:
        self._pending[view] = (method, payload)   # a waiting view keeps its turn
        self._schedule()

    # ------------------------------------------------------------------ pacing
    def _schedule(self) -> None:
        if self._pending and self._awaiting is None and not self._scheduled:
            self._scheduled = True
            QTimer.singleShot(0, self._pump)

    def _pump(self) -> None:
        self._scheduled = False
        if self._awaiting is not None or not self._pending:
            return
        view = self._update_next()
        if view is not None and view.isVisible():
            self._awaiting = view              # the next view waits for this paint
            self._timeout.start()
        else:
            self._schedule()
        if not self._pending and self._awaiting is None:
            self._session.frame_painted()

    def _update_next(self) -> QWidget | None:
        view = next(iter(self._pending))
        method, payload = self._pending.pop(view)
        if not shiboken6.isValid(view):       # deleted with its window
            self._forget(view)
            return None
        getattr(view, method)(payload)
        return view

    def _forget(self, view: QWidget) -> None:
        if view in self._snapshot_views:
            self._snapshot_views.remove(view)
        for views in self._data_views.values():
            if view in views:
                views.remove(view)
        self._watched = {k: v for k, v in self._watched.items() if v is not view}

    def _painted(self) -> None:
        """The awaited view has painted (or timed out): next turn, or frame done."""
        self._timeout.stop()
        self._awaiting = None
        if self._pending:
            self._schedule()
        else:
            self._session.frame_painted()

    # ------------------------------------------------------------------ paint watching
    def _watch(self, view: QWidget) -> None:
        targets = [view] + view.findChildren(QAbstractScrollArea)
        for target in targets:
            if isinstance(target, QAbstractScrollArea):
                target = target.viewport()
            self._watched[target] = view
            target.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if (event.type() == QEvent.Type.Paint and self._awaiting is not None
                and self._watched.get(obj) is self._awaiting):
            self._awaiting = None              # taken: later paints of it are not awaited
            QTimer.singleShot(0, self._painted)   # runs once this paint is done
        return False
