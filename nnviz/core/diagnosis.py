"""Plain-language diagnosis of vanishing and exploding gradients.

The rule compares the back-propagated gradient ||dC/dz|| of the first weighted
layer with that of the last: back propagation multiplies the gradient by one
weight matrix and one activation slope per layer, so a network whose factors
are consistently below (above) one shrinks (grows) the gradient geometrically
on its way to the input.  The verdict and its explanation are written for a
student; the probes say which cause is the likely one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from nnviz.core.snapshot import LayerProbe

VANISHING_RATIO = 1e-2     # first / last below this: vanishing
EXPLODING_RATIO = 1e2      # first / last above this: exploding
SATURATED_HIGH = 0.3       # a sigmoid/tanh layer this saturated explains vanishing
DEAD_HIGH = 0.5            # a ReLU layer with this many dead units explains vanishing

SATURATING = frozenset({"sigmoid", "tanh"})
RELU_FAMILY = frozenset({"relu", "leaky_relu", "elu"})


@dataclass(frozen=True)
class Diagnosis:
    """What is wrong with the gradient flow, and a message saying so."""

    kind: str            # "vanishing" | "exploding" | "non_finite"
    ratio: float         # delta_norm(first weighted layer) / delta_norm(last)
    first_layer: str
    last_layer: str
    message: str


def diagnose_gradients(probes: Sequence[LayerProbe]) -> Diagnosis | None:
    """Diagnose the gradient flow of one snapshot's probes; None when healthy.

    Needs at least two weighted layers.  Non-finite norms win over the ratio
    rule; a last layer with no gradient at all (a perfect fit) gives None.
    """
    probes = list(probes)
    if len(probes) < 2:
        return None
    first, last = probes[0], probes[-1]
    ratio = _ratio(first.delta_norm, last.delta_norm)
    bad = [p for p in probes if not _all_finite(p)]
    if bad:
        return Diagnosis("non_finite", ratio, first.name, last.name,
                         _non_finite_message(bad))
    if last.delta_norm == 0.0:
        return None
    if ratio < VANISHING_RATIO:
        kind = "vanishing"
        cause, advice = _vanishing_cause(probes[:-1])
    elif ratio > EXPLODING_RATIO:
        kind = "exploding"
        cause, advice = _exploding_cause(probes[:-1])
    else:
        return None
    message = (f"{_comparison(kind, ratio, first.name, last.name)} "
               f"Likely cause: {cause} Try: {advice}")
    return Diagnosis(kind, ratio, first.name, last.name, message)


def format_factor(x: float) -> str:
    """A ratio as a student reads it aloud: "10,000", "3.5 million", "10^15"."""
    if not math.isfinite(x):
        return "infinitely many"
    if x < 10:
        return f"{x:.1f}"
    if x < 1e6:
        return f"{_round_sig(x, 2):,.0f}"
    for scale, word in ((1e9, "million"), (1e12, "billion")):
        if x < scale:
            return f"{_round_sig(x / (scale / 1e3), 2):g} {word}"
    return f"10^{round(math.log10(x))}"


def _ratio(first: float, last: float) -> float:
    if not (math.isfinite(first) and math.isfinite(last)) or last == 0.0:
        return math.nan
    return first / last


def _all_finite(p: LayerProbe) -> bool:
    return all(math.isfinite(v) for v in (p.weight_grad_norm, p.delta_norm, p.weight_norm))


def _round_sig(x: float, digits: int) -> float:
    return round(x, digits - 1 - int(math.floor(math.log10(abs(x)))))


def _comparison(kind: str, ratio: float, first: str, last: str) -> str:
    if kind == "vanishing":
        if ratio == 0.0:
            how = "gets no gradient at all, while the last layer does"
        else:
            how = f"gets {format_factor(1 / ratio)}x less gradient than the last layer"
        return (f"Vanishing gradients: the first layer ({first}) {how} ({last}), "
                "so the early layers barely learn.")
    return (f"Exploding gradients: the first layer ({first}) gets "
            f"{format_factor(ratio)}x more gradient than the last layer ({last}), "
            "so the early layers take huge, unstable steps.")


def _vanishing_cause(hidden: list[LayerProbe]) -> tuple[str, str]:
    saturating = [p for p in hidden if p.activation in SATURATING]
    worst = max(saturating, key=lambda p: p.saturated_fraction, default=None)
    if worst is not None and worst.saturated_fraction >= SATURATED_HIGH:
        return (f"saturating activation: {worst.saturated_fraction:.0%} of the units of "
                f"{worst.name} sit on the flat ends of {worst.activation}, where its slope "
                "is almost zero, so hardly any gradient passes through.",
                _advice_for(worst.activation))
    if worst is not None:
        return ("initialisation too small for a saturating activation: "
                f"{worst.activation}'s slope is at most {_max_slope(worst.activation)} "
                "and the small weights do not make up for it, so every layer shrinks "
                "the gradient.",
                _advice_for(worst.activation))
    dead = max((p for p in hidden if p.activation in RELU_FAMILY),
               key=lambda p: p.dead_fraction, default=None)
    if dead is not None and dead.dead_fraction >= DEAD_HIGH:
        return (f"dead ReLUs: {dead.dead_fraction:.0%} of the units of {dead.name} never "
                "switch on, and a unit that is off passes no gradient back.",
                "He initialisation, a smaller learning rate, or leaky_relu; "
                "batch norm also helps.")
    return ("initialisation too small: every layer's weights shrink the gradient a little "
            "on its way back.",
            "ReLU with He initialisation (Xavier for tanh), or batch norm.")


def _exploding_cause(hidden: list[LayerProbe]) -> tuple[str, str]:
    relu = [p for p in hidden if p.activation in RELU_FAMILY]
    if relu:
        big = max(relu, key=lambda p: p.weight_norm)
        return ("initialisation too large for ReLU: ReLU passes the gradient on unchanged, "
                f"so the large weights (||W|| = {big.weight_norm:.3g} in {big.name}) "
                "multiply it up at every layer.",
                "He initialisation (N(0, 2/n_in)), gradient clipping, a smaller learning "
                "rate, or batch norm.")
    return ("initialisation too large: the weights multiply the gradient up at every "
            "layer on its way back.",
            "Xavier initialisation (for tanh or sigmoid), gradient clipping, a smaller "
            "learning rate, or batch norm.")


def _non_finite_message(bad: list[LayerProbe]) -> str:
    names = ", ".join(p.name for p in bad)
    return (f"Training blew up: the gradients in {names} are no longer numbers "
            "(NaN or infinity). Likely cause: learning rate too large, so each step overshoots "
            "and the weights grow without bound. Try: a learning rate 10x smaller, "
            "gradient clipping, batch norm, or a gentler initialisation (He for ReLU, "
            "Xavier for tanh).")


def _advice_for(activation: str) -> str:
    if activation == "tanh":
        return ("Xavier initialisation for tanh, or ReLU with He initialisation; "
                "batch norm also helps.")
    return ("ReLU with He initialisation instead of sigmoid (or tanh with Xavier "
            "initialisation); batch norm also helps.")


def _max_slope(activation: str) -> str:
    return "1/4" if activation == "sigmoid" else "1"
