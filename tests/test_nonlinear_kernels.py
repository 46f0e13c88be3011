"""The numpy fast paths of the expression graph give the generic rules' numbers exactly.

- ``ufunc_threads.blockwise``: a kernel split over threads equals one numpy call, bit for bit;
- ``buffers.empty``: a cached buffer is handed out again only when nothing else references it;
- elementwise kernels (``out=``, derivative factors from the stored values) equal the generic
  array-API formulas evaluated by numpy, bit for bit, values and adjoints;
- the tape's in-place plan: values and derivatives against numpy closed forms, the caller's
  arrays, constants and data never overwritten, shared and still-needed values never reused.
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from ortools_lag import Model, ModelError
from ortools_lag.model import buffers
from ortools_lag.model import elementwise as EW
from ortools_lag.model import functions as F
from ortools_lag.model import ufunc_threads as UT
from ortools_lag.model.nonlinear import Ctx, data
from ortools_lag.model.tape import inplace_plan, topological_order


@pytest.fixture
def threads():
    """Run with a given number of threads (the pool not yet judged), restored afterwards."""
    UT._choices.clear()
    yield UT.set_num_threads
    UT.set_num_threads(None)
    UT._choices.clear()


# -- blockwise ----------------------------------------------------------------------------------
@pytest.mark.parametrize("n_threads", [1, 2, 3])
@pytest.mark.parametrize("shape", [(1000, 37), (70001,), (3, 5, 4099)])
def test_blockwise_is_bit_identical_to_one_call(threads, n_threads: int, shape) -> None:
    threads(n_threads)
    x = np.random.default_rng(0).normal(scale=3.0, size=shape)
    for ufunc in (np.tanh, np.exp, np.sin, np.log1p):
        arg = np.abs(x) if ufunc is np.log1p else x
        out = UT.blockwise(lambda o, a, f=ufunc: f(a, out=o), np.empty_like(arg), arg, min_size=97)
        assert np.array_equal(out, ufunc(arg))
    y = x.copy()  # in place
    UT.blockwise(lambda o, a: np.tanh(a, out=o), y, y, min_size=97)
    assert np.array_equal(y, np.tanh(x))


def test_blockwise_falls_back_on_views_and_small_arrays(threads) -> None:
    threads(4)
    x = np.random.default_rng(1).normal(size=(400, 300))
    calls: list[int] = []

    def kernel(o: np.ndarray, a: np.ndarray) -> None:
        calls.append(a.size)
        np.exp(a, out=o)

    out = UT.blockwise(kernel, np.empty((300, 400)), x.T, min_size=10)  # a transposed view
    assert calls == [x.size] and np.array_equal(out, np.exp(x.T))
    calls.clear()
    UT.blockwise(kernel, np.empty(50), x[0, :50], min_size=10_000)  # small: one call
    assert calls == [50]
    calls.clear()
    out = UT.blockwise(kernel, np.empty_like(x), x, min_size=10)
    assert calls == [x.size // 16] * 16  # four threads, four equal slices each
    assert np.array_equal(out, np.exp(x))


def test_each_kernel_runs_the_faster_way_and_explores_the_other(threads) -> None:
    threads(2)
    main = threading.main_thread()
    calls: list[bool] = []

    def slow_in_workers(o: np.ndarray, a: np.ndarray) -> None:
        calls.append(threading.current_thread() is main)
        if threading.current_thread() is not main:
            time.sleep(0.02)  # a worker sharing its core with a busy thread
        np.exp(a, out=o)

    x = np.random.default_rng(5).normal(size=80_000)
    ways = []
    for _ in range(2 * UT._Choice.EXPLORE):
        calls.clear()
        out = UT.blockwise(slow_in_workers, np.empty_like(x), x, min_size=1000)
        assert np.array_equal(out, np.exp(x))
        ways.append(len(calls) > 1)  # pooled: one call a slice
    assert ways[:2] == [True, False]  # both ways tried first
    assert sum(ways[2:]) == 2  # then one thread, the faster, but for the exploring calls
    choice = UT._choice(slow_in_workers, x.dtype, 2)
    assert choice.seconds[False] < choice.seconds[True]


def test_blockwise_keeps_the_callers_error_state(threads) -> None:
    threads(2)
    x = np.full(100_000, -1.0)
    with np.errstate(invalid="raise"), pytest.raises(FloatingPointError):
        UT.blockwise(lambda o, a: np.log(a, out=o), np.empty_like(x), x, min_size=100)
    with np.errstate(invalid="ignore"):
        out = UT.blockwise(lambda o, a: np.log(a, out=o), np.empty_like(x), x, min_size=100)
    assert np.isnan(out).all()


def test_thread_setting_and_a_pool_after_fork(threads, monkeypatch: pytest.MonkeyPatch) -> None:
    threads(3)
    assert UT.get_num_threads() == 3
    with pytest.raises(ModelError, match="positive integer"):
        UT.set_num_threads(0)
    pool = UT._executor(2)
    assert UT._executor(1) is pool  # large enough: reused
    monkeypatch.setattr(os, "getpid", lambda: -1)  # as in a forked child: a new pool
    assert UT._executor(2) is not pool
    monkeypatch.undo()
    UT.set_num_threads(None)
    monkeypatch.setenv("ORTOOLS_LAG_NUM_THREADS", "5")
    assert UT.get_num_threads() == 5


@pytest.mark.parametrize("n_threads", [1, 2])
def test_background_runs_beside_the_caller_or_inline(threads, n_threads: int) -> None:
    threads(n_threads)
    import threading

    job = UT.background(threading.current_thread, size=10, min_size=0)
    ran_on = job.result()
    assert (ran_on is threading.current_thread()) == (n_threads == 1)
    small = UT.background(threading.current_thread, size=10)  # below min_size: inline
    assert small.done() and small.result() is threading.current_thread()

    def fail() -> None:
        raise ModelError("bad input")

    with pytest.raises(ModelError, match="bad input"):  # raised by .result(), not lost
        UT.background(fail, size=10, min_size=0).result()


# -- reused buffers ------------------------------------------------------------------------------
def test_buffers_are_reused_only_when_nothing_holds_them() -> None:
    buffers.clear()
    shape = (256, 1024)  # 2 MiB
    a = buffers.empty(shape)
    b = buffers.empty(shape)
    assert a is not b and a.flags.c_contiguous and a.dtype == np.float64
    held = [a]
    view = b[:3].reshape(-1)  # a view keeps its base in use
    del a, b
    c = buffers.empty(shape)
    assert c is not held[0] and not np.shares_memory(c, view)
    del view
    d = buffers.empty(shape)  # the buffer behind the view, free again
    assert not np.shares_memory(d, held[0]) and not np.shares_memory(d, c)
    small = buffers.empty((10, 10))  # below MIN_BYTES: plain numpy
    assert small.nbytes < buffers.MIN_BYTES
    f32 = buffers.empty(shape, np.float32)
    assert f32.dtype == np.float32 and not np.shares_memory(f32, c)
    buffers.clear()


def test_buffer_budget_and_tensors_sharing_memory() -> None:
    buffers.clear()
    buffers.set_budget(3 << 20)  # room for one 2 MiB buffer
    try:
        a = buffers.empty((512, 512))
        b = buffers.empty((512, 512))  # over budget: not cached
        keep = id(a)
        del b
        assert id(buffers.empty((512, 512))) != keep  # ``a`` is held
        del a
        again = buffers.empty((512, 512))
        assert id(again) == keep  # the cached one, free
        torch = pytest.importorskip("torch")
        t = torch.from_numpy(again)  # a tensor on the same memory holds it
        del again
        assert not np.shares_memory(buffers.empty((512, 512)), t.numpy())
    finally:
        buffers.set_budget(128 << 20)
        buffers.clear()


# -- elementwise kernels vs the generic rules ----------------------------------------------------
DOMAINS = {"log": (0.1, 4.0), "sqrt": (0.1, 4.0)}


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("name", sorted(EW.RULES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_numpy_kernels_equal_the_generic_rules(threads, n_threads, name, dtype) -> None:
    threads(n_threads)
    rule = EW.RULES[name]
    lo, hi = DOMAINS.get(name, (-4.0, 4.0))
    rng = np.random.default_rng(2)
    x = rng.uniform(lo, hi, size=(300, 257)).astype(dtype)  # 2 x MIN_SIZE entries and more
    x[0, :3] = [max(lo, 0.0), lo, hi]  # kinks of relu and abs at 0
    g = rng.normal(size=x.shape).astype(dtype)
    op = EW.Elementwise(name, rule.f, rule.df, rule)
    y = op.forward(Ctx(np, {}), [x])
    assert y.dtype == dtype and np.array_equal(y, rule.f(np, x))
    (gx,) = op.vjp(np, g, [x], y, [True])
    assert np.array_equal(gx, g * rule.df(np, x, y))
    z = x.copy()  # in place, into a fresh argument's buffer
    assert np.array_equal(op.forward_into(Ctx(np, {}), [z], 0), y)


# -- the in-place plan --------------------------------------------------------------------------
def _layer_model() -> tuple[Model, object, object, object]:
    m = Model()
    return m, m.var("W", (5, 4), lb=None), m.var("b", (5, 1), lb=None), m.var("z", (4, 7), lb=None)


def test_inplace_plan_of_a_layer_and_its_exclusions() -> None:
    _, W, b, z = _layer_model()
    layer = F.tanh(W @ z + b)
    plan = inplace_plan(topological_order(layer))
    assert [n.op.name for n in topological_order(layer) if id(n) in plan] == ["add", "tanh"]
    shared = W @ z
    e = F.tanh(shared) + shared  # two readers of W @ z: neither writes into it
    assert inplace_plan(topological_order(e)) == {}  # and tanh' reads tanh's own value
    needs_x = F.log(W @ z + 10.0)  # log' = 1/x reads its argument: not in place
    plan_log = inplace_plan(topological_order(needs_x))
    assert [n.op.name for n in topological_order(needs_x) if id(n) in plan_log] == ["add"]


def test_inplace_evaluation_against_closed_forms() -> None:
    m, W, b, z = _layer_model()
    rng = np.random.default_rng(3)
    vals = {
        "W": rng.normal(size=(5, 4)),
        "b": rng.normal(size=(5, 1)),
        "z": rng.normal(size=(4, 7)),
    }
    X = data("X", rng.normal(size=(5, 7)))
    before = {k: v.copy() for k, v in vals.items()}
    x_before = X.op.value.copy()
    shared = W @ z
    e = (F.tanh(shared + b) * X).sum() + F.log(F.exp(shared) + 1.0).sum() + F.sigmoid(shared).sum()
    tape = e.forward(vals)
    a = vals["W"] @ vals["z"]
    t = np.tanh(a + vals["b"])
    s = 1.0 / (1.0 + np.exp(-a))
    ref = np.sum(t * X.op.value) + np.sum(np.log(np.exp(a) + 1.0)) + np.sum(s)
    assert np.isclose(float(tape.value), ref, rtol=1e-13)
    grads = tape.backward()
    ga = (1 - t**2) * X.op.value  # dF/da of each term, then the chain rule through W @ z
    gb = ga.sum(axis=1, keepdims=True)
    ga = ga + np.exp(a) / (np.exp(a) + 1.0) + s * (1 - s)
    assert np.allclose(grads["W"], ga @ vals["z"].T, rtol=1e-12, atol=1e-13)
    assert np.allclose(grads["z"], vals["W"].T @ ga, rtol=1e-12, atol=1e-13)
    assert np.allclose(grads["b"], gb, rtol=1e-12, atol=1e-13)
    for k, v in before.items():  # the caller's arrays and the data are untouched
        assert np.array_equal(vals[k], v)
    assert np.array_equal(X.op.value, x_before)
    again = e.forward(vals)  # and a second pass gives the same numbers
    assert float(again.value) == float(tape.value)


def test_float32_values_stay_float32() -> None:
    m, W, b, z = _layer_model()
    rng = np.random.default_rng(4)
    vals = {k: rng.normal(size=v.shape).astype(np.float32) for k, v in (("W", W), ("b", b))}
    X = data("X", rng.normal(size=(4, 7)))  # float64 data follow the values' dtype
    layer = F.tanh(W @ X + b) * 2.0
    out = layer.evaluate(vals)
    assert out.dtype == np.float32
    ref = np.tanh(vals["W"].astype(float) @ X.op.value + vals["b"]) * 2.0
    assert np.allclose(out, ref, rtol=1e-5, atol=1e-6)
    out_b = layer.evaluate(vals, {"X": X.op.value[:, :3]})  # replaced data too
    assert out_b.dtype == np.float32 and np.allclose(out_b, ref[:, :3], rtol=1e-5, atol=1e-6)
