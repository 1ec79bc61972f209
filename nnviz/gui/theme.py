"""Light and dark themes and the large-font (projector) mode.

A theme is a Qt palette for the widgets plus background and text colours for
the pyqtgraph plots; both must stay readable on a projector, so text is near
black on white or near white on near black, never grey on grey.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

LARGE_FONT_SCALE = 1.5   # font scale of the projector mode


@dataclass(frozen=True)
class Theme:
    name: str
    window: str
    base: str
    alternate: str
    text: str
    button: str
    highlight: str
    highlighted_text: str
    disabled_text: str
    link: str
    plot_background: str
    plot_foreground: str
    error: str            # text and borders of invalid fields
    error_background: str
    ok: str


THEMES = {
    "light": Theme("light", window="#F2F2F2", base="#FFFFFF", alternate="#F5F7FA",
                   text="#1A1A1A", button="#E9E9E9", highlight="#1F6FD1",
                   highlighted_text="#FFFFFF", disabled_text="#8A8A8A", link="#0B5CAD",
                   plot_background="#FFFFFF", plot_foreground="#1A1A1A",
                   error="#C0261C", error_background="#FDE7E5", ok="#1B7F3B"),
    "dark": Theme("dark", window="#262729", base="#1B1C1E", alternate="#232427",
                  text="#ECECEC", button="#34363A", highlight="#3D8BFD",
                  highlighted_text="#FFFFFF", disabled_text="#85888D", link="#7AB4FF",
                  plot_background="#141517", plot_foreground="#E6E6E6",
                  error="#FF7A70", error_background="#4A2323", ok="#6FD08C"),
}

_current = THEMES["light"]


def current() -> Theme:
    """The theme last applied (light until apply_theme is called)."""
    return _current


def palette(theme: Theme) -> QPalette:
    """A complete QPalette for the Fusion style (active, inactive and disabled)."""
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: theme.window, QPalette.ColorRole.WindowText: theme.text,
        QPalette.ColorRole.Base: theme.base, QPalette.ColorRole.AlternateBase: theme.alternate,
        QPalette.ColorRole.ToolTipBase: theme.base, QPalette.ColorRole.ToolTipText: theme.text,
        QPalette.ColorRole.Text: theme.text, QPalette.ColorRole.Button: theme.button,
        QPalette.ColorRole.ButtonText: theme.text, QPalette.ColorRole.BrightText: theme.error,
        QPalette.ColorRole.Highlight: theme.highlight,
        QPalette.ColorRole.HighlightedText: theme.highlighted_text,
        QPalette.ColorRole.Link: theme.link, QPalette.ColorRole.PlaceholderText: theme.disabled_text,
    }
    for role, colour in roles.items():
        pal.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(theme.disabled_text))
    return pal


def apply_theme(name: str, root: QWidget | None = None) -> Theme:
    """Switch the application to theme ``name``; restyle the plots under ``root``.

    New plots pick the colours up from pyqtgraph's config; existing ones are
    repainted by :func:`style_plots`.
    """
    global _current
    if name not in THEMES:
        raise ValueError(f"unknown theme {name!r}; choose one of {', '.join(THEMES)}")
    theme = _current = THEMES[name]
    app = QApplication.instance()
    if app is not None:
        if app.style().name().lower() != "fusion":
            app.setStyle("Fusion")
        app.setPalette(palette(theme))
    pg.setConfigOptions(background=theme.plot_background, foreground=theme.plot_foreground)
    if root is not None:
        style_plots(root, theme)
    return theme


def style_plots(root: QWidget, theme: Theme | None = None) -> None:
    """Recolour background, axes, titles and legends of every pyqtgraph plot under root."""
    theme = theme or _current
    fg = theme.plot_foreground
    for view in root.findChildren(pg.GraphicsView):
        view.setBackground(theme.plot_background)
        scene = view.scene()
        if scene is None:
            continue
        for item in scene.items():
            if isinstance(item, pg.AxisItem):
                item.setPen(fg)
                item.setTextPen(fg)
            elif isinstance(item, pg.LabelItem) and _theme_coloured(item.opts.get("color")):
                item.setText(item.text, color=None)   # None: pyqtgraph's foreground
            elif isinstance(item, pg.LegendItem):
                item.setLabelTextColor(fg)
                backdrop = pg.mkColor(theme.plot_background)
                backdrop.setAlpha(190)  # translucent: curves behind stay visible
                item.setBrush(pg.mkBrush(backdrop))


def _theme_coloured(colour) -> bool:
    """True for a label drawn in the default colour, not one a view chose."""
    if colour is None:
        return True
    name = pg.mkColor(colour).name().upper()
    return any(name == t.plot_foreground.upper() for t in THEMES.values())


def font_scale(large: bool) -> float:
    return LARGE_FONT_SCALE if large else 1.0
