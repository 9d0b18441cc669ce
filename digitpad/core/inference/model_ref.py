"""Name a network: a shipped one (``best``, ``cnn_deep``, ``mlp``) or a run (``run:N``),
resolved to the ``ModelSource`` every reader takes; and the list of every network."""

from __future__ import annotations

from collections.abc import Iterable

from digitpad.core.inference.predictor import ModelSource, WeightsError, run_source
from digitpad.core.inference.weights import FALLBACK_ORDER, RENAMED
from digitpad.core.store.run_refs import parse_run_ref, run_ref
from digitpad.core.store.runs import RunRecord, RunStore


class ModelRefError(ValueError):
    """A network name that names no network; the message says what would."""


def resolve_model(ref: str, store: RunStore) -> ModelSource:
    """A shipped network's name -> that network; ``run:N`` -> run N's saved network."""
    ref = ref.strip()
    if ref in FALLBACK_ORDER:
        return ModelSource.shipped(ref)
    if ref in RENAMED:
        new, why = RENAMED[ref]
        raise ModelRefError(f"{ref!r} is no network's name now: {why}; use {new}")
    try:
        number = parse_run_ref(ref)
    except ValueError as exc:
        raise ModelRefError(str(exc)) from exc
    if number is None:
        raise ModelRefError(
            f"unknown network {ref!r}: use {', '.join(FALLBACK_ORDER)} or run:N "
            "(a run's number, from `digitpad runs`)"
        )
    record = store.get(number)
    if record is None:
        raise ModelRefError(f"there is no run {number} in {store.path}; `digitpad runs` lists them")
    try:
        return run_source(record)
    except WeightsError as exc:
        raise ModelRefError(f"{exc}; pick a finished run that saved its network") from exc


def network_ref(source: ModelSource) -> str:
    """What names ``source`` wherever a network is named: ``run:N`` or a shipped name."""
    return source.name if source.run_id is None else run_ref(source.run_id)


def every_network(runs: Iterable[RunRecord]) -> tuple[list[ModelSource], list[str]]:
    """The shipped networks (in the canvas' order), then ``runs`` that kept a network, in
    their order; and why each shipped one that cannot be used was left out."""
    sources, problems = [], []
    for name in FALLBACK_ORDER:
        try:
            sources.append(ModelSource.shipped(name))
        except WeightsError as exc:
            problems.append(str(exc))
    sources += [run_source(record) for record in runs if record.has_model]
    return sources, problems
