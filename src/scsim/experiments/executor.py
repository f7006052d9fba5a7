"""Runs tasks on Dask distributed: a local cluster sized to the machine by default (one worker
process per core, one thread each, ``NUMBA_NUM_THREADS=1``: numba inside a multi-threaded
worker has hung, dask#5132), or an existing cluster by its scheduler's address.

``run_missing`` submits every task not yet stored, stores each result as it arrives (the client
writes it: workers need no shared file system) and returns the failures. A worker that dies
mid-task has its task re-run elsewhere by the scheduler; a result is stored once, under its key.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scsim.experiments.spec import Outcome
from scsim.experiments.tasks import Task, run_task

if TYPE_CHECKING:
    from distributed import Client

WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
"""Environment of local workers: one numba thread each (the workers are the parallelism)."""


CONNECT_S = 10
"""Seconds to wait for a scheduler's answer."""


class ExecutorError(RuntimeError):
    """No cluster to run on (an unreachable scheduler address, no workers)."""


def _unreachable(address: str) -> str | None:
    """Why nothing answers at a ``tcp://HOST:PORT`` address (a refused connection, an unknown
    host: said at once, where Dask would retry for ``CONNECT_S``), or None."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(address)
        host, port = parts.hostname, parts.port
    except ValueError as e:
        return str(e)
    if parts.scheme != "tcp" or host is None or port is None:
        return None  # another protocol: Dask's own connect says what is wrong
    try:
        with socket.create_connection((host, port), timeout=CONNECT_S):
            return None
    except OSError as e:
        return str(e) or type(e).__name__


@dataclass(frozen=True)
class Failure:
    task: Task
    error: str


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Client]:
    """A Dask client: on the scheduler at ``scheduler`` (tcp://host:port), or on a local cluster
    of ``workers`` processes (default: one per core), closed on exit."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            reason = _unreachable(scheduler)
            if reason is not None:
                raise OSError(reason)
            client = Client(scheduler, timeout=f"{CONNECT_S}s")
        except (OSError, TimeoutError) as e:
            raise ExecutorError(
                f"--scheduler: cannot reach a Dask scheduler at {scheduler!r} ({e}); start one "
                "with 'dask scheduler' (see docs/scaling.md) or leave --scheduler out to run on "
                "this machine"
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    count = workers or os.cpu_count() or 1
    cluster = LocalCluster(
        n_workers=count,
        threads_per_worker=1,
        processes=True,
        env=WORKER_ENV,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def submit(
    client: Client, task: Task, outcomes: dict[str, Outcome], keep: str | None = None, tag: str = ""
) -> Any:
    """Submit one task; its Dask key is its own key (plus ``tag`` where the same run may be
    asked twice at once, as by two trials with equal values)."""
    return client.submit(
        run_task, task.scenario, outcomes, keep, key=f"scsim-{task.key}{tag}", pure=False
    )


def run_missing(
    client: Client,
    tasks: list[Task],
    outcomes: dict[str, Outcome],
    store: Callable[[Task, dict[str, Any]], None],
    keep: Callable[[Task], str | None] = lambda task: None,
    on_done: Callable[[Task, dict[str, Any] | None], None] = lambda task, result: None,
) -> list[Failure]:
    """Run ``tasks`` on the cluster; ``store`` each result as it arrives; return the failures."""
    from distributed import as_completed

    if not tasks:
        return []
    if not client.scheduler_info().get("workers"):
        client.wait_for_workers(1, timeout=60)
    futures = {submit(client, t, outcomes, keep(t)): t for t in tasks}
    failures: list[Failure] = []
    try:
        for future in as_completed(futures):
            task = futures[future]
            if future.status == "error":
                error = future.exception()
                failures.append(Failure(task, f"{type(error).__name__}: {error}"))
                on_done(task, None)
                continue
            result = future.result()
            store(task, result)
            on_done(task, result)
            future.release()
    finally:
        for future in futures:
            future.cancel()
    return failures
