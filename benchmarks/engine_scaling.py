"""How the engine's epoch time scales with the network, against PyTorch, in one run.

    python benchmarks/engine_scaling.py [--repeats 5] [--only mlp|mlp100|...|cnn|cnn32|...] [--blas-threads 1] [--clock cpu]
                                        [--spacing 10] [--records]

Models (batch 32, Adam, lr 1e-3, cross-entropy on a softmax output):
* MLPs on digits (1437 training samples, 360 for validation): 64-100-30-10,
  64-256-256-10, 64-512-512-10, 64-1024-1024-10, ReLU hidden layers;
* the 2-conv CNN on photo patches (``photos``, 800 patches: 640 for training, 160
  for validation): conv 16 3x3 "same" + ReLU, maxpool 2, conv 32 3x3 "same" + ReLU,
  maxpool 2, flatten, dense 2 softmax; patches of 16, 32 and 64 pixels.
Each runs in nnviz float32 and float64 (``model.dtype``) and in PyTorch float32 and
float64 (``torch.set_num_threads(1)``) when it is installed; BLAS under numpy gets the
same one thread (``--blas-threads``), as in the window's training process.  Two ratios
nnviz / PyTorch of the same dtype, per model and dtype:
* (a) "gui": nnviz trains with the window's snapshot cadence (a snapshot, i.e. the
  validation split's loss and accuracy and the layer probes, 30 times a second at most
  and at most a ``Trainer._SNAPSHOT_SPACING``-th of the time) against PyTorch's bare
  training epoch, which evaluates nothing: what watching the training costs.  With
  ``--records`` also the history points the window's Trainer records (every
  RECORD_EVERY steps and at each epoch's end; every ``run()`` call here ends an epoch
  with one anyway);
* (b) "epoch": like with like: nnviz's epoch with one snapshot at its end (one
  evaluation of the validation split, and the probes) against PyTorch's epoch followed
  by one forward pass over the validation split without gradients (loss, accuracy),
  a normal PyTorch training loop.
Printed: the best ms per epoch of ``--repeats`` epochs after a warm-up epoch, the eight
runs of a model taking turns (``engine_speed.interleaved_epochs``), measured in the same
process, and the load average before and after.  ``--clock cpu`` times CPU seconds of the
process instead of wall-clock seconds: steadier on a shared machine.  ``--spacing``
overrides ``_SNAPSHOT_SPACING`` for the "gui" runs (to measure that trade-off).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from engine_speed import interleaved_epochs, torch_training_epoch   # same timing, same loop

from nnviz.core import Experiment, Network, Trainer
import nnviz.core.trainer as trainer_module
from nnviz.gui.session_worker import RECORD_EVERY, SNAPSHOT_INTERVAL   # no Qt: the worker's settings

from engine_speed import BATCH, ETA  # noqa: E402 - one setting for both benchmarks
PHOTOS = {"name": "photos", "n_samples": 800, "seed": 0}
DTYPES = ("float32", "float64")


def mlp(hidden):
    layers = [{"type": "dense", "units": h, "activation": "relu"} for h in hidden]
    return {"input_shape": [64], "cost": "cross_entropy", "init": "he", "seed": 0,
            "layers": layers + [{"type": "dense", "units": 10, "activation": "softmax"}]}


def cnn(patch):
    conv = lambda f: {"type": "conv2d", "filters": f, "kernel_size": 3, "padding": "same",
                      "activation": "relu"}
    pool = {"type": "maxpool2d", "size": 2}
    return {"input_shape": [1, patch, patch], "cost": "cross_entropy", "init": "he", "seed": 0,
            "layers": [conv(16), pool, conv(32), pool, {"type": "flatten"},
                       {"type": "dense", "units": 2, "activation": "softmax"}]}


CASES = [(f"MLP 64-{'-'.join(map(str, hidden))}-10", f"mlp{hidden[0]}", {"name": "digits"}, mlp(hidden))
         for hidden in ([100, 30], [256, 256], [512, 512], [1024, 1024])] + [
        (f"CNN 16-32 on {p}x{p} photos", f"cnn{p}", {**PHOTOS, "patch": p}, cnn(p)) for p in (16, 32, 64)]


def supports_dtype() -> bool:
    """Whether this engine has ``model.dtype`` (before issue 12 it trains in float64 only)."""
    return "dtype" in Network.from_spec(mlp([4])).to_spec()


def nnviz_epoch(dataset, model, dtype, cadence="gui", records=False):
    """One nnviz training epoch as a callable, and the data set it trains on.

    ``cadence`` "gui": snapshots 30 times a second at most, as the window's training
    process asks (with ``records``, also its history points every RECORD_EVERY steps);
    "epoch": one snapshot, at the epoch's last step (every ``run()`` call has one).
    """
    model = {**model, "dtype": dtype} if supports_dtype() else model
    exp = Experiment.from_dict({"dataset": dataset, "model": model, "training": {
        "optimizer": {"name": "adam", "eta": ETA}, "epochs": 10 ** 6, "batch_size": BATCH}})
    pacing = {"snapshot_interval": SNAPSHOT_INTERVAL, "record_every": RECORD_EVERY if records else None} \
        if cadence == "gui" else {"snapshot_every": 10 ** 9}
    trainer = Trainer(exp, **pacing)
    steps = trainer.steps_per_epoch

    def run_epoch():
        for _ in trainer.run(max_steps=steps):
            pass
    return run_epoch, trainer.dataset


def torch_model(model, torch):
    """The PyTorch twin of a spec built by ``mlp`` or ``cnn`` above."""
    nn = torch.nn
    shape, modules = list(model["input_shape"]), []
    for layer in model["layers"]:
        kind = layer["type"]
        if kind == "dense":
            modules.append(nn.Linear(int(np.prod(shape)), layer["units"]))
            shape = [layer["units"]]
            if layer["activation"] == "relu":
                modules.append(nn.ReLU())
        elif kind == "conv2d":
            modules += [nn.Conv2d(shape[0], layer["filters"], 3, padding=1), nn.ReLU()]
            shape = [layer["filters"]] + shape[1:]
        elif kind == "maxpool2d":
            modules.append(nn.MaxPool2d(2))
            shape = [shape[0], shape[1] // 2, shape[2] // 2]
        elif kind == "flatten":
            modules.append(nn.Flatten())
            shape = [int(np.prod(shape))]
    return nn.Sequential(*modules)  # the softmax is in CrossEntropyLoss


def torch_epoch(dataset, model, dtype, validate=False):
    """One PyTorch training epoch as a callable; with ``validate``, and a validation pass."""
    import torch

    torch.manual_seed(0)
    torch_dtype = getattr(torch, dtype)
    net = torch_model(model, torch).to(torch_dtype)
    tensors = lambda X, y: (torch.tensor(np.asarray(X, dtype=dtype)), torch.tensor(y))  # noqa: E731
    validation = tensors(dataset.X_val, dataset.y_val) if validate else None
    return torch_training_epoch(torch, net, *tensors(dataset.X_train, dataset.y_train), validation)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", choices=("mlp", "mlp100", "mlp256", "mlp512", "mlp1024",
                                           "cnn", "cnn16", "cnn32", "cnn64"))
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="threads for numpy's BLAS (PyTorch gets 1); 0: leave as is")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall-clock or CPU seconds of this process (steadier under load)")
    parser.add_argument("--spacing", type=float,
                        help="Trainer._SNAPSHOT_SPACING for the gui runs (default: the Trainer's)")
    parser.add_argument("--records", action="store_true",
                        help="gui runs also record the window's history points (every 25 steps)")
    args = parser.parse_args()
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    if args.blas_threads:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.blas_threads, user_api="blas")
    if args.spacing is not None:
        trainer_module._SNAPSHOT_SPACING = args.spacing

    print(f"{args.clock} ms per epoch (best of {args.repeats}, taking turns), batch {BATCH}, Adam;"
          f" snapshot spacing {trainer_module._SNAPSHOT_SPACING:g}"
          f"{'; gui runs record history points' if args.records else ''}; load average {_load()}")
    print("ratio = nnviz / PyTorch, same dtype: (a) gui = nnviz with the window's snapshots vs PyTorch"
          " training only; (b) epoch = one validation pass per epoch on both sides")
    print(f"{'model':28s} {'dtype':7s} {'nnviz gui':>9s} {'nnviz ep':>9s}"
          + (f" {'torch':>9s} {'torch+val':>9s} {'(a) gui':>8s} {'(b) epoch':>9s}" if torch else ""))
    dtypes = DTYPES if supports_dtype() else ("float64",)
    for title, kind, dataset, model in CASES:
        if args.only and not kind.startswith(args.only):
            continue
        runs = {}
        for dtype in dtypes:
            for cadence in ("gui", "epoch"):
                runs[("nnviz", dtype, cadence)], data = nnviz_epoch(dataset, model, dtype, cadence,
                                                                    args.records)
        if torch:
            for dtype in dtypes:
                for cadence, validate in (("gui", False), ("epoch", True)):
                    runs[("torch", dtype, cadence)] = torch_epoch(data, model, dtype, validate)
        best = interleaved_epochs(runs, args.repeats,
                                  time.process_time if args.clock == "cpu" else time.perf_counter)
        for dtype in dtypes:
            ours = [best[("nnviz", dtype, cadence)] for cadence in ("gui", "epoch")]
            line = f"{title:28s} {dtype:7s} {1e3 * ours[0]:9.1f} {1e3 * ours[1]:9.1f}"
            if torch:
                ref = [best[("torch", dtype, cadence)] for cadence in ("gui", "epoch")]
                line += (f" {1e3 * ref[0]:9.1f} {1e3 * ref[1]:9.1f}"
                         f" {ours[0] / ref[0]:8.2f} {ours[1] / ref[1]:9.2f}")
            print(line, flush=True)
    print(f"load average at the end: {_load()}")
    if not torch:
        print("(PyTorch is not installed: `pip install torch` to add it as the reference)")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
