"""Plain-language diagnosis of the gradient flow, at any point of training.

The rule compares the back-propagated gradient ||dC/dz|| of the first weighted
layer with that of the last: back propagation multiplies the gradient by one
weight matrix and one activation slope per layer, so a network whose factors
are consistently below (above) one shrinks (grows) the gradient geometrically
on its way to the input.  A ReLU network whose units have switched off is
diagnosed even when the ratio looks normal: it has stopped learning.

The cause depends on where training is.  The initialisation is blamed only
while the weights are still close to their initial size (``LayerProbe.
initial_weight_norm``) and only in the direction their gain says (a ReLU
network with N(0, 1) weights is never "initialised too small"); after the
weights have moved, units that died or saturated point at the learning rate.
Snapshots also carry the loss so far, so the evidence can name a loss spike.

The verdict is one short sentence with the likely cause and the advice
(``message``, for a banner); the numbers behind it are in ``details``.
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
INACTIVE_HIGH = 0.9        # a ReLU layer with this share of its outputs at 0 has switched off
MANY_OFF = 0.7             # ... this share of outputs at 0 thins the gradient's paths
NEAR_INIT = 2.0            # ||W|| within this factor of its initial size: still "the initialisation"
GAIN_LARGE = 3.0           # sqrt(fan_in * mean W^2) above this is too large for ReLU (He: 1.41)
GAIN_SMALL = 1.0           # below this, too small for ReLU
LOSS_SPIKE = 10.0          # a peak loss this many times the baseline is a spike
STUCK = 0.9                # a loss above this share of the baseline: nothing learned

SATURATING = frozenset({"sigmoid", "tanh"})
RELU_FAMILY = frozenset({"relu", "leaky_relu", "elu"})
HARD_ZERO = frozenset({"relu"})   # an "off" unit passes no gradient at all (leaky/elu still do)
#: The gradient a diagnosis measures, as the gradient plot names it.
QUANTITY_LABELS = {"delta": "‖∂C/∂z‖", "weight": "‖∂C/∂W‖"}
_HE_GAIN = math.sqrt(2.0)


@dataclass(frozen=True)
class Diagnosis:
    """What is wrong with the gradient flow, and a message saying so."""

    kind: str            # "vanishing" | "exploding" | "collapsed" | "non_finite"
    ratio: float         # delta_norm(first weighted layer) / delta_norm(last)
    first_layer: str
    last_layer: str
    message: str         # one sentence, the likely cause and the advice (for a banner)
    details: str = ""    # the evidence: per-layer numbers, weights' growth, the loss
    cause: str = ""      # "saturation" | "small_init" | "large_init" | "slope" |
    #                      "learning_rate" | "dead_units" | "depth"
    quantity: str = "delta"   # the gradient compared: "delta" ||dC/dz|| or "weight" ||dC/dW||
    weight_ratio: float = math.nan   # the same ratio of ||dC/dW||, for a plot of that

    @property
    def quantity_label(self) -> str:
        """The measured gradient as the plot's title writes it, e.g. "‖∂C/∂z‖"."""
        return QUANTITY_LABELS[self.quantity]


@dataclass(frozen=True)
class _Losses:
    now: float = math.nan        # the snapshot's (running) training loss
    baseline: float = math.nan   # always predicting the mean target
    peak: float = math.nan
    peak_step: int = 0


def diagnose_gradients(source) -> Diagnosis | None:
    """Diagnose a Snapshot (or one snapshot's probes); None when healthy.

    Needs at least two weighted layers.  Non-finite norms win over the ratio
    rule; a last layer with no gradient at all (a perfect fit) gives None.
    A Snapshot also gives the loss so far, for the evidence.
    """
    probes, losses = _unpack(source)
    if len(probes) < 2:
        return None
    first, last = probes[0], probes[-1]
    ratio = _ratio(first.delta_norm, last.delta_norm)
    bad = [p for p in probes if not _all_finite(p)]
    if bad:
        return _non_finite(bad, ratio, first, last)
    if last.delta_norm == 0.0:
        return None
    hidden = probes[:-1]
    off = _switched_off(hidden)
    if ratio < VANISHING_RATIO:
        kind, (cause, why, advice) = "vanishing", _vanishing_cause(hidden, probes, off)
    elif ratio > EXPLODING_RATIO:
        kind, (cause, why, advice) = "exploding", _exploding_cause(hidden, probes)
    elif off:
        kind, (cause, why, advice) = "collapsed", _off_cause(off, probes)
    else:
        return None
    message = f"{_headline(kind, ratio, first.name, last.name, off)} Likely cause: {why} Try: {advice}"
    return Diagnosis(kind, ratio, first.name, last.name, message,
                     _details(probes, losses, ratio), cause,
                     weight_ratio=_ratio(first.weight_grad_norm, last.weight_grad_norm))


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


# ---------------------------------------------------------------------- measures

def _unpack(source) -> tuple[list[LayerProbe], _Losses]:
    layers = getattr(source, "layers", None)
    if layers is None:
        return list(source), _Losses()
    return list(layers), _Losses(_float(getattr(source, "train_loss", math.nan)),
                                 _float(getattr(source, "baseline_loss", math.nan)),
                                 _float(getattr(source, "peak_loss", math.nan)),
                                 int(getattr(source, "peak_step", 0) or 0))


def _float(value) -> float:
    return math.nan if value is None else float(value)


def _ratio(first: float, last: float) -> float:
    if not (math.isfinite(first) and math.isfinite(last)) or last == 0.0:
        return math.nan
    return first / last


def _all_finite(p: LayerProbe) -> bool:
    return all(math.isfinite(v) for v in (p.weight_grad_norm, p.delta_norm, p.weight_norm))


def _round_sig(x: float, digits: int) -> float:
    return round(x, digits - 1 - int(math.floor(math.log10(abs(x)))))


def _growth(p: LayerProbe) -> float:
    """||W|| now over ||W|| before training (NaN when the start is unknown)."""
    start = p.initial_weight_norm
    return p.weight_norm / start if math.isfinite(start) and start > 0 else math.nan


def _most_moved(probes: Sequence[LayerProbe]) -> LayerProbe | None:
    """The layer whose weights moved furthest from their initial size (None: unknown)."""
    known = [p for p in probes if math.isfinite(_growth(p))]
    return max(known, key=lambda p: abs(math.log(max(_growth(p), 1e-300))), default=None)


def _near_init(probes: Sequence[LayerProbe]) -> bool:
    """Weights still within NEAR_INIT of their initial size (True when unknown)."""
    moved = _most_moved(probes)
    return moved is None or 1 / NEAR_INIT <= _growth(moved) <= NEAR_INIT


def _switched_off(hidden: Sequence[LayerProbe]) -> list[LayerProbe]:
    """Hidden ReLU layers most of whose units are dead or outputs are zero."""
    return [p for p in hidden if p.activation in HARD_ZERO
            and (p.dead_fraction >= DEAD_HIGH or p.inactive_fraction >= INACTIVE_HIGH)]


def _off_text(p: LayerProbe) -> str:
    if p.dead_fraction >= DEAD_HIGH:
        return f"{p.dead_fraction:.0%} of the units of {p.name} never switch on"
    return f"{p.inactive_fraction:.0%} of the outputs of {p.name} are 0"


def _largest_gain(probes: Sequence[LayerProbe]) -> LayerProbe | None:
    known = [p for p in probes if math.isfinite(p.weight_gain)]
    return max(known, key=lambda p: p.weight_gain, default=None)


# ---------------------------------------------------------------------- causes
# Each returns (cause key, the cause in a sentence, the advice).

def _vanishing_cause(hidden, probes, off) -> tuple[str, str, str]:
    at_init = _near_init(probes)
    saturating = [p for p in hidden if p.activation in SATURATING]
    worst = max(saturating, key=lambda p: p.saturated_fraction, default=None)
    if worst is not None and worst.saturated_fraction >= SATURATED_HIGH:
        why = (f"saturating activation: {worst.saturated_fraction:.0%} of the units of "
               f"{worst.name} sit on the flat ends of {worst.activation}, where its slope "
               "is almost zero, so hardly any gradient passes through.")
        advice = _advice_for(worst.activation)
        if not at_init:
            advice = "a smaller learning rate or some L2 (the weights have grown), or " + advice
        return "saturation", why, advice
    if off:
        return _off_cause(off, probes)
    if worst is not None:
        gain = worst.weight_gain
        if at_init and not gain >= (4.0 if worst.activation == "sigmoid" else 2.0):
            return ("small_init",
                    "initialisation too small for a saturating activation: "
                    f"{worst.activation}'s slope is at most {_max_slope(worst.activation)} "
                    "and the small weights do not make up for it, so every layer shrinks "
                    "the gradient.", _advice_for(worst.activation))
        return ("slope",
                f"{worst.activation}'s slope is at most {_max_slope(worst.activation)}, so "
                "every layer shrinks the gradient a little on its way back.",
                _advice_for(worst.activation))
    relu = [p for p in hidden if p.activation in RELU_FAMILY]
    big = _largest_gain(relu)
    if at_init and (big is None or big.weight_gain < GAIN_SMALL):
        return ("small_init",
                "initialisation too small: every layer's weights shrink the gradient a little "
                "on its way back.",
                "ReLU with He initialisation (Xavier for tanh), or batch norm.")
    thin = max(relu, key=lambda p: p.inactive_fraction, default=None)
    if thin is not None and thin.inactive_fraction >= MANY_OFF:
        return ("dead_units",
                f"many units are off: {thin.inactive_fraction:.0%} of the outputs of "
                f"{thin.name} are 0, so the gradient reaches the early layers through few "
                "paths.", _relu_advice(at_init, big))
    return ("depth", "the gradient shrinks a little at every layer on its way back.",
            "batch norm, fewer layers, or He initialisation for ReLU.")


def _off_cause(off, probes) -> tuple[str, str, str]:
    """Why ReLU units switched off: too-large initial weights, or too large steps."""
    worst = max(off, key=lambda p: (p.dead_fraction, p.inactive_fraction))
    big = _largest_gain([p for p in probes[:-1] if p.activation in RELU_FAMILY])
    if _near_init(probes) and big is not None and big.weight_gain >= GAIN_LARGE:
        return ("large_init",
                f"dead ReLUs: {_off_text(worst)}, because the initial weights are too large "
                f"for ReLU (gain {big.weight_gain:.2g} in {big.name}; He's is "
                f"{_HE_GAIN:.2g}) and blew the activations up.",
                "He initialisation (N(0, 2/n_in)); batch norm also helps.")
    if big is None:   # nothing known about the weights
        return ("dead_units",
                f"dead ReLUs: {_off_text(worst)}, and a unit that is off passes no gradient back.",
                "He initialisation, a smaller learning rate, or leaky_relu; "
                "batch norm also helps.")
    return ("learning_rate",
            f"dead ReLUs: {_off_text(worst)}: too large a learning rate pushed them below "
            "zero, where they get no gradient to recover.",
            "a learning rate 10x smaller, leaky_relu, or gradient clipping; batch norm "
            "also helps.")


def _exploding_cause(hidden, probes) -> tuple[str, str, str]:
    relu = [p for p in hidden if p.activation in RELU_FAMILY]
    if not _near_init(probes):
        moved = _most_moved(probes)
        return ("learning_rate",
                f"the weights have grown {format_factor(_growth(moved))}x since the start "
                f"(||W|| = {moved.weight_norm:.3g} in {moved.name}), so they multiply the "
                "gradient up at every layer: the learning rate is probably too large.",
                "a learning rate 10x smaller, gradient clipping, or some L2.")
    big_gain = _largest_gain(relu or hidden)
    if big_gain is not None and big_gain.weight_gain < GAIN_LARGE:
        return ("learning_rate",
                "the steps are too large: with weights of a sensible size (gain "
                f"{big_gain.weight_gain:.2g} in {big_gain.name}), only too large a learning "
                "rate makes the activations and gradients blow up.",
                "a learning rate 10x smaller, or gradient clipping.")
    if relu:
        big = max(relu, key=lambda p: p.weight_norm)
        return ("large_init",
                "initialisation too large for ReLU: ReLU passes the gradient on unchanged, "
                f"so the large weights (||W|| = {big.weight_norm:.3g} in {big.name}) "
                "multiply it up at every layer.",
                "He initialisation (N(0, 2/n_in)), gradient clipping, a smaller learning "
                "rate, or batch norm.")
    return ("large_init",
            "initialisation too large: the weights multiply the gradient up at every "
            "layer on its way back.",
            "Xavier initialisation (for tanh or sigmoid), gradient clipping, a smaller "
            "learning rate, or batch norm.")


def _relu_advice(at_init: bool, big: LayerProbe | None) -> str:
    if at_init and big is not None and big.weight_gain >= GAIN_LARGE:
        return "He initialisation (N(0, 2/n_in)); batch norm also helps."
    return "a smaller learning rate, leaky_relu, or batch norm."


# ---------------------------------------------------------------------- text

def _headline(kind: str, ratio: float, first: str, last: str, off) -> str:
    symbol = QUANTITY_LABELS["delta"]
    if kind == "vanishing":
        if ratio == 0.0:
            how = "gets no gradient at all, while the last layer does"
        else:
            how = f"gets {format_factor(1 / ratio)}x less gradient than the last layer"
        return (f"Vanishing gradients ({symbol}): the first layer ({first}) {how} ({last}), "
                "so the early layers barely learn.")
    if kind == "exploding":
        return (f"Exploding gradients ({symbol}): the first layer ({first}) gets "
                f"{format_factor(ratio)}x more gradient than the last layer ({last}), "
                "so the early layers take huge, unstable steps.")
    names = (", ".join(p.name for p in off) if len(off) <= 2
             else f"{len(off)} layers ({off[0].name} to {off[-1].name})")
    return (f"Units switched off: most units of {names} output 0, so little gradient "
            "flows back and the network learns little or nothing.")


def _details(probes: Sequence[LayerProbe], losses: _Losses, ratio: float) -> str:
    """The evidence, one fact per line."""
    weights = _ratio(probes[0].weight_grad_norm, probes[-1].weight_grad_norm)   # as weight_ratio
    lines = [f"{QUANTITY_LABELS['delta']} first / last layer: {ratio:.3g} "
             f"({QUANTITY_LABELS['weight']}: {weights:.3g}; the weight gradient also "
             "scales with the layer's input, so it can look level while ‖∂C/∂z‖ is not)"]
    for p in probes:
        facts = [f"‖∂C/∂z‖ {p.delta_norm:.3g}", f"‖W‖ {p.weight_norm:.3g}"]
        growth = _growth(p)
        if math.isfinite(growth):
            facts.append(f"{growth:.3g}x its initial size")
        if math.isfinite(p.weight_gain):
            facts.append(f"gain {p.weight_gain:.2g}")
        if p.activation in RELU_FAMILY:
            facts.append(f"{p.dead_fraction:.0%} units dead, {p.inactive_fraction:.0%} outputs 0")
        if p.activation in SATURATING:
            facts.append(f"{p.saturated_fraction:.0%} saturated")
        lines.append(f"{p.name}: " + ", ".join(facts))
    if math.isfinite(losses.baseline):
        if losses.peak > LOSS_SPIKE * losses.baseline:
            lines.append(f"the loss spiked to {losses.peak:.3g} at step {losses.peak_step} "
                         f"(always guessing the average target gives {losses.baseline:.3g})")
        if losses.now >= STUCK * losses.baseline:
            lines.append(f"the loss now ({losses.now:.3g}) is no better than always guessing "
                         f"the average target ({losses.baseline:.3g})")
    return "\n".join(lines)


def _non_finite(bad, ratio, first, last) -> Diagnosis:
    names = ", ".join(p.name for p in bad)
    message = (f"Training blew up: the gradients in {names} are no longer numbers "
               "(NaN or infinity). Likely cause: learning rate too large, so each step "
               "overshoots and the weights grow without bound. Try: a learning rate 10x "
               "smaller, gradient clipping, batch norm, or a gentler initialisation (He for "
               "ReLU, Xavier for tanh).")
    details = "\n".join(f"{p.name}: ‖∂C/∂W‖ {p.weight_grad_norm:.3g}, ‖∂C/∂z‖ "
                        f"{p.delta_norm:.3g}, ‖W‖ {p.weight_norm:.3g}" for p in bad)
    return Diagnosis("non_finite", ratio, first.name, last.name, message, details,
                     "learning_rate")


def _advice_for(activation: str) -> str:
    if activation == "tanh":
        return ("Xavier initialisation for tanh, or ReLU with He initialisation; "
                "batch norm also helps.")
    return ("ReLU with He initialisation instead of sigmoid (or tanh with Xavier "
            "initialisation); batch norm also helps.")


def _max_slope(activation: str) -> str:
    return "1/4" if activation == "sigmoid" else "1"
