"""Name a network on the command line: a shipped one (``best``, ``mlp``, ``cnn``) or a run
(``run:N``), resolved to the ``ModelSource`` every reader takes."""

from __future__ import annotations

from digitpad.core.inference.predictor import ModelSource, WeightsError, run_source
from digitpad.core.inference.weights import FALLBACK_ORDER
from digitpad.core.store.runs import RunStore

RUN_PREFIX = "run:"


class ModelRefError(ValueError):
    """A network name that names no network; the message says what would."""


def resolve_model(ref: str, store: RunStore) -> ModelSource:
    """``best``/``mlp``/``cnn`` -> the shipped network; ``run:N`` -> run N's saved network."""
    ref = ref.strip()
    if ref in FALLBACK_ORDER:
        return ModelSource.shipped(ref)
    if not ref.startswith(RUN_PREFIX):
        raise ModelRefError(
            f"unknown network {ref!r}: use {', '.join(FALLBACK_ORDER)} or run:N "
            "(a run's number, from `digitpad runs`)"
        )
    number = ref.removeprefix(RUN_PREFIX)
    if not number.isdigit():
        raise ModelRefError(f"{ref!r} is not a run: write run:N with N a run's number, e.g. run:3")
    record = store.get(int(number))
    if record is None:
        raise ModelRefError(f"there is no run {number} in {store.path}; `digitpad runs` lists them")
    try:
        return run_source(record)
    except WeightsError as exc:
        raise ModelRefError(f"{exc}; pick a finished run that saved its network") from exc
