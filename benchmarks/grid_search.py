"""Grid-search wall time: 2 worker processes against 1, against scikit-learn, and on Dask.

    python benchmarks/grid_search.py            # 5x5 eta x l2, digits MLP 64-100-30-10, 20 epochs
    python benchmarks/grid_search.py --quick    # 3x3, 5 epochs (a smoke run)
    python benchmarks/grid_search.py --warm     # second searches: workers already running

Same grid, split, sizes and epochs everywhere: Adam, batch 32, ReLU, the digits
training/validation split of nnviz.  Timed, wall clock, in this order:
* nnviz ``grid_search(jobs=1)`` and ``grid_search(jobs=2)``,
* scikit-learn ``GridSearchCV(MLPClassifier(...), n_jobs=2)`` on a PredefinedSplit of the
  same training and validation rows (``max_iter`` = epochs, no early stop, refit=False),
* nnviz on a running ``distributed.LocalCluster`` of 2 worker processes (when installed;
  the cluster's start-up and its workers' first import of nnviz are not timed: a cluster
  is there, warm, before a search uses it).
Worker start-up is inside the nnviz and scikit-learn times (cold), or not (``--warm``:
a second search, as nnviz's idle workers and joblib's reusable executor serve it).
Printed: each time and the ratios the issue sets targets for.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from nnviz.core import Experiment, grid_search
from nnviz.core.datasets import load_dataset
from nnviz.core.grid import log_values

MLP = {"input_shape": [64], "cost": "cross_entropy", "init": "he", "seed": 0,
       "layers": [{"type": "dense", "units": 100, "activation": "relu"},
                  {"type": "dense", "units": 30, "activation": "relu"},
                  {"type": "dense", "units": 10, "activation": "softmax"}]}
BATCH = 32


def grid(size: int) -> dict:
    etas = log_values(1e-4, 1e-1, size)
    l2s = [0.0] + log_values(1e-4, 1e-1, size - 1) if size > 1 else [0.0]
    return {"training.optimizer.eta": etas, "training.l2": l2s}


def experiment(epochs: int) -> Experiment:
    return Experiment.from_dict({"dataset": {"name": "digits"}, "model": MLP, "training": {
        "optimizer": {"name": "adam", "eta": 1e-3}, "epochs": epochs, "batch_size": BATCH}})


REPEATS = 1
WARM = False


def cold_nnviz() -> None:
    from nnviz.core.grid_pool import stop_idle_workers
    stop_idle_workers()


def cold_sklearn() -> None:
    from joblib.externals.loky import get_reusable_executor
    get_reusable_executor().shutdown(wait=True)


def timed(label: str, run, cold=lambda: None) -> tuple[float, object]:
    """The shortest of REPEATS wall times (other load on the machine only adds time).
    Cold: worker processes started within the time (``cold()`` ends the idle ones
    first); warm (--warm): after an untimed run, as a second search in the same
    process finds them (nnviz's idle workers, joblib's reusable executor)."""
    times = []
    if WARM:
        run()
    for _ in range(REPEATS):
        if not WARM:
            cold()
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
    print(f"  {label:52s} {min(times):7.2f} s", flush=True)
    return min(times), out


def sklearn_search(exp: Experiment, axes: dict, epochs: int):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import GridSearchCV, PredefinedSplit
    from sklearn.neural_network import MLPClassifier

    data = load_dataset(exp.dataset, input_shape=(64,))
    X = np.concatenate([data.X_train, data.X_val])
    y = np.concatenate([data.y_train, data.y_val])
    folds = np.r_[np.full(len(data.X_train), -1), np.zeros(len(data.X_val))]
    model = MLPClassifier(hidden_layer_sizes=(100, 30), activation="relu", solver="adam",
                          batch_size=BATCH, max_iter=epochs, n_iter_no_change=10 ** 6, tol=0.0,
                          shuffle=True, random_state=0)
    search = GridSearchCV(model, {"learning_rate_init": axes["training.optimizer.eta"],
                                  "alpha": axes["training.l2"]},
                          cv=PredefinedSplit(folds), n_jobs=2, refit=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X, y)
    return search


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3x3 grid, 5 epochs")
    parser.add_argument("--size", type=int, help="values per axis (default 5; 3 with --quick)")
    parser.add_argument("--epochs", type=int, help="epochs per cell (default 20; 5 with --quick)")
    parser.add_argument("--repeats", type=int, default=1, help="time each search N times, keep the shortest")
    parser.add_argument("--warm", action="store_true",
                        help="time second searches (worker processes already running)")
    args = parser.parse_args()
    global REPEATS, WARM
    REPEATS, WARM = max(1, args.repeats), args.warm
    size = args.size or (3 if args.quick else 5)
    epochs = args.epochs or (5 if args.quick else 20)
    axes, exp = grid(size), experiment(epochs)
    print(f"digits MLP 64-100-30-10, Adam, batch {BATCH}, {epochs} epochs, "
          f"{size}x{size} grid eta x l2 = {size * size} cells")

    print("worker processes: " + ("warm (a second search)" if WARM else "started within each time (cold)"))
    t1, serial = timed("nnviz grid_search, jobs=1", lambda: grid_search(exp, axes, jobs=1), cold_nnviz)
    t2, parallel = timed("nnviz grid_search, jobs=2", lambda: grid_search(exp, axes, jobs=2), cold_nnviz)
    assert [r["val_loss"] for r in serial.rows] == [r["val_loss"] for r in parallel.rows]
    ts, sk = timed("scikit-learn GridSearchCV(MLPClassifier), n_jobs=2",
                   lambda: sklearn_search(exp, axes, epochs), cold_sklearn)
    td = None
    try:
        from distributed import Client, LocalCluster

        from nnviz.core.grid import warm_up
    except ImportError:
        print("  (distributed not installed: pip install nnviz[cluster] for the Dask figure)")
    else:
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=":0") as cluster:
            with Client(cluster) as client:       # long-lived workers: nnviz already imported
                client.run(warm_up)
            td, on_dask = timed("nnviz grid_search on LocalCluster(2 workers)",
                                lambda: grid_search(exp, axes, cluster=cluster))
        assert [r["val_loss"] for r in on_dask.rows] == [r["val_loss"] for r in parallel.rows]

    best = parallel.best()
    print(f"best nnviz cell: eta={best['training.optimizer.eta']}, l2={best['training.l2']}, "
          f"val acc {100 * best['val_accuracy']:.1f}% (scikit-learn best "
          f"{100 * sk.cv_results_['mean_test_score'].max():.1f}%)")
    cell1, cell2 = (np.mean([r["seconds"] for r in res.rows]) for res in (serial, parallel))
    print(f"mean cell time: {cell1:.3f} s alone, {cell2:.3f} s two at a time "
          f"(about equal when two cores are free; twice when other load leaves one)")
    print(f"jobs=1 / jobs=2:            {t1 / t2:5.2f}x   (target >= 1.4)")
    print(f"nnviz jobs=2 / scikit-learn: {t2 / ts:5.2f}    (target <= 0.6)")
    if td is not None:
        print(f"LocalCluster / local jobs=2: {td / t2:5.2f}    (target <= 1.3)")


if __name__ == "__main__":
    main()
