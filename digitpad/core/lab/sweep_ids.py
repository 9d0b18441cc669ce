"""Sweep ids: the one place that makes them and reads them back.

A sweep id names one table's runs in the store: ``<kind>-<YYYYmmdd-HHMMSS>``, where kind
is an exercise (``ex6``), a custom sweep (``custom-neurons``), or ``lab`` for runs that
earlier versions' ``digitpad lab`` stored under one id for every exercise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

_STAMP = re.compile(r"-(\d{8}-\d{6})$")


@dataclass(frozen=True)
class SweepId:
    """A parsed sweep id: ``kind`` (``ex6``, ``custom``, ``lab``), the custom sweep's
    ``param`` (else None) and the time ``stamp`` it was started."""

    kind: str
    param: str | None
    stamp: str

    def __str__(self) -> str:
        middle = f"-{self.param}" if self.param else ""
        return f"{self.kind}{middle}-{self.stamp}"


def stamp_now() -> str:
    """The time part of new sweep ids (a lab's exercises share one)."""
    return f"{datetime.now():%Y%m%d-%H%M%S}"


def make_sweep_id(sweep_key: str, stamp: str | None = None) -> str:
    """The id of a new run of the sweep ``sweep_key`` (a ``Sweep.id``: ``ex6`` or
    ``custom-neurons``)."""
    return f"{sweep_key}-{stamp or stamp_now()}"


def parse_sweep_id(sweep_id: str) -> SweepId | None:
    """The parts of a sweep id, or None for text that is not one."""
    found = _STAMP.search(sweep_id)
    if not found:
        return None
    head = sweep_id[: found.start()]
    kind, _, param = head.partition("-")
    if not kind or (kind == "custom") != bool(param):
        return None
    return SweepId(kind, param or None, found.group(1))


def sweep_key(sweep_id: str) -> str | None:
    """The ``Sweep.id`` part of a sweep id (``ex6``, ``custom-neurons``), or None."""
    parsed = parse_sweep_id(sweep_id)
    if parsed is None:
        return None
    return f"{parsed.kind}-{parsed.param}" if parsed.param else parsed.kind
