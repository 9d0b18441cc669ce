"""How a stored run is named as a network: ``run:N``, built and read here only (the
command line's ``--model run:12``, the cached scores on My digits, the pinned networks)."""

from __future__ import annotations

RUN_REF_PREFIX = "run:"
MAX_RUN_ID = 2**63 - 1  # SQLite's largest integer: no run can have a larger number


def run_ref(run_id: int) -> str:
    """The name of run ``run_id``'s network: ``run:12``."""
    return f"{RUN_REF_PREFIX}{int(run_id)}"


def parse_run_ref(text: str) -> int | None:
    """The run id in ``run:12``; None when ``text`` does not start with ``run:``.
    ``ValueError`` (naming the fix) when it does but names no run number."""
    text = text.strip()
    if not text.startswith(RUN_REF_PREFIX):
        return None
    number = text.removeprefix(RUN_REF_PREFIX)
    if not (number.isascii() and number.isdigit()) or int(number) > MAX_RUN_ID:
        raise ValueError(f"{text!r} is not a run: write run:N with N a run's number, e.g. run:3")
    return int(number)
