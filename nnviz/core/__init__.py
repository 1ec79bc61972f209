"""The nnviz engine: layers, network, optimisers, data sets, training. No Qt here."""

from .datasets import load_dataset
from .errors import SpecError, TrainingDiverged
from .experiment import Experiment, list_presets, load_preset
from .network import Network
from .optimizers import make_optimizer
from .snapshot import LayerProbe, Snapshot
from .trainer import Trainer
from .trace import trace

__all__ = ["Network", "make_optimizer", "load_dataset", "Experiment", "Trainer", "list_presets", "load_preset",
           "Snapshot", "LayerProbe", "SpecError", "TrainingDiverged", "trace"]
