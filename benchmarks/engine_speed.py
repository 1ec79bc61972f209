"""Epoch time of the engine on digits, as ratios against references run in the same process.

    python benchmarks/engine_speed.py [--repeats 5]

Models (batch 32, Adam, lr 1e-3): the MLP 64-100-30-10 (ReLU) and the small CNN
(conv 8x3x3 same + ReLU, maxpool 2, dense 10 softmax). References:
* a hand-vectorised numpy loop of the same MLP (the floor for numpy code),
* scikit-learn's MLPClassifier (one partial_fit per epoch, same sizes, batch 32, Adam),
* PyTorch on the CPU, when it is installed.
nnviz runs with probes on: a full snapshot (probes, validation loss) 30 times a second,
as the GUI asks, and also "probes every step" as the worst case.
Reported: median epoch time of several epochs, and each reference's time / nnviz's.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np

from nnviz.core import Experiment, Trainer
from nnviz.core.datasets import load_dataset

MLP = {"input_shape": [64], "cost": "cross_entropy", "init": "he", "seed": 0,
       "layers": [{"type": "dense", "units": 100, "activation": "relu"},
                  {"type": "dense", "units": 30, "activation": "relu"},
                  {"type": "dense", "units": 10, "activation": "softmax"}]}
CNN = {"input_shape": [1, 8, 8], "cost": "cross_entropy", "init": "he", "seed": 0,
       "layers": [{"type": "conv2d", "filters": 8, "kernel_size": 3, "padding": "same", "activation": "relu"},
                  {"type": "maxpool2d", "size": 2}, {"type": "flatten"},
                  {"type": "dense", "units": 10, "activation": "softmax"}]}
BATCH, ETA = 32, 1e-3


def median_epoch(run_epoch, repeats):
    run_epoch()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run_epoch()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_epochs(runs: dict, repeats: int, clock=time.perf_counter) -> dict:
    """name -> the best of ``repeats`` epoch times, the runs taking turns (after a warm-up).

    On a shared machine other processes slow some epochs down; taking turns exposes every
    run to the same load, and the best time is the one least disturbed.  ``clock`` may be
    ``time.process_time`` (CPU seconds of this process: on a busy machine, the time the
    run would take alone, with every library limited to one thread).
    """
    for run_epoch in runs.values():
        run_epoch()
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run_epoch in runs.items():
            start = clock()
            run_epoch()
            times[name].append(clock() - start)
    return {name: min(values) for name, values in times.items()}


def nnviz_epoch(model, **snapshot):
    exp = Experiment.from_dict({"dataset": {"name": "digits"}, "model": model, "training": {
        "optimizer": {"name": "adam", "eta": ETA}, "epochs": 10 ** 6, "batch_size": BATCH}})
    trainer = Trainer(exp, **snapshot)
    steps = trainer.steps_per_epoch

    def run_epoch():
        for _ in trainer.run(max_steps=steps):
            pass
    return run_epoch


def numpy_mlp_epoch(X, Y):
    """A minimal hand-vectorised MLP with Adam: what plain numpy can do, no probes."""
    rng = np.random.default_rng(0)
    sizes = [64, 100, 30, 10]
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        params += [rng.standard_normal((n_in, n_out)) * np.sqrt(2 / n_in), np.zeros(n_out)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    state = {"t": 0}

    def run_epoch():
        order = rng.permutation(len(X))
        for start in range(0, len(X), BATCH):
            idx = order[start:start + BATCH]
            x, y = X[idx], Y[idx]
            W1, b1, W2, b2, W3, b3 = params
            z1 = x @ W1 + b1; a1 = np.maximum(z1, 0)
            z2 = a1 @ W2 + b2; a2 = np.maximum(z2, 0)
            z3 = a2 @ W3 + b3
            e = np.exp(z3 - z3.max(axis=1, keepdims=True)); a3 = e / e.sum(axis=1, keepdims=True)
            d3 = (a3 - y) / len(x)
            d2 = (d3 @ W3.T) * (z2 > 0)
            d1 = (d2 @ W2.T) * (z1 > 0)
            grads = [x.T @ d1, d1.sum(0), a1.T @ d2, d2.sum(0), a2.T @ d3, d3.sum(0)]
            state["t"] += 1
            t = state["t"]
            for p, g, mm, vv in zip(params, grads, m, v):
                mm *= 0.9; mm += 0.1 * g
                vv *= 0.999; vv += 0.001 * g * g
                p -= ETA * (mm / (1 - 0.9 ** t)) / (np.sqrt(vv / (1 - 0.999 ** t)) + 1e-8)
    return run_epoch


def sklearn_epoch(X, y):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=(100, 30), batch_size=BATCH, solver="adam",
                        learning_rate_init=ETA, random_state=0)
    classes = np.unique(y)

    def run_epoch():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.partial_fit(X, y, classes=classes)
    return run_epoch


def torch_epoch(X, y, cnn):
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(1)
    nn = torch.nn
    if cnn:
        model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(128, 10))
        Xt = torch.tensor(X.reshape(-1, 1, 8, 8), dtype=torch.float64)
    else:
        model = nn.Sequential(nn.Linear(64, 100), nn.ReLU(), nn.Linear(100, 30), nn.ReLU(), nn.Linear(30, 10))
        Xt = torch.tensor(X, dtype=torch.float64)
    model = model.double()
    return torch_training_epoch(torch, model, Xt, torch.tensor(y))


def torch_training_epoch(torch, model, X, y, validation=None):
    """One epoch of PyTorch's shuffled Adam mini-batches on (X, y), as a callable.

    With ``validation`` (X_val, y_val) the epoch ends as a normal PyTorch loop's does:
    one forward pass over the validation split without gradients, its loss and accuracy.
    """
    opt = torch.optim.Adam(model.parameters(), lr=ETA)
    loss_fn = torch.nn.CrossEntropyLoss()

    def run_epoch():
        model.train()
        order = torch.randperm(len(X))
        for start in range(0, len(X), BATCH):
            idx = order[start:start + BATCH]
            opt.zero_grad()
            loss_fn(model(X[idx]), y[idx]).backward()
            opt.step()
        if validation is not None:
            X_val, y_val = validation
            model.eval()
            with torch.no_grad():
                out = model(X_val)
                float(loss_fn(out, y_val)), float((out.argmax(1) == y_val).float().mean())
    return run_epoch


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    data = load_dataset({"name": "digits"})
    X, y = data.X_train, data.y_train
    Y = data.targets(y, 10)
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False

    for title, model, refs in [
        ("MLP 64-100-30-10", MLP, [("hand-vectorised numpy", lambda: numpy_mlp_epoch(X, Y)),
                                   ("scikit-learn MLPClassifier", lambda: sklearn_epoch(X, y))]
         + ([("PyTorch CPU (1 thread, float64)", lambda: torch_epoch(X, y, False))] if have_torch else [])),
        ("small CNN", CNN, [("PyTorch CPU (1 thread, float64)", lambda: torch_epoch(X, y, True))]
         if have_torch else []),
    ]:
        ours = median_epoch(nnviz_epoch(model, snapshot_interval=1 / 30), args.repeats)
        worst = median_epoch(nnviz_epoch(model, snapshot_every=1), args.repeats)
        print(f"\n{title}: digits, {len(X)} training samples, batch {BATCH}, Adam")
        print(f"  {'nnviz (probes 30/s)':34s} {1e3 * ours:8.2f} ms/epoch   1.00")
        print(f"  {'nnviz (probes every step)':34s} {1e3 * worst:8.2f} ms/epoch   {worst / ours:4.2f}x nnviz's time")
        for name, make in refs:
            t = median_epoch(make(), args.repeats)
            print(f"  {name:34s} {1e3 * t:8.2f} ms/epoch   {t / ours:4.2f}x nnviz's time")
    if not have_torch:
        print("\n(PyTorch is not installed: `pip install torch` to add it as a reference)")


if __name__ == "__main__":
    main()
