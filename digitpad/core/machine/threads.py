"""Numpy's BLAS on one thread in the window's process.

Reading a drawing multiplies small matrices (tens of rows by a few hundred columns). On two
threads OpenBLAS spends longer waking and joining its second thread than computing, and
while a training keeps the cores busy the wait grows: with a full-MNIST training beside it,
the preprocessing's p95 was 15.8 ms on two threads and 1.3 ms on one (AMD EPYC, 2 cores,
``benchmarks/bench_predict.py``). Trainings run in their own processes, so nothing in the
window gains from a second BLAS thread.
"""

from __future__ import annotations


def one_blas_thread() -> None:
    """Limit the BLAS libraries loaded in this process (numpy's OpenBLAS) to one thread."""
    from threadpoolctl import threadpool_limits  # inspects the loaded libraries: ~10 ms

    threadpool_limits(limits=1, user_api="blas")
