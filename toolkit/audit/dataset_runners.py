"""Runners: map :func:`audit_image` over tasks and yield the records as they finish (in completion order).

Every runner loads a task's bytes only when it submits it and keeps at most ``window`` tasks in flight, so memory
stays bounded whatever the dataset's size. The caller writes the records, so where a task ran never changes what
ends up on disk.

- :func:`in_process`: one after another in this process (debugging, tests);
- :func:`local_pool`: a pool of spawned processes on this machine;
- :func:`ray_tasks`: one Ray task per image on a local Ray instance or an existing cluster. A task whose node
  dies is retried elsewhere by Ray (``max_retries``); Ray hands back one result per task, so a retried image is
  still counted once.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Iterator

from .dataset_image import AuditSetConfig, audit_image, load_job
from .dataset_plan import ImageTask

log = logging.getLogger("styleseg")

#: Times Ray re-runs a task whose worker or node died (an input error is a record, never retried).
RAY_RETRIES = 3


def in_process(tasks: Iterable[ImageTask], settings: AuditSetConfig) -> Iterator[dict]:
    for task in tasks:
        yield audit_image(load_job(task), settings)


def local_pool(tasks: Iterable[ImageTask], settings: AuditSetConfig, workers: int) -> Iterator[dict]:
    """``workers`` spawned processes (spawn, not fork: PyTorch and TensorFlow threads do not survive a fork)."""
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_init_pool,
                               initargs=(settings,))
    try:
        yield from _stream(tasks, lambda t: pool.submit(_pool_audit, load_job(t)),
                           lambda fs: wait(fs, return_when=FIRST_COMPLETED), lambda f: f.result(), 2 * workers)
    except BaseException:
        # An interrupt (the workers did not get the signal) or a failure: stop the workers rather than wait for
        # them. Waiting hung for good when the interrupt came while they were starting. Records already
        # written stay; an audit cut short writes none.
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        pool.shutdown(wait=True)


def ray_tasks(tasks: Iterable[ImageTask], settings: AuditSetConfig, address: str | None = None,
              workers: int | None = None) -> Iterator[dict]:
    """Ray tasks, one CPU each and one GPU each when the cluster has GPUs (and the device is not ``cpu``).

    address: None starts a local Ray instance with ``workers`` CPUs (default: all); otherwise the address of a
    running cluster (``auto``, ``HOST:PORT`` or ``ray://HOST:PORT``), whose nodes need styleseg installed. If
    this process is already connected to Ray, that connection is used.
    """
    import ray

    own = not ray.is_initialized()
    if own:
        ray.init(address=address, num_cpus=workers if address is None else None, include_dashboard=False,
                 log_to_driver=False, logging_level=logging.WARNING)
    try:
        resources = ray.cluster_resources()
        gpus = 1 if resources.get("GPU", 0) >= 1 and settings.device != "cpu" else 0
        remote = ray.remote(audit_image).options(num_cpus=1, num_gpus=gpus, max_retries=RAY_RETRIES)
        shared = ray.put(settings)  # sent to the object store once, not with every task
        capacity = workers or max(1, int(resources.get("CPU", 1)))
        log.info("Ray: %d CPU(s), %d GPU(s) in the cluster; %d task(s) at a time", int(resources.get("CPU", 0)),
                 int(resources.get("GPU", 0)), capacity)
        yield from _stream(tasks, lambda t: remote.remote(load_job(t), shared),
                           lambda refs: _ray_wait(ray, refs), ray.get, 2 * capacity)
    finally:
        if own:
            ray.shutdown()


def _stream(tasks: Iterable[ImageTask], submit: Callable, wait_any: Callable, get: Callable,
            window: int) -> Iterator[dict]:
    """Keep ``window`` tasks in flight; yield each result as it arrives."""
    queue = iter(tasks)
    pending = {submit(t) for t in itertools.islice(queue, window)}
    while pending:
        done, pending = wait_any(pending)
        pending = set(pending)
        for handle in done:
            yield get(handle)
            pending.update(submit(t) for t in itertools.islice(queue, 1))


def _ray_wait(ray, refs):
    ready, rest = ray.wait(list(refs), num_returns=1)
    return ready, rest


_SETTINGS: AuditSetConfig | None = None


def _init_pool(settings: AuditSetConfig) -> None:
    global _SETTINGS
    _SETTINGS = settings
    # the parent reports every record's error and has given the random-weights warning: no repeat per worker
    logging.getLogger("styleseg").setLevel(logging.ERROR)


def _pool_audit(job):
    return audit_image(job, _SETTINGS)
