"""RunStatus: the one list of states a run can be in, as stored in the run database."""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """A run's state. A ``StrEnum``: stored and compared as its plain text (``"done"``)."""

    RUNNING = "running"  # recorded when it starts; still training, or cut off (see below)
    DONE = "done"  # trained every epoch and evaluated
    STOPPED = "stopped"  # stopped (or skipped) by the user; the partial model is kept
    FAILED = "failed"  # raised an error; the message is kept
    INTERRUPTED = "interrupted"  # its process or worker died before the run ended
