"""How the engine's epoch time scales with the network, against PyTorch, in one run.

    python benchmarks/engine_scaling.py [--repeats 5] [--only mlp|cnn] [--blas-threads 1] [--clock cpu]
                                        [--snapshots gui|epoch]

Models (batch 32, Adam, lr 1e-3, cross-entropy on a softmax output):
* MLPs on digits (1437 training samples): 64-100-30-10, 64-256-256-10,
  64-512-512-10, 64-1024-1024-10, ReLU hidden layers;
* the 2-conv CNN on photo patches (``photos``, 800 patches, 640 for training):
  conv 16 3x3 "same" + ReLU, maxpool 2, conv 32 3x3 "same" + ReLU, maxpool 2,
  flatten, dense 2 softmax; patches of 16, 32 and 64 pixels.
Each runs in nnviz float32 and float64 (``model.dtype``; probes 30 times a second,
as the GUI asks) and in PyTorch float32 and float64 (``torch.set_num_threads(1)``) when
it is installed. BLAS under numpy gets the same one thread (``--blas-threads``).
Printed: the best ms per epoch of ``--repeats`` epochs after a warm-up epoch, the four
runs of a model taking turns (``engine_speed.interleaved_epochs``), and the ratios
nnviz / PyTorch of the same dtype, measured in the same process.  ``--clock cpu`` times
CPU seconds of the process instead of wall-clock seconds: steadier on a shared machine.
``--snapshots epoch`` leaves out the GUI's snapshots (validation pass and probes; PyTorch
does neither) but the two every ``run()`` call makes, at its first and last step: it
shows how much of the ratio is the training step itself.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from engine_speed import interleaved_epochs, torch_training_epoch   # same timing, same loop

from nnviz.core import Experiment, Network, Trainer

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


CASES = [("MLP 64-100-30-10", "mlp", {"name": "digits"}, mlp([100, 30])),
         ("MLP 64-256-256-10", "mlp", {"name": "digits"}, mlp([256, 256])),
         ("MLP 64-512-512-10", "mlp", {"name": "digits"}, mlp([512, 512])),
         ("MLP 64-1024-1024-10", "mlp", {"name": "digits"}, mlp([1024, 1024]))] + [
        (f"CNN 16-32 on {p}x{p} photos", "cnn", {**PHOTOS, "patch": p}, cnn(p)) for p in (16, 32, 64)]


def supports_dtype() -> bool:
    """Whether this engine has ``model.dtype`` (before issue 12 it trains in float64 only)."""
    return "dtype" in Network.from_spec(mlp([4])).to_spec()


def nnviz_epoch(dataset, model, dtype, snapshots="gui"):
    model = {**model, "dtype": dtype} if supports_dtype() else model
    exp = Experiment.from_dict({"dataset": dataset, "model": model, "training": {
        "optimizer": {"name": "adam", "eta": ETA}, "epochs": 10 ** 6, "batch_size": BATCH}})
    pacing = {"snapshot_interval": 1 / 30} if snapshots == "gui" else \
        {"snapshot_every": 10 ** 9, "probes": False}
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


def torch_epoch(dataset, model, dtype):
    import torch

    torch.manual_seed(0)
    torch_dtype = getattr(torch, dtype)
    net = torch_model(model, torch).to(torch_dtype)
    X = torch.tensor(np.asarray(dataset.X_train, dtype=dtype))
    y = torch.tensor(dataset.y_train)
    return torch_training_epoch(torch, net, X, y)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", choices=("mlp", "cnn"))
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="threads for numpy's BLAS (PyTorch gets 1); 0: leave as is")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall-clock or CPU seconds of this process (steadier under load)")
    parser.add_argument("--snapshots", choices=("gui", "epoch"), default="gui",
                        help="gui: probes and validation 30 times a second (as the window asks); "
                             "epoch: only at each epoch's first and last step")
    args = parser.parse_args()
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    if args.blas_threads:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.blas_threads, user_api="blas")

    header = (f"{'model':28s} {'nnviz f32':>10s} {'nnviz f64':>10s}"
              + (f" {'torch f32':>10s} {'torch f64':>10s} {'f32 ratio':>9s} {'f64 ratio':>9s}" if torch else ""))
    print(f"{args.clock} ms per epoch (best of {args.repeats}, taking turns), batch {BATCH}, Adam;"
          f" ratio = nnviz / PyTorch; nnviz snapshots: {args.snapshots}")
    print(header)
    for title, kind, dataset, model in CASES:
        if args.only and kind != args.only:
            continue
        runs = {}
        for dtype in (DTYPES if supports_dtype() else ("float64",)):
            runs[("nnviz", dtype)], data = nnviz_epoch(dataset, model, dtype, args.snapshots)
        if torch:
            runs.update({("torch", dtype): torch_epoch(data, model, dtype) for dtype in DTYPES})
        best = interleaved_epochs(runs, args.repeats,
                                  time.process_time if args.clock == "cpu" else time.perf_counter)
        ours = {dtype: best.get(("nnviz", dtype), float("nan")) for dtype in DTYPES}
        line = f"{title:28s} {1e3 * ours['float32']:10.1f} {1e3 * ours['float64']:10.1f}"
        if torch:
            ref = {dtype: best[("torch", dtype)] for dtype in DTYPES}
            line += (f" {1e3 * ref['float32']:10.1f} {1e3 * ref['float64']:10.1f}"
                     f" {ours['float32'] / ref['float32']:9.2f} {ours['float64'] / ref['float64']:9.2f}")
        print(line, flush=True)
    if not torch:
        print("(PyTorch is not installed: `pip install torch` to add it as the reference)")


if __name__ == "__main__":
    main()
