"""Large elementwise numpy kernels split over a small thread pool (bit-identical results).

numpy evaluates a ufunc on one core, and on CPUs without AVX-512 its float64 transcendentals
(``tanh``, ``exp``, ``log`` ...) run mostly scalar code; torch splits the same operations over
its intra-op threads. :func:`blockwise` does that for numpy: it calls a kernel on matching
contiguous slices of C-contiguous arrays of one shape, the slices shared out to a lazily created
:class:`~concurrent.futures.ThreadPoolExecutor` (numpy releases the GIL inside ufunc loops).
Every output entry is computed by the same ufunc loop from the same inputs as by one call on
the whole arrays, so the results are bit-identical; numpy's floating-point error state of the
caller applies in the workers. The calling thread works too, and the slices (a few per thread)
go to whichever thread is free, so a worker that a busy machine starts late costs little; and
each kernel runs pooled or in one thread, whichever has lately been faster on this machine.

The number of threads is :func:`get_num_threads`: ``os.cpu_count()`` unless set by
:func:`set_num_threads` (or the environment variable ``ORTOOLS_LAG_NUM_THREADS``); 1 turns the
pool off. Arrays of fewer than ``2 * min_size`` entries run in the calling thread, in one call.

:func:`background` hands one large job (a scipy or numpy kernel that releases the GIL) to the
same pool while the caller goes on with other work.

>>> x = np.linspace(-3.0, 3.0, 100_001)
>>> out = blockwise(lambda o, a: np.tanh(a, out=o), np.empty_like(x), x, min_size=1000)
>>> bool(np.array_equal(out, np.tanh(x)))
True
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import numpy as np

__all__ = [
    "MIN_SIZE",
    "SLICES_PER_THREAD",
    "background",
    "blockwise",
    "get_num_threads",
    "set_num_threads",
]

#: Fewest entries in a slice (a thread hand-off costs ~20-50 us, about 3000 float64 ``tanh``
#: evaluations); smaller arrays run in one call.
MIN_SIZE = 16384
#: Slices per thread: a thread that starts late leaves its slices to the others.
SLICES_PER_THREAD = 4


T = TypeVar("T")


class _Settings:
    """The thread setting and the pool (one per process: rebuilt in a forked child)."""

    lock = threading.Lock()
    threads: int | None = None
    pool: ThreadPoolExecutor | None = None
    pid = 0
    workers = 0


def _default_threads() -> int:
    env = os.environ.get("ORTOOLS_LAG_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, os.cpu_count() or 1)


def set_num_threads(n: int | None) -> None:
    """Threads of :func:`blockwise` (``None``: the default, ``os.cpu_count()``; 1: no pool).

    Raises
    ------
    ModelError
        For anything but a positive integer or ``None``.

    >>> set_num_threads(2); get_num_threads()
    2
    >>> set_num_threads(None)
    """
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        from ortools_lag.errors import ModelError

        raise ModelError(f"number of threads must be a positive integer, got {n!r}")
    with _Settings.lock:
        _Settings.threads = n


def get_num_threads() -> int:
    """Threads that :func:`blockwise` uses for large arrays (the calling thread included).

    >>> get_num_threads() >= 1
    True
    """
    n = _Settings.threads
    return n if n is not None else _default_threads()


def _executor(workers: int) -> ThreadPoolExecutor:
    """The shared pool with at least ``workers`` threads, created on first use (and anew in a
    forked child, which inherits the pool object but not its threads)."""
    with _Settings.lock:
        pool, pid = _Settings.pool, os.getpid()
        if pool is not None and (_Settings.pid != pid or _Settings.workers < workers):
            if _Settings.pid == pid:
                pool.shutdown(wait=False)
            pool = None
        if pool is None:
            pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ortools_lag-ufunc")
            _Settings.pool, _Settings.pid, _Settings.workers = pool, pid, workers
        return pool


def _contiguous(a: np.ndarray, shape: tuple[int, ...]) -> bool:
    return type(a) is np.ndarray and a.shape == shape and a.flags.c_contiguous


class _Job:
    """The slices of one :func:`blockwise` call, taken in turn by the caller and the workers:
    a worker that starts late (a busy machine) finds fewer or no slices left, and the caller
    never waits for a thread that has not started."""

    def __init__(
        self, kernel: Callable[..., object], flats: list[np.ndarray], cuts: list[int]
    ) -> None:
        self.kernel, self.flats, self.cuts = kernel, flats, cuts
        self.err = np.geterr()  # the caller's floating-point error state, in every thread
        self.lock = threading.Lock()
        self.taken = 0
        self.left = len(cuts) - 1
        self.finished = threading.Event()
        self.error: BaseException | None = None

    def _take(self) -> int | None:
        with self.lock:
            i, self.taken = self.taken, self.taken + 1
        return i if i < len(self.cuts) - 1 else None

    def work(self) -> None:
        """Take and run slices until none is left."""
        with np.errstate(**self.err):
            while (i := self._take()) is not None:
                lo, hi = self.cuts[i], self.cuts[i + 1]
                try:
                    if self.error is None:
                        self.kernel(*(f[lo:hi] for f in self.flats))
                except BaseException as exc:  # re-raised by the caller
                    self.error = exc
                finally:
                    with self.lock:
                        self.left -= 1
                        if self.left == 0:
                            self.finished.set()


class _Choice:
    """Pool or one thread, per kernel and dtype: whichever has been faster per entry.

    Each call's wall time per entry updates a running mean for the way it ran; the faster way
    runs, and every ``EXPLORE``-th call the other, to follow a changing machine. The pool loses
    where the other cores are busy: another process, or OpenBLAS's workers, which spin-wait
    for a while after each matrix product and leave no core to a third thread.
    """

    EXPLORE = 16
    WEIGHT = 0.25  # of the newest call in the running means

    def __init__(self) -> None:
        self.seconds = {True: math.inf, False: math.inf}  # per entry: pooled, single
        self.calls = 0

    def pooled(self) -> bool:
        self.calls += 1
        best = self.seconds[True] <= self.seconds[False]
        untried = [way for way, t in self.seconds.items() if t == math.inf]
        if untried:
            return untried[0]
        return not best if self.calls % self.EXPLORE == 0 else best

    def record(self, pooled: bool, per_entry: float) -> None:
        old = self.seconds[pooled]
        self.seconds[pooled] = (
            per_entry if old == math.inf else old + self.WEIGHT * (per_entry - old)
        )


_choices: dict[tuple[int, str, int], _Choice] = {}


def _choice(kernel: Callable[..., object], dtype: np.dtype, threads: int) -> _Choice:
    key = (id(kernel), dtype.str, threads)
    c = _choices.get(key)
    if c is None:
        if len(_choices) > 1024:  # kernels made on the fly (lambdas): forget old ones
            _choices.clear()
        c = _choices.setdefault(key, _Choice())
    return c


def blockwise(
    kernel: Callable[..., object],
    out: np.ndarray,
    *inputs: np.ndarray,
    min_size: int = MIN_SIZE,
) -> np.ndarray:
    """Run ``kernel(out, *inputs)`` on matching slices, on up to :func:`get_num_threads` threads.

    Parameters
    ----------
    kernel
        An elementwise kernel: called with views ``(out_part, *input_parts)`` of equal length, it
        writes ``out_part`` (inputs may be ``out`` itself: in place).
    out, inputs
        Arrays of one shape. Unless all are C-contiguous numpy arrays with at least
        ``2 * min_size`` entries, the kernel runs once on the whole arrays.
    min_size
        Fewest entries in a slice; there are at most ``4 * threads`` slices, which the calling
        thread and the pool's threads take in turn.

    Returns
    -------
    numpy.ndarray
        ``out``.
    """
    n, threads = out.size, get_num_threads()
    slices = min(n // max(min_size, 1), SLICES_PER_THREAD * threads)
    if threads < 2 or slices < 2 or not all(_contiguous(a, out.shape) for a in (out, *inputs)):
        kernel(out, *inputs)
        return out
    choice = _choice(kernel, out.dtype, threads)
    pooled = choice.pooled()
    t0 = time.perf_counter()
    if not pooled:
        kernel(out, *inputs)
        choice.record(False, (time.perf_counter() - t0) / n)
        return out
    flats = [a.reshape(-1) for a in (out, *inputs)]
    job = _Job(kernel, flats, [n * i // slices for i in range(slices + 1)])
    helpers = min(threads, slices) - 1
    pool = _executor(helpers)
    for _ in range(helpers):
        pool.submit(job.work)
    job.work()
    job.finished.wait()  # slices taken by workers are written before ``out`` is returned
    choice.record(True, (time.perf_counter() - t0) / n)
    if job.error is not None:
        raise job.error
    return out


def background(fn: Callable[[], T], *, size: int, min_size: int = 8 * MIN_SIZE) -> Future[T]:
    """Run ``fn`` on the shared pool while the caller goes on; its result by ``.result()``.

    Worth it for work that releases the GIL (scipy's sparse conversions and graph searches,
    large numpy kernels) beside other such work in the caller. It runs inline instead, already
    done when returned, with one thread (:func:`get_num_threads`) or when ``size`` (the job's
    entries) is below ``min_size``. An exception raised by ``fn`` is raised by ``.result()``.

    >>> background(lambda: 6 * 7, size=10).result()
    42
    """
    if get_num_threads() < 2 or size < min_size:
        done: Future[T] = Future()
        try:
            done.set_result(fn())
        except Exception as exc:  # handed to the caller by .result(), as the pool does
            done.set_exception(exc)
        return done
    return _executor(1).submit(fn)
