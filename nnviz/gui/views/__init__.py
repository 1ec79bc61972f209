"""The views: curve views take Snapshots, data views take arrays computed in the worker."""

from nnviz.gui.views.activation_view import ActivationView
from nnviz.gui.views.conv_view import ConvView
from nnviz.gui.views.gradient_view import GradientView
from nnviz.gui.views.loss_view import LossView
from nnviz.gui.views.network_view import NetworkView
from nnviz.gui.views.output_view import OutputView

__all__ = ["ActivationView", "ConvView", "GradientView", "LossView", "NetworkView", "OutputView"]
