"""The engine on a real Dask cluster: a scheduler and two worker processes that the test
starts on 127.0.0.1. Runs, models and tables land in this computer's store."""

from __future__ import annotations

import importlib
import ipaddress
import os
import socket
import subprocess
import sys
import time

import distributed  # the [cluster] extra, which make test installs
import numpy as np
import pytest

from conftest import close_cluster, drive
from digitpad.cli import main
from digitpad.core.engine import (
    BackendError,
    Engine,
    Job,
    JobControl,
    JobDone,
    JobFailed,
    RunFinished,
    RunProgress,
    RunStarted,
)
from digitpad.core.engine.cluster import DaskBackend, open_address_warning
from digitpad.core.engine.events import WorkerProgress
from digitpad.core.engine.worker import RunOrder
from digitpad.core.inference.predictor import Predictor, run_source
from digitpad.core.lab.sweeps import custom_sweep
from digitpad.core.nets.specs import RunSpec
from digitpad.core.store.runs import RunStore


def test_a_sweep_trains_on_the_cluster_and_lands_in_the_local_store(cluster, tmp_path, mnist):
    store = RunStore(tmp_path)
    engine = Engine(store, DaskBackend(cluster))
    sweep = custom_sweep(RunSpec(batch_size=100, train_limit=2000, epochs=1), "neurons", [8, 16])
    job = Job.sweep(sweep, sweep.specs(repeats=2))  # 4 runs: two values, two seeds
    try:
        events = drive(engine, job, mnist)
    finally:
        engine.close()
    assert isinstance(events[-1], JobDone)
    assert any(isinstance(e, RunProgress) for e in events)  # live curves from the workers
    records = [e.record for e in events if isinstance(e, RunFinished)]
    assert [r.status for r in records] == ["done"] * 4, [r.error for r in records]
    assert {r.result.trained_pid for r in records}.isdisjoint({os.getpid()})
    assert len({r.result.trained_pid for r in records}) == 2  # both workers trained
    stored = RunStore(tmp_path).list_runs()
    assert sorted(r.id for r in stored) == sorted(r.id for r in records)
    assert len(store.cells(job.sweep_ids[0])) == 4
    # The models came back with the results: the canvas reads drawings with them.
    x = mnist.x_test[:200].astype(np.float32) / 255
    for record in stored:
        assert record.has_model and str(tmp_path) in record.result.model_path
        probabilities = Predictor(run_source(record)).predict_batch(x)
        accuracy = float(np.mean(probabilities.argmax(1) == mnist.y_test[:200]))
        assert accuracy == pytest.approx(record.result.test_accuracy, abs=0.1)


def test_stop_reaches_the_running_runs_and_cancels_the_queued_ones(cluster, tmp_path, mnist):
    store = RunStore(tmp_path)
    engine = Engine(store, DaskBackend(cluster))
    control = JobControl()
    job = Job.plan(
        (RunSpec(neurons=n, epochs=300, batch_size=50, train_limit=3000), None)
        for n in (64, 65, 66, 67)
    )

    def stop_once_both_train(event):
        if isinstance(event, RunProgress) and event.progress.kind == "batch":
            if len({*seen, event.index}) == 2:
                control.stop()
            seen.add(event.index)

    seen: set[int] = set()
    try:
        events = drive(engine, job, mnist, control, stop_once_both_train)
    finally:
        engine.close()
    records = [e.record for e in events if isinstance(e, RunFinished)]
    assert [r.status for r in records] == ["stopped", "stopped"]
    assert all(r.result.epochs_run < 300 for r in records)
    assert len(store.list_runs()) == 2  # the two queued runs never started
    assert events[-1] == JobDone(stopped=True)


def test_an_unreachable_scheduler_is_one_line_and_exit_code_2(capsys, digitpad_home):
    store = RunStore(digitpad_home)
    earlier = store.start_run(RunSpec())
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--epochs", "1", "--cluster", f"tcp://127.0.0.1:{port}"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in err
    assert "dask scheduler" in err  # and how to start one
    assert [r.id for r in RunStore(digitpad_home).list_runs()] == [earlier]


@pytest.mark.parametrize("address", ["foo", "http://x:1", "inproc://x", "tls://127.0.0.1:1"])
def test_an_address_no_client_can_use_is_one_line_with_nothing_after_it(address, digitpad_home):
    """The command ends on its own line: a client that failed to connect is closed at once,
    not left to stall the exit for 20 s and print a TimeoutError after the message."""
    done = subprocess.run(
        [sys.executable, "-m", "digitpad", "train", "--epochs", "1", "--cluster", address],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("digitpad train: error: cannot "), lines
    assert "TimeoutError" not in done.stderr and "Exception ignored" not in done.stderr


def test_the_window_trains_on_the_cluster_named_in_its_train_on_field(cluster, window, qtbot):
    tab = window.train_tab
    tab.cluster.setText(cluster)
    values = tab.form.values()
    tab.form.set_values({**values, "model": "mlp", "epochs": 1, "train_limit": 2000})
    with qtbot.waitSignal(tab.runFinished, timeout=120_000) as finished:
        tab.start_training()
    record = finished.args[0]
    assert record.status == "done" and record.result.trained_pid != os.getpid()
    assert record.has_model  # its model came back into the window's store
    qtbot.waitUntil(lambda: not tab.is_training(), timeout=30_000)
    tab.cluster.setText("tcp://127.0.0.1:1")  # nothing listens there
    with qtbot.waitSignal(tab.trainingEnded, timeout=60_000):
        tab.start_training()
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in tab.status.text()
    assert [r.id for r in window.store.list_runs()] == [record.id]  # nothing lost or added


def long_order(run_id: int) -> RunOrder:
    return RunOrder(run_id, RunSpec(neurons=64, epochs=300, batch_size=50, train_limit=3000))


def test_closing_the_backend_stops_its_runs_and_frees_the_workers(cluster, mnist):
    backend = DaskBackend(cluster)
    backend.start_job(2)
    for run_id in (1, 2):
        backend.submit(long_order(run_id), mnist)
    deadline = time.monotonic() + 120
    training: set[int] = set()
    while len(training) < 2:  # both runs are training on the two workers
        assert time.monotonic() < deadline, "the runs never started"
        training |= {m.run_id for m in backend.poll(0.2) if isinstance(m, WorkerProgress)}
    backend.close()  # the window closing, or Ctrl+C twice
    with distributed.Client(cluster, set_as_default=False) as client:
        workers = list(client.nthreads())
        # One-thread workers: a quick task on each runs only once its training has ended.
        futures = [client.submit(os.getpid, workers=[w], pure=False) for w in workers]
        # Left training, the runs would hold both workers for minutes.
        pids = [future.result(timeout=30) for future in futures]
    assert len(set(pids)) == 2


class MissingOnWorkers:
    """Pickles as an import of a module the workers do not have (DigitPad's own, say, on
    a worker where it is not installed)."""

    def __reduce__(self):
        return importlib.import_module, ("digitpad_not_installed_on_this_worker",)


def test_an_error_inside_a_task_fails_the_run_with_the_workers_message(cluster, tmp_path, mnist):
    store = RunStore(tmp_path)
    engine = Engine(store, DaskBackend(cluster))
    job = Job.single(RunSpec(neurons=8, epochs=1, train_limit=600))
    job.runs[0].finetune = MissingOnWorkers()
    try:
        events = drive(engine, job, mnist)
    finally:
        engine.close()
    (record,) = [e.record for e in events if isinstance(e, RunFinished)]
    assert record.status == "failed", record.error
    assert "digitpad_not_installed_on_this_worker" in record.error
    assert "\n" not in record.error


@pytest.fixture(scope="module")
def lonely_scheduler():
    """A scheduler without a single worker."""
    local = distributed.LocalCluster(
        n_workers=0, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0"
    )
    yield local.scheduler_address
    close_cluster(local)


def test_a_scheduler_without_workers_is_said_in_one_line(lonely_scheduler, tmp_path, mnist):
    store = RunStore(tmp_path)
    engine = Engine(store, DaskBackend(lonely_scheduler))
    try:  # before the fix this waited for ever (the suite's faulthandler ends it at 300 s)
        events = drive(engine, Job.single(RunSpec(neurons=8, epochs=1)), mnist)
    finally:
        engine.close()
    (failed,) = [e for e in events if isinstance(e, JobFailed)]
    assert "has no workers" in failed.message and "dask worker" in failed.message
    assert "\n" not in failed.message
    assert [r.status for r in store.list_runs()] == ["interrupted"]


def test_stop_works_while_waiting_for_a_worker(lonely_scheduler, tmp_path, mnist):
    store = RunStore(tmp_path)
    engine = Engine(store, DaskBackend(lonely_scheduler))
    control = JobControl()

    def stop_at_once(event):
        if isinstance(event, RunStarted):
            control.stop()

    try:
        events = drive(
            engine, Job.single(RunSpec(neurons=8, epochs=1)), mnist, control, stop_at_once
        )
    finally:
        engine.close()
    assert events[-1] == JobDone(stopped=True)
    assert not any(isinstance(e, JobFailed) for e in events)  # ended by the stop, not the wait
    (record,) = store.list_runs()
    assert record.status == "interrupted" and "stopped before" in record.error


def test_a_tls_scheduler_trains_with_certificates_from_dasks_configuration(tmp_path, mnist):
    """A class's cluster on TLS: the certificates come from Dask's own configuration (here
    set in code; in a classroom, ~/.config/dask/*.yaml or DASK_* variables)."""
    import dask
    from distributed.security import Security

    secure = Security.temporary()
    paths = {}
    for name, pem in {
        "ca": secure.tls_ca_file,
        "cert": secure.tls_client_cert,
        "key": secure.tls_client_key,
    }.items():
        paths[name] = tmp_path / f"{name}.pem"
        paths[name].write_text(pem)
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,  # a worker in this process: no second TensorFlow to start
        protocol="tls://",
        host="127.0.0.1",
        security=secure,
        dashboard_address="127.0.0.1:0",
    ) as local:
        address = local.scheduler_address
        assert address.startswith("tls://")
        with pytest.raises(BackendError, match="certificates"):  # no configuration: no entry
            DaskBackend(address, timeout=3)
        config = {
            "distributed.comm.tls.ca-file": str(paths["ca"]),
            "distributed.comm.tls.client.cert": str(paths["cert"]),
            "distributed.comm.tls.client.key": str(paths["key"]),
        }
        with dask.config.set(config):
            backend = DaskBackend(address)
            assert backend.warning is None
            record = train_one_run(backend, tmp_path / "home", mnist)
    assert record.status == "done", record.error


def train_one_run(backend, home, mnist):
    """One small run through ``backend`` into a store in ``home``; its record."""
    engine = Engine(RunStore(home), backend)
    try:
        events = drive(engine, Job.single(RunSpec(neurons=8, train_limit=600)), mnist)
    finally:
        engine.close()
    (record,) = [e.record for e in events if isinstance(e, RunFinished)]
    return record


@pytest.mark.parametrize(
    "address, warned",
    [
        ("tcp://192.0.2.10:8786", True),
        ("192.0.2.10:8786", True),
        ("tcp://scheduler.school.example:8786", True),
        ("tcp://127.0.0.1:8786", False),
        ("tcp://localhost:8786", False),
        ("tcp://[::1]:8786", False),
        ("tls://192.0.2.10:8786", False),
    ],
)
def test_a_plain_tcp_scheduler_elsewhere_is_warned_about(address, warned):
    warning = open_address_warning(address)
    assert (warning is not None) == warned
    if warned:
        assert "anyone who can reach the scheduler can run code" in warning
        assert "\n" not in warning


def test_the_command_line_prints_the_warning_once(cluster, capsys, monkeypatch, digitpad_home):
    from digitpad.core.engine import cluster as cluster_module

    monkeypatch.setattr(cluster_module, "open_address_warning", lambda address: "plain TCP")
    assert main(["train", "--cluster", cluster, "--neurons", "8", "--train-limit", "600"]) == 0
    err = capsys.readouterr().err
    assert err.count("warning: plain TCP") == 1


def class_certificates(folder, names, authority: str = "digitpad-class") -> dict[str, str]:
    """A certificate authority and one certificate per name (a role: scheduler, worker,
    a student's client), signed by it, as docs/cluster.md has a teacher make them."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def subject(common_name):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    def write(name, key, cert) -> None:
        (folder / f"{name}.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        (folder / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(subject(authority))
        .issuer_name(subject(authority))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    write("ca", ca_key, ca)
    for name in names:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject(name))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        write(name, key, cert)
    return {name: str(folder / name) for name in ["ca", *names]}


def test_each_role_has_its_own_certificate_and_encryption_is_required(tmp_path, mnist):
    """docs/cluster.md's set-up: the scheduler, the workers and each student's computer
    hold their own certificate of the class's authority, and the cluster refuses anything
    unencrypted; a computer whose certificate another authority signed is refused."""
    import dask
    from distributed.security import Security

    (tmp_path / "class").mkdir()
    (tmp_path / "other").mkdir()
    made = class_certificates(tmp_path / "class", ["scheduler", "worker", "student-ada"])
    stranger = class_certificates(tmp_path / "other", ["student-eve"], "another-class")
    cluster_side = Security(
        require_encryption=True,
        tls_ca_file=made["ca"] + ".pem",
        tls_scheduler_cert=made["scheduler"] + ".pem",
        tls_scheduler_key=made["scheduler"] + ".key",
        tls_worker_cert=made["worker"] + ".pem",
        tls_worker_key=made["worker"] + ".key",
        tls_client_cert=made["worker"] + ".pem",  # the cluster's own internal client
        tls_client_key=made["worker"] + ".key",
    )

    def student(certificates, name) -> dict[str, str]:
        return {
            "distributed.comm.require-encryption": True,
            "distributed.comm.tls.ca-file": made["ca"] + ".pem",
            "distributed.comm.tls.client.cert": certificates[name] + ".pem",
            "distributed.comm.tls.client.key": certificates[name] + ".key",
        }

    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        protocol="tls://",
        host="127.0.0.1",
        security=cluster_side,
        dashboard_address="127.0.0.1:0",
    ) as local:
        address = local.scheduler_address
        with dask.config.set(student(stranger, "student-eve")):
            with pytest.raises(BackendError) as refused:
                DaskBackend(address, timeout=3)
            assert "\n" not in str(refused.value) and "certificates" in str(refused.value)
        with dask.config.set(student(made, "student-ada")):
            record = train_one_run(DaskBackend(address), tmp_path / "home", mnist)
    assert record.status == "done", record.error
