"""The editing panels of the main window: data, model, training, controls."""

from nnviz.gui.panels.controls import ControlsPanel
from nnviz.gui.panels.data_panel import DataPanel
from nnviz.gui.panels.model_builder import LayerRow, ModelBuilder
from nnviz.gui.panels.training_panel import TrainingPanel

__all__ = ["ControlsPanel", "DataPanel", "LayerRow", "ModelBuilder", "TrainingPanel"]
