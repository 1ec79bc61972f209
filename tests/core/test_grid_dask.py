"""Grid search on a Dask cluster: a LocalCluster of two worker processes on this machine."""

import pytest

distributed = pytest.importorskip("distributed")

from nnviz.core import Experiment, SpecError, grid_search  # noqa: E402
from nnviz.core import grid_pool  # noqa: E402

EXP = Experiment.from_dict({
    "dataset": {"name": "moons", "n_samples": 200, "noise": 0.2, "seed": 0},
    "model": {"input_shape": [2], "cost": "cross_entropy", "init": "he",
              "layers": [{"type": "dense", "units": 8, "activation": "relu"},
                         {"type": "dense", "units": 2, "activation": "softmax"}]},
    "training": {"optimizer": {"name": "adam", "eta": 0.01}, "epochs": 2, "batch_size": 16}})
AXES = {"training.optimizer.eta": [0.001, 0.05], "training.l2": [0.0, 0.01]}
SAME = ("val_accuracy", "val_loss", "train_loss", "epochs_run", "status")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as local:
        yield local


def test_a_local_cluster_gives_the_same_rows_as_local_processes(cluster):
    on_cluster = grid_search(EXP, AXES, cluster=cluster.scheduler_address)
    local = grid_search(EXP, AXES, jobs=2)
    assert on_cluster.done == 4
    for a, b in zip(on_cluster.rows, local.rows):
        assert {k: a[k] for k in (*AXES, *SAME)} == {k: b[k] for k in (*AXES, *SAME)}
    with distributed.Client(cluster) as client:          # a Client works too
        again = grid_search(EXP, {"training.optimizer.eta": [0.001]}, cluster=client)
        assert again.rows[0]["val_loss"] == local.row((0, 0))["val_loss"]
        assert client.status == "running"                 # ours: not closed by the search


def test_progress_comes_from_the_calling_thread_and_history_is_kept(cluster):
    import threading
    threads = []
    res = grid_search(EXP, {"training.l2": [0.0, 0.01]}, cluster=cluster, history=True,
                      progress=lambda row, done, total: threads.append((done, threading.get_ident())))
    assert [d for d, _ in threads] == [1, 2] and {t for _, t in threads} == {threading.get_ident()}
    assert res.history((1,)).series("val_loss")[1][-1] == res.rows[1]["val_loss"]


def test_an_unreachable_scheduler_is_a_clean_spec_error(monkeypatch):
    from nnviz.core import grid_dask
    monkeypatch.setattr(grid_dask, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(SpecError) as info:
        grid_search(EXP, {"training.l2": [0.0]}, cluster="tcp://127.0.0.1:9")
    assert info.value.field == "cluster" and "cannot reach" in str(info.value)


def test_a_lost_worker_fails_its_cell_and_the_search_goes_on(monkeypatch):
    import dask
    monkeypatch.setenv(grid_pool.DIE_ON_CELL_ENV, "1")        # inherited by the new workers
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     dashboard_address=":0") as local:
        res = grid_search(EXP, {"training.l2": [0.0, 0.001, 0.01]}, cluster=local)
    assert [r["status"] for r in res.rows] == ["ok", "failed", "ok"]
    assert "KilledWorker" in res.rows[1]["message"]
