"""The step-through order of the back-propagation inspector, without Qt.

A network of L layers is revealed in 2L + 3 stages: the input, then z and a of
layer 1 … L (the forward pass), the cost, then δ of layer L … 1 (the backward
pass), and last the parameter gradients.  ``Stepper.shows(quantity, layer)``
says whether a number is revealed yet; the diagram leaves the others blank.
Outside step mode everything is shown.
"""

from __future__ import annotations

QUANTITIES = ("input", "z", "a", "cost", "delta", "grad")


class Stepper:
    """Which stage of the forward/backward walk is revealed (``stage`` counts from 0)."""

    def __init__(self, n_layers: int = 0):
        self.n_layers = int(n_layers)
        self.active = False           # step mode on: only stages <= ``stage`` are shown
        self.stage = 0

    @property
    def n_stages(self) -> int:
        return 2 * self.n_layers + 3

    def start(self, n_layers: int | None = None) -> None:
        """Step mode from the first stage (the input only)."""
        if n_layers is not None:
            self.n_layers = int(n_layers)
        self.active = True
        self.stage = 0

    def stop(self) -> None:
        """Leave step mode: every number is shown."""
        self.active = False

    @property
    def finished(self) -> bool:
        return self.stage >= self.n_stages - 1

    def advance(self) -> bool:
        """One stage further (from the last one back to the first); False if not stepping."""
        if not self.active:
            return False
        self.stage = 0 if self.finished else self.stage + 1
        return True

    def stage_of(self, quantity: str, layer: int | None = None) -> int:
        """The stage at which ``quantity`` of ``layer`` (0-based) appears."""
        L = self.n_layers
        if quantity == "input":
            return 0
        if quantity in ("z", "a"):
            return 1 + int(layer)
        if quantity == "cost":
            return L + 1
        if quantity == "delta":
            return L + 2 + (L - 1 - int(layer))
        if quantity == "grad":
            return 2 * L + 2
        raise ValueError(f"unknown quantity {quantity!r}; use one of {QUANTITIES}")

    def shows(self, quantity: str, layer: int | None = None) -> bool:
        """Is ``quantity`` of ``layer`` revealed now?"""
        return not self.active or self.stage_of(quantity, layer) <= self.stage

    def label(self, stage: int | None = None) -> str:
        """What stage ``stage`` (default: the current one) reveals, in words."""
        s = self.stage if stage is None else int(stage)
        L = self.n_layers
        if s == 0:
            return "input x"
        if s <= L:
            return f"forward: layer {s}: z = W·a + b, a = σ(z)"
        if s == L + 1:
            return "cost C"
        if s <= 2 * L + 1:
            layer = 2 * L + 2 - s          # 1-based layer number
            if layer == L:
                return f"backward: δ of the output layer {layer}"
            return f"backward: δ of layer {layer} = (W·δ of layer {layer + 1}) ⊙ σ′(z)"
        return "gradients: ∂C/∂W = a_prev δ, ∂C/∂b = δ"
