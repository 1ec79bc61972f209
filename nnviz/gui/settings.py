"""What nnviz remembers between sessions, stored with QSettings.

Everything goes through :class:`Settings`, so tests (and screenshots) can point
it at a throw-away INI file instead of the user's real settings.
"""

from __future__ import annotations

import json
import os

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 8
THEMES = ("light", "dark")


class Settings:
    """Typed access to window layout, last experiment, recent files and presentation."""

    def __init__(self, path: str | os.PathLike | None = None):
        if path is None:
            self.qsettings = QSettings("nnviz", "nnviz")
        else:
            self.qsettings = QSettings(os.fspath(path), QSettings.Format.IniFormat)

    # ------------------------------------------------------------------ window layout
    def geometry(self) -> QByteArray | None:
        return self._bytes("window/geometry")

    def set_geometry(self, data: QByteArray) -> None:
        self.qsettings.setValue("window/geometry", data)

    def window_state(self) -> QByteArray | None:
        return self._bytes("window/state")

    def set_window_state(self, data: QByteArray) -> None:
        self.qsettings.setValue("window/state", data)

    # ------------------------------------------------------------------ experiment
    def last_experiment(self) -> dict | None:
        """The experiment open when the window was last closed (a plain dict), or None."""
        text = self.qsettings.value("experiment/last", "")
        if not isinstance(text, str) or not text:
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def set_last_experiment(self, experiment: dict | None) -> None:
        self.qsettings.setValue("experiment/last", json.dumps(experiment) if experiment else "")

    def recent_files(self) -> list[str]:
        """Most recent first, at most MAX_RECENT."""
        value = self.qsettings.value("experiment/recent", "")
        try:
            files = json.loads(value) if isinstance(value, str) and value else []
        except ValueError:
            files = []
        return [f for f in files if isinstance(f, str)][:MAX_RECENT]

    def add_recent_file(self, path: str | os.PathLike) -> None:
        path = os.path.abspath(os.fspath(path))
        files = [path] + [f for f in self.recent_files() if f != path]
        self._set_recent(files)

    def remove_recent_file(self, path: str | os.PathLike) -> None:
        path = os.path.abspath(os.fspath(path))
        self._set_recent([f for f in self.recent_files() if f != path])

    def _set_recent(self, files: list[str]) -> None:
        self.qsettings.setValue("experiment/recent", json.dumps(files[:MAX_RECENT]))

    # ------------------------------------------------------------------ presentation
    def large_font(self) -> bool:
        return str(self.qsettings.value("view/large_font", "false")).lower() == "true"

    def set_large_font(self, on: bool) -> None:
        self.qsettings.setValue("view/large_font", "true" if on else "false")

    def theme(self) -> str:
        value = self.qsettings.value("view/theme", "light")
        return value if value in THEMES else "light"

    def set_theme(self, name: str) -> None:
        if name not in THEMES:
            raise ValueError(f"unknown theme {name!r}; choose one of {', '.join(THEMES)}")
        self.qsettings.setValue("view/theme", name)

    def sync(self) -> None:
        self.qsettings.sync()

    def _bytes(self, key: str) -> QByteArray | None:
        value = self.qsettings.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None
