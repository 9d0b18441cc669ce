"""The report's findings: each template on made-up sweeps (rising, falling, flat, mixed,
one value, missing values), saying what the numbers show and nothing more."""

from __future__ import annotations

from digitpad.core.report import findings as words

NEURONS = ["8", "16", "32", "64", "128"]


def test_a_row_rising_at_every_step_is_named_with_its_ends_and_its_gain():
    values = [0.921, 0.940, 0.951, 0.970, 0.976]
    text = words.trend_sentence(words.ACCURACY, "neurons", NEURONS, values)
    assert text.startswith("Accuracy rises at every step")
    assert "0.9210 (8 neurons)" in text and "0.9760 (128 neurons)" in text
    assert f"{(0.976 - 0.921) * 100:+.1f} points" in text


def test_a_falling_time_says_how_many_times_shorter():
    text = words.trend_sentence(words.TIME, "batch_size", NEURONS, [120.0, 67.0, 25.0, 17.5, 11.0])
    assert text.startswith("Time falls at every step")
    assert f"{120.0 / 11.0:.1f}× shorter" in text and "batch 8" in text


def test_a_flat_row_is_called_flat_and_never_a_rise():
    text = words.trend_sentence(
        words.ACCURACY, "neurons", NEURONS, [0.9800, 0.9803, 0.9801, 0.9804, 0.9806]
    )
    assert text.startswith("Accuracy stays flat") and "rise" not in text
    assert "0.9800" in text and "0.9806" in text


def test_a_mixed_row_names_the_steps_against_its_direction():
    values = [0.9712, 0.9796, 0.9794, 0.9814, 0.9853]  # the report's exercise 7
    text = words.trend_sentence(words.ACCURACY, "neurons", NEURONS, values)
    assert "rises overall" in text and "not at every step" in text
    assert "falls from 16 neurons to 32 neurons (0.9796 to 0.9794)" in text


def test_a_row_without_a_direction_gives_its_highest_and_lowest_only():
    values = [0.950, 0.970, 0.940, 0.965, 0.950]  # ends where it began
    text = words.trend_sentence(words.ACCURACY, "neurons", NEURONS, values)
    assert "no steady direction" in text
    assert "highest 0.9700 at 16 neurons" in text and "lowest 0.9400 at 32 neurons" in text
    assert "rises" not in text and "falls" not in text


def test_one_value_has_no_trend_and_missing_values_are_named():
    one = words.trend_sentence(words.ACCURACY, None, ["result"], [0.9917])
    assert "0.9917" in one and "no trend" in one
    missing = words.trend_sentence(words.ACCURACY, "epochs", ["1", "2", "5"], [0.95, None, 0.98])
    assert "2 epochs: no finished run" in missing
    assert "from 0.9500 (1 epoch) to 0.9800 (5 epochs)" in missing
    nothing = words.trend_sentence(words.ACCURACY, "epochs", ["1", "2"], [None, None])
    assert "no finished run yet" in nothing


def test_against_the_report_counts_the_steps_that_agree_and_the_average_gap():
    ours = [0.92, 0.94, 0.93, 0.96, 0.97]
    report = (0.9261, 0.9417, 0.9576, 0.9689, 0.9750)  # rises at every step
    text = words.against_report_sentence(words.ACCURACY, ours, report)
    assert "same direction as the report's at 3 of 4 steps" in text
    gap = sum(o - r for o, r in zip(ours, report, strict=True)) / 5
    assert f"{abs(gap) * 100:.2f} points below it on average" in text
    # A missing value breaks the steps either side of it; no value, no sentence.
    partial = words.against_report_sentence(words.TIME, [1.0, None, 3.0, 4.0], (1, 2, 3, 4))
    assert "at 1 of 1 steps" in partial
    assert words.against_report_sentence(words.ACCURACY, [None, None], (0.9, 0.95)) is None


def test_the_metric_finding_only_concludes_when_the_curves_are_identical():
    same = words.metric_sentence(0.0, 5, 5)
    assert "is 0," in same and "does not change" in same
    apart = words.metric_sentence(0.0123, 2, 2)
    assert "0.012" in apart and "does not change" not in apart
    assert "run exercise 2" in words.metric_sentence(None, 0, 0)


def test_exercise_9_is_set_against_the_best_of_each_family():
    others = [
        words.Best("exercise 1", "128 neurons", 0.9750, "mlp"),
        words.Best("exercise 8", "20 epochs", 0.9876, "cnn"),
        words.Best("exercise 6", "9x9 kernel", 0.9873, "cnn"),
    ]
    text = words.versus_others_sentence(0.9917, others)
    assert "+0.41 points against the best one-convolution CNN here (0.9876, exercise 8" in text
    assert "+1.67 points against the best MLP here (0.9750, exercise 1 at 128 neurons)" in text
    assert "no finished run" in words.versus_others_sentence(None, others)
