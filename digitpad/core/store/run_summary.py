"""A run in words: one line (the command line, the Train tab, the lab's progress) or the
whole record (the Results tab's details)."""

from __future__ import annotations

import json

from digitpad.core.nets.fingerprint import Fingerprint
from digitpad.core.nets.results import RunResult
from digitpad.core.store.runs import RunRecord


def summary_line(record: RunRecord) -> str:
    """``run 12 done: test accuracy 0.9261 (baseline error 7.39 %), …`` or its error."""
    r = record.result
    if r is None:
        return f"run {record.id} {record.status}: {record.error}"
    return (
        f"run {record.id} {record.status}: test accuracy {r.test_accuracy:.4f} "
        f"(baseline error {r.baseline_error:.2f} %), test loss {r.test_loss:.4f}, "
        f"MSE {r.test_mse:.4f}, convergence time {r.convergence_time:.2f} s, "
        f"{r.params} parameters, {r.epochs_run} epoch(s)"
    )


def fingerprint_line(result: RunResult) -> str:
    """What the run's numbers depend on beyond its settings, and the fingerprint's digest."""
    if not result.threads:
        return "fingerprint       not recorded (trained before DigitPad 0.4)"
    kernels = "deterministic kernels" if result.deterministic else "default kernels"
    return (
        f"fingerprint       {Fingerprint.of(result).digest()[:12]}… ({result.processor}, "
        f"{result.threads} thread{'s' if result.threads != 1 else ''}, {kernels}, "
        f"{result.precision})"
    )


def describe_record(record: RunRecord) -> str:
    """The full spec and figures of one run, for people."""
    lines = [
        f"Run {record.id} — {record.status}",
        f"started {record.created_at}",
        f"ended {record.finished_at or '—'}",
        "",
        json.dumps(record.spec.to_dict(), indent=2),
    ]
    if record.result:
        r = record.result
        lines += [
            "",
            f"test accuracy     {r.test_accuracy:.4f}",
            f"baseline error    {r.baseline_error:.2f} %",
            f"test loss         {r.test_loss:.4f}",
            f"test MSE          {r.test_mse:.4f}",
            f"convergence time  {r.convergence_time:.2f} s",
            f"parameters        {r.params:,}",
            f"epochs run        {r.epochs_run}",
            f"training images   {r.train_size:,}",
            f"seed              {r.seed}",
            f"trained on        {r.where}",
            f"data              {r.data_source} ({r.data_sha256[:12]}…)",
            "versions          " + ", ".join(f"{k} {v}" for k, v in r.versions.items()),
            fingerprint_line(r),
        ]
        if r.weights_path:
            lines.append(f"weights           {r.weights_path}")
        f = r.finetune
        if f is not None:
            lines += [
                "",
                f"fine-tune of {f.base} on {f.mine_train} of your digits, "
                f"{'with' if f.replay else 'without'} MNIST replay"
                + (", convolutions frozen" if f.freeze_conv else ""),
                f"MNIST test        {f.mnist_before:.2%} -> {f.mnist_after:.2%}",
                f"held-back mine    {f.mine_before:.1%} -> {f.mine_after:.1%} "
                f"({f.mine_test} drawings)",
            ]
        lines += [f"note: {n}" for n in r.notes]
    if record.error:
        lines += ["", f"error: {record.error}"]
    return "\n".join(lines)
