"""Learning-rate schedules, per epoch, with the values of PyTorch's lr_scheduler.

``make_schedule(spec, eta)`` returns the function epoch -> learning rate for a
base rate ``eta`` (epochs count from 0; epoch e uses the rate PyTorch's
scheduler gives after e calls of ``scheduler.step()``):

=============  ============================================================  ==================
name           rate in epoch e                                               PyTorch
=============  ============================================================  ==================
constant       η
step           η·γ^⌊e / step_size⌋                                           StepLR
multistep      η·γ^(number of milestones <= e)                               MultiStepLR
exponential    η·γ^e                                                         ExponentialLR
cosine         η_min + (η − η_min)·(1 + cos(π·e / t_max)) / 2                CosineAnnealingLR
linear         η·(s + (f − s)·min(e, total_iters) / total_iters)             LinearLR
=============  ============================================================  ==================

(cosine is PyTorch's closed form, which keeps following the cosine after t_max).
Parameters and defaults are declared in ``catalogue.SCHEDULES``.
"""

from __future__ import annotations

import bisect
import math
from typing import Any, Callable, Mapping

from .catalogue import DEFAULT_SCHEDULE, SCHEDULES, check_params, show_value
from .errors import SpecError

__all__ = ["make_schedule", "normalise_schedule"]

Schedule = Callable[[int], float]


def normalise_schedule(spec: str | Mapping[str, Any] | None,
                       field: str = "training.schedule") -> dict:
    """``{"name": ..., every parameter}`` checked against the catalogue (None: constant)."""
    if spec is None:
        spec = DEFAULT_SCHEDULE
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, Mapping):
        raise SpecError(field, f"must be a name or an object, got {show_value(spec)}",
                        'e.g. {"name": "cosine", "t_max": 20}')
    name = spec.get("name", DEFAULT_SCHEDULE)
    if not isinstance(name, str) or name not in SCHEDULES:
        raise SpecError(f"{field}.name", f"unknown schedule {show_value(name)}",
                        "choose one of: " + ", ".join(SCHEDULES))
    values = check_params(SCHEDULES[name], spec, field, skip=("name",))
    milestones = values.get("milestones")
    if milestones is not None and any(b <= a for a, b in zip(milestones, milestones[1:])):
        raise SpecError(f"{field}.milestones", f"must be increasing, got {milestones}",
                        "list the epochs in order, each once, e.g. [10, 20]")
    return {"name": name, **values}


def make_schedule(spec: str | Mapping[str, Any] | None, eta: float,
                  field: str = "training.schedule") -> Schedule:
    """The function epoch -> learning rate of ``spec`` for the base rate ``eta``."""
    p = normalise_schedule(spec, field)
    name = p["name"]
    if name == "constant":
        return lambda epoch: eta
    if name == "step":
        return lambda epoch: eta * _power(p["gamma"], epoch // p["step_size"])
    if name == "multistep":
        return lambda epoch: eta * _power(p["gamma"], bisect.bisect_right(p["milestones"], epoch))
    if name == "exponential":
        return lambda epoch: eta * _power(p["gamma"], epoch)
    if name == "cosine":
        low, t_max = p["eta_min"], p["t_max"]
        return lambda epoch: low + (eta - low) * (1 + math.cos(math.pi * epoch / t_max)) / 2
    start, end, total = p["start_factor"], p["end_factor"], p["total_iters"]
    return lambda epoch: eta * (start + (end - start) * min(epoch, total) / total)


def _power(gamma: float, n: int) -> float:
    """gamma ** n, inf instead of OverflowError (a growing rate: training will diverge)."""
    try:
        return gamma ** n
    except OverflowError:
        return math.inf
