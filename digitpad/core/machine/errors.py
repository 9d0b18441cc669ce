"""An exception said in one line, the one way every message of DigitPad quotes one."""

from __future__ import annotations


def first_line(exc: BaseException, with_kind: bool = False) -> str:
    """The first line of ``exc``'s text (its class name when it has none); ``with_kind``
    puts the class name first (``MemoryError: ...``), for errors a user reports."""
    text = str(exc).strip()
    if with_kind:
        text = f"{type(exc).__name__}: {text}".strip().removesuffix(":")
    return text.splitlines()[0] if text else type(exc).__name__
