"""Where trials run, as a stream: tasks are pulled lazily and outcomes come back as trials finish.

- :class:`LocalExecutor`: in this process (``n_jobs`` ``None`` or 1) or in joblib's worker processes
  (``Parallel(return_as="generator_unordered")``, which dispatches a few tasks ahead and yields each
  outcome as soon as its trial ends);
- :class:`DaskExecutor`: on the workers of a Dask cluster (a scheduler address or a client). The data go
  to every worker once (``scatter``); a bounded window of tasks is in flight (``as_completed`` refills
  it). When a worker dies mid-trial the scheduler reruns the trial on another worker; a trial whose
  workers keep dying (``KilledWorker``) comes back as a failed outcome naming the reason. Losing the
  scheduler, or every worker for ``timeout`` seconds, raises :class:`ClusterLost` (what had finished
  is already recorded).

(joblib's Dask backend is not used: when the cluster has a single worker thread in all, joblib counts
one job and runs every trial sequentially in the client process instead of on the worker.)
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, Iterator

from .trial import Outcome, Task, run_trial

__all__ = ["LocalExecutor", "DaskExecutor", "ClusterLost", "make_executor", "DASK_SCHEMES"]

DASK_SCHEMES = ("tcp", "tls", "inproc", "ws", "wss", "ucx")


class ClusterLost(ConnectionError):
    """The Dask scheduler, or every worker, went away mid-search."""


class LocalExecutor:
    """Trials in this process, or in ``n_jobs`` joblib worker processes."""

    where = "local"

    def __init__(self, n_jobs: int | None) -> None:
        self.n_jobs = n_jobs

    def __enter__(self) -> "LocalExecutor":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def stream(self, tasks: Iterator[Task], data: tuple) -> Iterator[Outcome]:
        if self.n_jobs in (None, 1):
            for task in tasks:
                yield run_trial(task, data)
            return
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=self.n_jobs, return_as="generator_unordered")
        yield from parallel(delayed(run_trial)(task, data) for task in tasks)


def check_scheduler(scheduler: Any) -> str:
    """A scheduler address with a scheme Dask knows (``tcp://host:port``, ...), refused at once otherwise."""
    if not isinstance(scheduler, str) or not scheduler:
        raise ValueError(f"scheduler must be an address such as 'tcp://127.0.0.1:8786'; got {scheduler!r}")
    if "://" in scheduler:
        scheme = scheduler.split("://", 1)[0]
        if scheme not in DASK_SCHEMES:
            raise ValueError(f"scheduler {scheduler!r} has an unknown scheme {scheme!r}; "
                             f"Dask takes {', '.join(s + '://' for s in DASK_SCHEMES)}")
    return scheduler


class DaskExecutor:
    """Trials on a Dask cluster: ``client`` as given, or one connected to ``scheduler`` (closed afterwards)."""

    def __init__(self, scheduler: str | None, client: Any, timeout: float) -> None:
        self.scheduler, self.client, self.timeout = scheduler, client, timeout
        self._own = None

    @property
    def where(self) -> str:
        return self.address

    def __enter__(self) -> "DaskExecutor":
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - the dask extra is not installed
            raise ImportError("scheduler= needs dask[distributed]: pip install 'dnnimprove[dask]'") from None
        if self.client is None:
            try:
                self._own = Client(self.scheduler, timeout=self.timeout, set_as_default=False)
            except (OSError, TimeoutError) as error:
                raise ConnectionError(
                    f"could not reach the Dask scheduler at {self.scheduler!r} within {self.timeout:g} s; "
                    f"is `dask scheduler` running there? ({type(error).__name__}: {error})"
                ) from None
            self.client = self._own
        self.address = self.client.scheduler.address
        try:
            self.client.wait_for_workers(1, timeout=self.timeout)
        except TimeoutError:
            self.__exit__()
            raise ConnectionError(f"the Dask scheduler at {self.address!r} has no workers after {self.timeout:g} s") from None
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._own is not None:
            with contextlib.suppress(Exception):
                self._own.close(timeout=2)
            self._own = None

    def _threads(self) -> int:
        workers = self.client.scheduler_info().get("workers", {})
        return max(1, sum(worker.get("nthreads", 1) for worker in workers.values()))

    def _check_alive(self, since: dict[str, float]) -> None:
        now = time.monotonic()
        if self.client.status != "running":
            raise ClusterLost(f"lost the Dask scheduler at {self.address!r} mid-search")
        workers = self.client.scheduler_info().get("workers", {})
        if workers:
            since.pop("no workers", None)
        elif now - since.setdefault("no workers", now) > self.timeout:
            raise ClusterLost(f"the Dask cluster at {self.address!r} has had no workers for {self.timeout:g} s")

    def stream(self, tasks: Iterator[Task], data: tuple) -> Iterator[Outcome]:
        from distributed import wait
        from distributed.client import FutureCancelledError
        from distributed.scheduler import KilledWorker

        client = self.client
        try:
            shared = tuple(client.scatter(list(data), broadcast=True))
        except Exception as error:  # noqa: BLE001 - the cluster went away between connecting and now
            raise ClusterLost(f"lost the Dask cluster at {self.address!r} ({type(error).__name__}: {error})") from None
        window = 2 * self._threads()
        pending: dict[Any, Task] = {}
        exhausted = False
        since: dict[str, float] = {}
        while True:
            while not exhausted and len(pending) < window:
                task = next(tasks, None)
                if task is None:
                    exhausted = True
                    break
                pending[client.submit(run_trial, task, shared, pure=False)] = task
            if not pending:
                return
            try:
                done, _ = wait(list(pending), timeout=1.0, return_when="FIRST_COMPLETED")
            except (TimeoutError, OSError):
                done = set()
            if not done:
                self._check_alive(since)
                continue
            for future in done:
                task = pending.pop(future)
                try:
                    yield future.result()
                except KilledWorker as error:
                    yield Outcome(task.key, "failed", float("nan"), float("nan"), 0,
                                  error=f"the workers running it died ({type(error).__name__}: {error})")
                except (FutureCancelledError, OSError) as error:
                    self._check_alive(since)
                    raise ClusterLost(f"lost the Dask cluster at {self.address!r} ({type(error).__name__})") from None


def make_executor(n_jobs: int | None, scheduler: str | None, client: Any, timeout: float) -> Any:
    if scheduler is None and client is None:
        return LocalExecutor(n_jobs)
    return DaskExecutor(scheduler, client, timeout)
