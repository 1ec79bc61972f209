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

Only views on screen are updated.  A hidden view (closed dock, or a dock
behind another tab, which Qt keeps "visible" but moves off screen) keeps its
newest data aside and gets it when it is shown again (``refresh``, also run on
the view's Show event).  The curve views draw runs, which keep every point
whether a view is shown or not, so a view shown after a long run draws all of it.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QTimer
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

PAINT_TIMEOUT_MS = 50    # a view that does not repaint (unchanged) holds nobody longer


def on_screen(view: QWidget) -> bool:
    """The view is shown and lies (partly) inside its window: not closed, and not
    a tabbed dock moved off screen behind another tab."""
    if not view.isVisible():
        return False
    top = view.window()
    if top is view:
        return True
    return QRect(view.mapTo(top, QPoint(0, 0)), view.size()).intersects(top.rect())


class ViewPacer(QObject):
    """Feeds ``update_snapshot(snap)`` / ``update_data(data)`` views from a session.

    Use it instead of connecting the views to the session's signals::

        pacer = ViewPacer(session)
        pacer.add_snapshot_view(loss_view)
        pacer.add_data_view("output", output_view)

    Call ``refresh()`` when views may have come into sight (e.g. a dock's
    ``visibilityChanged``) and ``close()`` before dropping the session.
    """

    def __init__(self, session, parent: QObject | None = None, *,
                 paint_timeout_ms: int = PAINT_TIMEOUT_MS):
        super().__init__(parent if parent is not None else session)
        self._session = session
        self._snapshot_views: list[QWidget] = []
        self._data_views: dict[str, list[QWidget]] = {}
        self._pending: dict[QWidget, tuple[str, object]] = {}   # insertion order = turn order
        self._stale: dict[QWidget, tuple[str, object]] = {}     # newest data of hidden views
        self._watched: dict[QObject, QWidget] = {}              # painted object -> its view
        self._awaiting: QWidget | None = None
        self._scheduled = False
        self._closed = False
        self.updates: dict[QWidget, int] = {}                   # updates made, per view
        self._timeout = QTimer(self)
        self._timeout.setSingleShot(True)
        self._timeout.setInterval(paint_timeout_ms)
        self._timeout.timeout.connect(lambda: self._painted(self._awaiting))
        self._paint_seen = False
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
        """Update every view with its pending data now (e.g. before a screenshot);
        hidden views keep theirs until they are shown."""
        while self._pending:
            self._update_next()
        self._awaiting = None
        self._timeout.stop()

    def refresh(self) -> None:
        """Views that have come into sight get the newest data they missed."""
        if self._closed:
            return
        for view, item in list(self._stale.items()):
            if not shiboken6.isValid(view):
                self._forget(view)
            elif on_screen(view):
                del self._stale[view]
                self._queue(view, *item)

    def close(self) -> None:
        """Stop feeding the views: disconnect from the session, drop all data.
        Safe to call twice; the pacer can then be deleted."""
        if self._closed:
            return
        self._closed = True
        for signal, slot in ((self._session.snapshot, self._on_snapshot),
                             (self._session.viewData, self._on_data)):
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):   # already gone with the session
                pass
        self._timeout.stop()
        for target in self._watched:
            if shiboken6.isValid(target):
                target.removeEventFilter(self)
        self._watched.clear()
        self._pending.clear()
        self._stale.clear()
        self._snapshot_views.clear()
        self._data_views.clear()
        self._awaiting = None

    @property
    def closed(self) -> bool:
        return self._closed

    # ------------------------------------------------------------------ incoming
    def _on_snapshot(self, snap) -> None:
        self._offer("update_snapshot", snap, self._snapshot_views)

    def _on_data(self, name: str, data) -> None:
        self._offer("update_data", data, self._data_views.get(name, ()))

    def _offer(self, method: str, payload, views) -> None:
        """Queue the update for the views on screen; keep it aside for the others."""
        for view in views:
            if on_screen(view):
                self._queue(view, method, payload)
            else:
                self._stale[view] = (method, payload)
        self._done_if_idle()

    def _queue(self, view: QWidget, method: str, payload) -> None:
        self._pending[view] = (method, payload)   # a waiting view keeps its turn
        self._schedule()

    def _done_if_idle(self) -> None:
        """Nothing to draw (every view hidden): the session need not wait for us."""
        if not self._pending and self._awaiting is None and not self._closed:
            self._session.frame_painted()

    # ------------------------------------------------------------------ pacing
    def _schedule(self) -> None:
        if self._pending and self._awaiting is None and not self._scheduled:
            self._scheduled = True
            QTimer.singleShot(0, self, self._pump)    # dropped if the pacer is deleted

    def _pump(self) -> None:
        self._scheduled = False
        if self._closed or self._awaiting is not None or not self._pending:
            return
        view = self._update_next()
        if view is not None and on_screen(view):
            self._awaiting = view              # the next view waits for this paint
            self._paint_seen = False
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
        self.updates[view] = self.updates.get(view, 0) + 1
        return view

    def _forget(self, view: QWidget) -> None:
        if view in self._snapshot_views:
            self._snapshot_views.remove(view)
        for views in self._data_views.values():
            if view in views:
                views.remove(view)
        self._stale.pop(view, None)
        self._pending.pop(view, None)
        self.updates.pop(view, None)
        self._watched = {k: v for k, v in self._watched.items() if v is not view}

    def _painted(self, view: QWidget | None) -> None:
        """The awaited view has painted (or timed out): next turn, or frame done."""
        if view is None or view is not self._awaiting:
            return                             # a late paint or timeout of an earlier turn
        self._timeout.stop()
        self._awaiting = None
        if self._closed:
            return
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
        kind = event.type()
        if (kind == QEvent.Type.Paint and self._awaiting is not None and not self._paint_seen
                and self._watched.get(obj) is self._awaiting):
            self._paint_seen = True            # taken: later paints of it are not awaited
            view = self._awaiting
            QTimer.singleShot(0, self, lambda: self._painted(view))   # once this paint is done
        elif kind == QEvent.Type.Show and self._stale and not self._closed:
            QTimer.singleShot(0, self, self.refresh)
        return False
