"""The lab's nine exercises in order, and the two that are not a sweep's table: exercise 4
saves the weights, exercise 5 loads them into a fresh network (``FIRST_FIVE``)."""

from __future__ import annotations

from dataclasses import dataclass

# Every exercise, in the lab's order (LAB.md); all but ex5 are sweeps (lab.sweeps.PRESETS).
EXERCISES = ("ex1", "ex2", "ex3", "ex4", "ex5", "ex6", "ex7", "ex8", "ex9")
# The lab's two applications and their exercises: one script (and Code section) each.
APPLICATIONS = {
    1: ("Application 1: the MLP (baseline_model)", ("ex1", "ex2", "ex3", "ex4", "ex5")),
    2: ("Application 2: the CNN (CNN_model)", ("ex6", "ex7", "ex8", "ex9")),
}
# The exercise whose script saves its network's weights (``model.save_weights``).
SAVES_WEIGHTS = "ex4"


@dataclass(frozen=True)
class LoadWeightsExercise:
    """Exercise 5: no training of its own; it reads ``weights_from``'s saved weights."""

    id: str
    title: str
    question: str
    weights_from: str


FIRST_FIVE = LoadWeightsExercise(
    "ex5",
    "Exercise 5: load the weights and predict the first five test images",
    "Load exercise 4's saved weights into a new network and predict the first five test "
    "images: does it read them as the trained network did?",
    weights_from=SAVES_WEIGHTS,
)


def source_exercise(key: str) -> str:
    """The exercise whose runs ``key`` shows: exercise 5 shows exercise 4's."""
    return FIRST_FIVE.weights_from if key == FIRST_FIVE.id else key
