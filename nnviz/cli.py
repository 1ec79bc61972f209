"""Command line: start the application, train headless, check gradients, render screenshots.

    nnviz [EXPERIMENT.json]                         open the window
    nnviz train EXPERIMENT.json [--epochs N] [--out DIR]
    nnviz gradcheck EXPERIMENT.json [--samples N]
    nnviz screenshot EXPERIMENT.json --steps N --out FILE.png|FILE.svg [--view NAME]
    nnviz grid EXPERIMENT.json --axis PATH=V1,V2,... [--axis ...] --out DIR

EXPERIMENT may also be the name of a built-in preset (``nnviz presets`` lists them).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import sys
import time
from pathlib import Path

COMMANDS = ("train", "gradcheck", "screenshot", "presets", "grid")


MAX_GRADCHECK_SAMPLES = 1024   # more samples only make the check slower, not better


def load_experiment(name: str):
    """An Experiment from a file, or from a preset of that name (a file wins)."""
    return experiment_and_file(name)[0]


def experiment_and_file(name: str):
    """(the Experiment ``name`` names, the file to save it back to): the file is None
    for a built-in preset, so a window opened on one never writes into the package."""
    from nnviz.core.experiment import Experiment, load_preset

    if is_preset_name(name) and not os.path.lexists(name):
        return load_preset(name), None
    return Experiment.load(name), name


def is_preset_name(name: str) -> bool:
    """True when ``name`` names a built-in preset (``nnviz presets``)."""
    from nnviz.core.experiment import list_presets

    return name in {p for p, _ in list_presets()}


def _count(low: int, high: int | None = None):
    """An argparse type: a whole number in [low, high], else a clean usage error."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
        if value < low or (high is not None and value > high):
            bound = f">= {low}" if high is None else f"between {low} and {high}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {value}")
        return value
    parse.__name__ = "count"
    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nnviz", description="See how a neural network learns.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    train = sub.add_parser("train", help="train headless; write metrics CSV, weights and a summary")
    train.add_argument("experiment")
    train.add_argument("--epochs", type=_count(1), help="override the experiment's number of epochs")
    train.add_argument("--out", default="runs/latest", help="output folder (default: runs/latest)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    check = sub.add_parser("gradcheck", help="compare back propagation with autograd and finite differences")
    check.add_argument("experiment")
    check.add_argument("--samples", type=_count(1, MAX_GRADCHECK_SAMPLES), default=8,
                       help=f"batch size of the check (default 8, at most {MAX_GRADCHECK_SAMPLES})")
    shot = sub.add_parser("screenshot", help="train offscreen and save the window (or one view) as PNG")
    shot.add_argument("experiment")
    shot.add_argument("--steps", type=_count(0), default=200)
    shot.add_argument("--out", required=True)
    shot.add_argument("--view", help="loss, gradients, activations, output, conv or network")
    sub.add_parser("presets", help="list the built-in lecture presets")
    grid = sub.add_parser("grid", help="hyper-parameter grid search; writes grid.csv and heatmap.png")
    grid.add_argument("experiment")
    grid.add_argument("--axis", action="append", required=True, metavar="PATH=V1,V2,...",
                      help="a field and its values, e.g. training.optimizer.eta=1e-4,1e-3,1e-2 "
                           "or training.l2=log:1e-5:1e-1:5 (from:to:count, log-spaced); 1 to 3 axes")
    grid.add_argument("--epochs", type=int, help="override the experiment's number of epochs")
    grid.add_argument("--jobs", type=int, help="worker processes (default: the number of cores)")
    grid.add_argument("--cluster", metavar="ADDRESS",
                      help="a Dask scheduler, e.g. tcp://host:8786 (pip install nnviz[cluster])")
    grid.add_argument("--out", required=True, help="output folder")
    grid.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or (argv[0] not in COMMANDS and not argv[0].startswith("-")):
        from nnviz.gui.app import main as gui_main

        return gui_main(argv[0] if argv else None)
    args = _parser().parse_args(argv)
    from nnviz.core.errors import SpecError

    try:
        return {"train": cmd_train, "gradcheck": cmd_gradcheck,
                "screenshot": cmd_screenshot, "presets": cmd_presets,
                "grid": cmd_grid}[args.command](args)
    except SpecError as exc:
        print(f"nnviz: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nnnviz: interrupted", file=sys.stderr)
        return 130


def cmd_presets(args) -> int:
    from nnviz.core.experiment import list_presets

    for name, title in list_presets():
        print(f"{name:28s} {title}")
    return 0


class _Progress:
    """A one-line progress bar on stderr: epoch, loss, accuracy, samples/s."""

    def __init__(self, total_steps: int, enabled: bool):
        self.total, self.enabled, self.last = total_steps, enabled, 0.0

    def show(self, snap, force=False):
        now = time.perf_counter()
        if not self.enabled or (not force and now - self.last < 0.2):
            return
        self.last = now
        width = 24
        filled = int(width * snap.step / max(self.total, 1))
        acc = "" if snap.val_accuracy is None else f"  val acc {100 * snap.val_accuracy:5.1f}%"
        rate = snap.samples_seen / snap.elapsed if snap.elapsed > 0 else 0.0
        print(f"\r[{'#' * filled}{'.' * (width - filled)}] epoch {snap.epoch + 1:>3}  "
              f"loss {snap.train_loss:.4f}  val loss {snap.val_loss:.4f}{acc}  {rate:,.0f} samples/s",
              end="", file=sys.stderr, flush=True)


def cmd_train(args) -> int:
    import numpy as np

    from nnviz.core.runs import RunState
    from nnviz.core.trainer import Trainer

    exp = load_experiment(args.experiment)
    if args.epochs is not None:
        d = exp.to_dict()
        d["training"]["epochs"] = args.epochs
        base_dir, exp = exp.base_dir, type(exp).from_dict(d)
        exp.base_dir = base_dir       # a CSV path is still read beside the file
    out = output_folder(args.out)
    trainer = Trainer(exp, snapshot_every=trainer_epoch_steps(exp))
    progress = _Progress(trainer.total_steps, not args.quiet and sys.stderr.isatty())
    fields = ["step", "epochs", "samples", "seconds", "train_loss", "val_loss", "train_accuracy", "val_accuracy",
              "eta"]
    with _writing(out):
        with open(out / "metrics.csv", "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(fields)
            for snap in trainer.run():
                writer.writerow([snap.step, snap.epoch_progress, snap.samples_seen, f"{snap.elapsed:.4f}",
                                 snap.train_loss, snap.val_loss, _blank(snap.train_accuracy),
                                 _blank(snap.val_accuracy), snap.eta])
                progress.show(snap, force=snap.done)
        if progress.enabled:
            print(file=sys.stderr)
        np.savez(out / "weights.npz", **weights_arrays(trainer.network))
        final = trainer.evaluate()
        summary = {"experiment": exp.to_dict(), "stop_reason": trainer.stop_reason,
                   "steps": trainer.step_count,
                   "epochs": trainer.samples_seen / len(trainer.dataset.X_train),
                   "seconds": trainer.elapsed,
                   "samples_per_second": trainer.samples_seen / trainer.elapsed if trainer.elapsed else None,
                   **final}
        (out / "summary.json").write_text(json.dumps(summary, indent=2, default=_json_number))
    acc = "" if final["val_accuracy"] is None else f", validation accuracy {100 * final['val_accuracy']:.2f}%"
    print(f"{trainer.stop_reason}: {trainer.step_count} steps in {trainer.elapsed:.2f} s, "
          f"validation loss {final['val_loss']:.5f}{acc}; wrote {out}/")
    if trainer.end_state is RunState.DIVERGED:
        print(f"nnviz: training {trainer.stop_reason} (kept the last good weights)", file=sys.stderr)
        return 1
    return 0


def output_folder(path: str) -> Path:
    """The folder ``--out`` names, created if needed; SpecError("--out") if it cannot be."""
    from nnviz.core.errors import SpecError

    if not path.strip():
        raise SpecError("--out", "is empty", "give a folder for the results, e.g. runs/latest")
    out = Path(path)
    with _writing(out):
        if out.exists() and not out.is_dir():
            raise SpecError("--out", f"{path!r} is a file, not a folder",
                            "give a folder for the results")
        out.mkdir(parents=True, exist_ok=True)
        if not os.access(out, os.W_OK | os.X_OK):
            raise PermissionError(13, "Permission denied")
    return out


@contextlib.contextmanager
def _writing(folder: Path):
    """Turn an OSError while writing under ``folder`` into SpecError("--out")."""
    from nnviz.core.errors import SpecError

    try:
        yield
    except (OSError, ValueError) as exc:      # ValueError: a NUL byte in the path
        reason = getattr(exc, "strerror", None) or str(exc)
        raise SpecError("--out", f"cannot write results to {_short(folder)}: {reason}",
                        "choose a folder you can write to") from None


def _short(path) -> str:
    """A path for a message, shortened in the middle when it is long."""
    text = os.fspath(path)
    return repr(text if len(text) <= 80 else text[:38] + "…" + text[-38:])


def trainer_epoch_steps(exp) -> int:
    """Snapshot once per epoch in headless runs (the metrics CSV has a row per epoch)."""
    from nnviz.core.datasets import load_dataset

    n_train = len(load_dataset(exp.dataset, base_dir=exp.base_dir).X_train)
    return max(1, -(-n_train // exp.training["batch_size"]))


def weights_arrays(net) -> dict:
    """Every parameter and batch-norm statistic as plain arrays, keyed 'layers.I.NAME'."""
    arrays = {}
    for layer in net.layers:
        state = dict(layer.params)
        if layer.kind == "batchnorm":
            state.update(running_mean=layer.running_mean, running_var=layer.running_var)
        arrays.update({f"layers.{layer.index}.{k}": v for k, v in state.items()})
    return arrays


def _blank(value):
    return "" if value is None else value


def _json_number(value):
    return float(value)


def cmd_gradcheck(args) -> int:
    from nnviz.core.datasets import load_dataset
    from nnviz.core.errors import SpecError
    from nnviz.core.gradcheck import check_network, format_table, passes, verdict
    from nnviz.core.network import Network

    exp = load_experiment(args.experiment)
    net = Network.from_spec(exp.model)
    data = load_dataset(exp.dataset, input_shape=net.input_shape, base_dir=exp.base_dir)
    available = len(data.X_train)
    if args.samples > available:
        raise SpecError("--samples", f"must be at most {available} (the training samples of "
                        f"{exp.dataset['name']}), got {args.samples}", f"use at most {available}")
    rows, n = check_network(net, data, args.samples, l2=exp.training.get("l2", 0.0))
    print(f"Back propagation against autograd and central differences, {n} samples, float64"
          " (biases moved off 0 so no ReLU sits exactly on its kink):")
    print(format_table(rows))
    print(verdict(rows))
    return 0 if all(passes(r) for r in rows) else 1


def cmd_screenshot(args) -> int:
    from nnviz.gui.screenshot import render

    exp = load_experiment(args.experiment)
    path = render(exp, args.steps, args.out, view=args.view)
    print(f"wrote {path}")
    return 0


def parse_axis(text: str) -> tuple[str, list]:
    """``PATH=V1,V2,...`` or ``PATH=log:FROM:TO:COUNT`` -> (path, values)."""
    from nnviz.core.errors import SpecError
    from nnviz.core.grid import log_values, parse_value

    path, sep, values = text.partition("=")
    if not sep or not path.strip() or not values.strip():
        raise SpecError("--axis", f"expected PATH=V1,V2,..., got {text!r}",
                        "e.g. --axis training.optimizer.eta=0.001,0.01,0.1")
    if values.startswith("log:"):
        parts = values[4:].split(":")
        try:
            start, stop, count = float(parts[0]), float(parts[1]), int(parts[2])
            if len(parts) != 3:
                raise ValueError
        except (ValueError, IndexError):
            raise SpecError("--axis", f"expected log:FROM:TO:COUNT, got {values!r}",
                            "e.g. training.l2=log:1e-5:1e-1:5") from None
        return path.strip(), log_values(start, stop, count)
    return path.strip(), [parse_value(v) for v in values.split(",")]


class _GridProgress:
    """A progress bar on stderr, a line per finished cell (rewritten in place on a terminal)."""

    def __init__(self, paths, enabled: bool):
        self.paths, self.enabled, self.tty = paths, enabled, sys.stderr.isatty()

    def __call__(self, row, done, total):
        if not self.enabled:
            return
        from nnviz.core.catalogue import show_value

        width = 24
        filled = int(width * done / max(total, 1))
        where = ", ".join(f"{p.rsplit('.', 1)[-1]}={show_value(row[p])}" for p in self.paths)
        if row["status"] != "ok":
            figure = row["status"]
        elif row["val_accuracy"] is not None:
            figure = f"val acc {100 * row['val_accuracy']:.1f}%"
        else:
            figure = f"val loss {row['val_loss']:.4g}"
        line = f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} cells  {where}: {figure}"
        if self.tty:
            print("\r" + line + "\033[K", end="", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)

    def close(self):
        if self.enabled and self.tty:
            print(file=sys.stderr)


def cmd_grid(args) -> int:
    from nnviz.core.grid import grid_search, plan_grid
    from nnviz.gui.heatmap import save_heatmap

    exp = load_experiment(args.experiment)
    axes = dict(parse_axis(a) for a in args.axis)
    if len(axes) != len(args.axis):
        from nnviz.core.errors import SpecError
        raise SpecError("--axis", "the same field is given twice", "give each field one --axis")
    plan_grid(exp, axes, epochs=args.epochs)        # every cell valid before any output
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    progress = _GridProgress(list(axes), not args.quiet)
    start = time.perf_counter()
    result = grid_search(exp, axes, jobs=args.jobs, cluster=args.cluster, epochs=args.epochs,
                         progress=progress)
    seconds = time.perf_counter() - start
    progress.close()
    result.to_csv(out / "grid.csv")
    save_heatmap(result, out / "heatmap.png", title=exp.title or "")
    counts = {s: sum(r["status"] == s for r in result.rows) for s in ("diverged", "failed")}
    notes = "".join(f", {n} {s}" for s, n in counts.items() if n)
    best = result.best()
    if best is None:
        summary = "no cell trained"
    else:
        where = ", ".join(f"{p}={best[p]}" for p in result.paths)
        figure = (f"validation accuracy {100 * best['val_accuracy']:.2f}%"
                  if best["val_accuracy"] is not None else f"validation loss {best['val_loss']:.5g}")
        summary = f"best {figure} at {where}"
    print(f"{result.size} cells in {seconds:.1f} s{notes}; {summary}; "
          f"wrote {out / 'grid.csv'} and {out / 'heatmap.png'}")
    return 0 if best is not None else 1


if __name__ == "__main__":
    raise SystemExit(main())
