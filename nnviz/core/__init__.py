"""The nnviz engine: layers, network, optimisers, data sets, training. No Qt here."""

from .catalogue import describe
from .convolution import KERNELS, convolve
from .datasets import load_dataset
from .errors import SpecError, TrainingDiverged
from .experiment import Experiment, list_presets, load_preset
from .grid import GridResult, grid_search
from .network import Network
from .optimizers import make_optimizer
from .runs import Run, RunState
from .schedules import make_schedule
from .snapshot import LayerProbe, Snapshot
from .trace import trace
from .trainer import Trainer

__all__ = ["Network", "make_optimizer", "load_dataset", "Experiment", "Trainer", "list_presets", "load_preset",
           "Snapshot", "LayerProbe", "SpecError", "TrainingDiverged", "describe", "Run",
           "RunState", "convolve", "KERNELS", "trace", "make_schedule", "grid_search", "GridResult"]
