"""The window's commands, declared once as data; menus and buttons are made from them.

Each :class:`Command` names its menu, text, shortcut, the window method it
calls and (optionally) a window predicate saying when it is enabled.  The
window builds a ``QAction`` per command (``build_actions``), the menus from
the actions (``build_menus``), and buttons with ``QToolButton.setDefaultAction``,
so a shortcut, a menu entry and a button can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

Std = QKeySequence.StandardKey


@dataclass(frozen=True)
class Command:
    key: str
    menu: str                       # the menu's title ("&File"); "" for none
    text: str
    slot: str                       # the window method it calls
    shortcut: str | QKeySequence.StandardKey | None = None
    tip: str = ""
    checkable: bool = False
    enabled_when: str | None = None  # name of a window property that says "enabled"
    separator_before: bool = False


#: Every command of the window, in menu order.  "{presets}" and "{recent}" are submenus.
COMMANDS = (
    Command("new", "&File", "&New experiment", "new_experiment", Std.New),
    Command("open", "&File", "&Open experiment…", "_open_dialog", Std.Open),
    Command("{presets}", "&File", "Open &preset", "_fill_presets_menu"),
    Command("{recent}", "&File", "Open &recent", "_fill_recent_menu"),
    Command("save", "&File", "&Save experiment", "_save", Std.Save, separator_before=True),
    Command("save_as", "&File", "Save experiment &as…", "_save_as_dialog", Std.SaveAs),
    Command("screenshot", "&File", "Save &screenshot…", "_screenshot_dialog"),
    Command("{export}", "&File", "&Export view", "_fill_export_menu"),
    Command("export_weights", "&File", "Export &weights and experiment…", "_export_weights_dialog",
            tip="the trained network's parameters (.npz, no pickle) and the experiment (.json)",
            enabled_when="has_run"),
    Command("export_runs", "&File", "&Export runs as CSV…", "_export_runs_dialog",
            tip="the history of every run (pinned and current) as CSV files",
            enabled_when="has_runs"),
    Command("quit", "&File", "&Quit", "close", Std.Quit, separator_before=True),

    Command("start", "&Training", "Start / Pause", "start_pause", "Space",
            tip="start, pause or resume training"),
    Command("step", "&Training", "Step one batch", "step", "Ctrl+Right"),
    Command("continue", "&Training", "&Continue", "continue_run", "Ctrl+Shift+Right",
            tip="after a run ended: train on from its weights for another round of epochs",
            enabled_when="can_continue"),
    Command("stop", "&Training", "Stop", "stop", "Ctrl+."),
    Command("reset", "&Training", "Reset weights", "reset", "Ctrl+R"),
    Command("search", "&Training", "&Search…", "show_search", "Ctrl+G", separator_before=True,
            tip="a grid search over learning rate, L2 or any other choice: a heatmap of the "
                "validation accuracy, trained in worker processes"),
    Command("gradcheck", "&Training", "Check &gradients…", "check_gradients",
            tip="compare back propagation with autograd and finite differences, per layer",
            enabled_when="can_check"),
    Command("pin", "&Training", "&Pin run", "pin_run", "Ctrl+P", separator_before=True,
            tip="keep this run on the plots to compare it with the next ones (Ctrl+P)",
            enabled_when="can_pin"),

    Command("large_font", "&View", "&Large fonts (projector)", "set_large_font", "Ctrl+L",
            checkable=True, separator_before=True),
    Command("dark", "&View", "&Dark theme", "_set_dark", "Ctrl+D", checkable=True),
    Command("reset_layout", "&View", "Reset &layout", "reset_layout"),
    Command("playground", "&View", "&Kernel playground", "show_playground",
            tip="one convolution kernel on one image, stage by stage: what a CNN's first "
                "layer does"),
    Command("inspector", "&View", "&Back-propagation inspector", "show_inspector",
            tip="one sample's z, a and δ layer by layer, and the chain rule with its numbers"),

    Command("explain", "&Help", "&What am I looking at?", "explain_views",
            tip="what each view plots, its formula, and what healthy and unhealthy look like"),
    Command("about", "&Help", "&About nnviz", "_about"),
)


def build_actions(window: QMainWindow) -> dict[str, QAction]:
    """A QAction per command (submenus excepted), connected to the window's method."""
    actions = {}
    for command in COMMANDS:
        if command.key.startswith("{"):
            continue
        action = QAction(command.text, window)
        action.setObjectName(f"{command.key}Action")
        if command.shortcut is not None:
            action.setShortcut(QKeySequence(command.shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if command.tip:
            action.setToolTip(command.tip)
            action.setStatusTip(command.tip)
        action.setCheckable(command.checkable)
        slot = getattr(window, command.slot)
        action.triggered.connect(slot if command.checkable else (lambda _=False, s=slot: s()))
        actions[command.key] = action
    return actions


def build_menus(window: QMainWindow, actions: dict[str, QAction],
                extra: dict[str, list[QAction]] | None = None) -> dict[str, QMenu]:
    """The menu bar from COMMANDS; ``extra`` adds actions at the start of a menu
    (the View menu's dock toggles)."""
    menus: dict[str, QMenu] = {}
    bar = window.menuBar()
    for command in COMMANDS:
        menu = menus.get(command.menu)
        if menu is None:
            menu = menus[command.menu] = bar.addMenu(command.menu)
            for action in (extra or {}).get(command.menu, []):
                menu.addAction(action)
        if command.separator_before:
            menu.addSeparator()
        if command.key.startswith("{"):
            submenu = menu.addMenu(command.text)
            submenu.aboutToShow.connect(getattr(window, command.slot))
            menus[command.key] = submenu
        else:
            menu.addAction(actions[command.key])
    return menus


def update_enabled(window: QMainWindow, actions: dict[str, QAction]) -> None:
    """Enable each action whose ``enabled_when`` property of the window is true."""
    for command in COMMANDS:
        if command.enabled_when is not None:
            actions[command.key].setEnabled(bool(getattr(window, command.enabled_when)))
