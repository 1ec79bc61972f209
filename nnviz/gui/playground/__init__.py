"""The kernel playground: one kernel on one image, stage by stage (objectName kernelPlayground)."""

from nnviz.gui.playground.widget import KernelPlayground

__all__ = ["KernelPlayground"]
