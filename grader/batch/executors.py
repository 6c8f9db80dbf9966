"""Where the batch runner's chunks run: worker processes on this machine, or a Dask distributed cluster.

Both give the runner the same four operations: `submit` a chunk, `wait` for the first to finish (or a
deadline), `outcome` of a finished one, and `abandon` one that ran past its deadline (its worker is stopped
and replaced). Each local worker is a pool of its own, so a worker that dies or hangs is blamed on exactly
the chunk it was running and no other chunk is lost with it.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

# A worker is replaced after this many chunks, so memory stays flat however many submissions there are.
TASKS_PER_WORKER = 10
# How long a worker asked to stop (SIGTERM: it stops its sandbox server) gets before it is killed.
STOP_GRACE_SECONDS = 5.0
# How long a given Dask scheduler may take to have a first worker (a batch system may queue them).
WORKER_WAIT_SECONDS = 300


class Lost(Exception):
    """A chunk's worker died or was stopped: the chunk has no results, for the reason given."""


class Stopped(Lost):
    """The worker was told to stop from outside (SIGTERM while it ran the chunk, as when the whole run is
    being stopped): nothing the chunk's submissions did, so the chunk is not blamed."""


def _worker_init(scratch: str | None) -> None:
    """In each local worker: Ctrl-C is the parent's to handle (it stops the workers); SIGTERM exits
    cleanly, so the worker's sandbox server is stopped too; temporary files go under the run's own
    folder, which the runner removes at the end whatever happened to the worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    if scratch:
        from grader.sandbox.process import SANDBOX_PARENT

        # The sandbox's folder stays beside the run's, so its path is as long as in `micrograde check`.
        os.environ.setdefault(SANDBOX_PARENT, tempfile.gettempdir())
        os.environ["TMPDIR"] = scratch
        tempfile.tempdir = scratch


class LocalExecutor:
    """`jobs` worker processes (spawned: they start clean and can be recycled), one chunk each at a time."""

    def __init__(self, jobs: int, scratch: str | None = None) -> None:
        self.jobs = max(1, jobs)
        self.scratch = scratch
        self.pools: dict[int, ProcessPoolExecutor] = {}
        self.slot_of: dict[Future, int] = {}

    @property
    def capacity(self) -> int:
        return self.jobs

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                   max_tasks_per_child=TASKS_PER_WORKER, initializer=_worker_init,
                                   initargs=(self.scratch,))

    def submit(self, fn: Callable, payload: Any) -> Future:
        busy = set(self.slot_of.values())
        slot = next(i for i in range(self.jobs) if i not in busy)
        if slot not in self.pools:
            self.pools[slot] = self._new_pool()
        try:
            future = self.pools[slot].submit(fn, payload)
        except Exception:  # noqa: BLE001  a broken pool: replace it once
            self._discard(slot)
            self.pools[slot] = self._new_pool()
            future = self.pools[slot].submit(fn, payload)
        self.slot_of[future] = slot
        return future

    def wait(self, handles: list[Future], timeout: float | None) -> set[Future]:
        done, _ = wait(handles, timeout=timeout, return_when=FIRST_COMPLETED)
        return set(done)

    def outcome(self, handle: Future) -> Any:
        slot = self.slot_of.pop(handle)
        try:
            return handle.result()
        except Exception as exc:  # noqa: BLE001  the worker died (BrokenProcessPool) or the task could not run
            self._discard(slot)
            raise Lost(f"{type(exc).__name__}: {exc}"[:200]) from None
        except SystemExit as exc:  # the worker's SIGTERM handler ended the task
            self._discard(slot)
            raise Stopped(f"{type(exc).__name__}: {exc}"[:200]) from None

    def abandon(self, handle: Future) -> None:
        self._discard(self.slot_of.pop(handle))

    def _discard(self, slot: int) -> None:
        pool = self.pools.pop(slot, None)
        if pool is not None:
            stop_workers(pool)

    def close(self, interrupted: bool = False) -> None:
        for slot in list(self.pools):
            pool = self.pools.pop(slot)
            if interrupted:
                stop_workers(pool)
            else:
                pool.shutdown(wait=True, cancel_futures=True)


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Stop a pool's worker processes whatever they are doing: SIGTERM, then SIGKILL after a grace."""
    workers = list((getattr(pool, "_processes", None) or {}).values())
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.join(STOP_GRACE_SECONDS)
        if worker.is_alive():
            worker.kill()
            worker.join(STOP_GRACE_SECONDS)
    # With its workers gone the pool winds down at once; waiting for it also reaps any worker it started
    # meanwhile, so none outlives the run.
    pool.shutdown(wait=True, cancel_futures=True)


class DaskUnavailable(RuntimeError):
    """`--executor dask` without the optional extra installed, or a scheduler that cannot be reached."""


class DaskExecutor:
    """Chunks as tasks of a Dask distributed cluster: the scheduler at `address`, or a LocalCluster of
    `jobs` single-threaded worker processes. The workers run the same `grade_chunk`, sandbox and limits
    included; a worker that dies is replaced by its nanny."""

    def __init__(self, jobs: int, address: str | None = None) -> None:
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise DaskUnavailable("--executor dask needs the optional extra: pip install 'micrograde[dask]'") from None
        self.cluster = None
        try:
            if address:
                self.client = Client(address, timeout="30s")
            else:
                # A chunk that kills its worker is reported at once, not retried on other workers.
                with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
                    self.cluster = LocalCluster(n_workers=max(1, jobs), threads_per_worker=1, processes=True,
                                                dashboard_address=None, silence_logs=40)
                self.client = Client(self.cluster)
        except OSError as exc:
            if self.cluster is not None:
                self.cluster.close()
            raise DaskUnavailable(f"cannot reach the Dask scheduler {address}: {exc}"[:300]) from None
        if address:
            try:
                self.client.wait_for_workers(1, timeout=WORKER_WAIT_SECONDS)
            except TimeoutError:
                self.client.close()
                raise DaskUnavailable(f"the Dask scheduler {address} has no workers after "
                                      f"{WORKER_WAIT_SECONDS} s") from None
        # As many chunks in flight as the cluster has threads: each starts at once, so its wall-clock
        # bound is not spent waiting in the scheduler's queue.
        threads = sum(self.client.nthreads().values())
        self.jobs = max(1, threads or jobs)

    @property
    def capacity(self) -> int:
        return self.jobs

    def submit(self, fn: Callable, payload: Any):
        return self.client.submit(fn, payload, pure=False)

    def wait(self, handles: list, timeout: float | None) -> set:
        from distributed import wait as dask_wait
        try:
            dask_wait(handles, timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            pass
        return {h for h in handles if h.done()}

    def outcome(self, handle) -> Any:
        try:
            return handle.result()
        except Exception as exc:  # noqa: BLE001  KilledWorker, a lost connection, a task that could not run
            raise Lost(f"{type(exc).__name__}: {exc}"[:200]) from None
        finally:
            handle.release()

    def abandon(self, handle) -> None:
        """A task cannot be stopped from outside its thread: the worker running it is restarted."""
        workers = [worker for worker, keys in self.client.processing().items() if handle.key in keys]
        handle.cancel()
        if workers:
            with contextlib.suppress(Exception):  # the worker may be gone already
                self.client.restart_workers(workers, timeout=60)

    def close(self, interrupted: bool = False) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
