"""The inputs the fuzzer of ``test_fuzz_inputs.py`` found escaping, and the solver options of
issue 17 item 14: each raised a bare Python error (or was ignored) before, and is now the
project's own error naming the file, line and field, or the option and its valid choices.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ortools_lag import Model, solve
from ortools_lag.errors import ModelError, OptionError, SpecError
from ortools_lag.io import gap, rcsp, rudy
from ortools_lag.io.bipartite import read_assignment, read_transportation
from ortools_lag.io.lp_format import read_lp
from ortools_lag.io.mps import read_mps
from ortools_lag.problems import maxcut
from tests.certificates import check_solution
from tests.test_fuzz_inputs import _seed


# -- the escapes the fuzzer found, kept as plain tests ---------------------------------------------
def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_truncated_gzip_assignment_file_is_a_spec_error(tmp_path: Path) -> None:
    # escaped as EOFError from gzip (a gzip magic number, then nothing)
    with pytest.raises(SpecError, match=r"a.txt: cannot read the file"):
        read_assignment(_file(tmp_path, "a.txt", b"\x1f\x8b3\x1f\x8b3"))


@pytest.mark.parametrize("reader, name", [(read_mps, "bad.mps"), (read_lp, "bad.lp")])
def test_names_that_are_not_utf8_are_a_spec_error_with_their_line(
    reader: Callable[[Path], Any], name: str, tmp_path: Path
) -> None:
    # escaped as UnicodeDecodeError when highspy handed the row names back
    source = _seed("netlib/afiro.mps.gz") if name.endswith(".mps") else _seed("model.lp")
    lines = source.splitlines(keepends=True)
    k = next(i for i, ln in enumerate(lines) if b"R09" in ln)  # the first row's name
    lines[k] = lines[k].replace(b"R09", b"R\xe909")
    with contextlib.redirect_stdout(io.StringIO()):
        with pytest.raises(SpecError, match=rf"{name}:{k + 1}: names must be UTF-8 text"):
            reader(_file(tmp_path, name, b"".join(lines)))


@pytest.mark.parametrize(
    "reader, text, where",
    [
        (lambda t: gap.parse_gap(t, source="g.txt"), " 5\n 1.13e+207 15\n", r"2: problem\[1\].m"),
        (lambda t: rcsp.parse_rcsp(t, "g.txt"), " 100 1.17e+59 1\n 0\n", r"1: m"),
        (lambda t: rudy.parse_rudy(t, "g.txt"), "3 1e300\n1 2 1\n", r"1: m"),
    ],
)
def test_a_count_too_large_for_an_integer_is_a_spec_error(
    reader: Callable[[str], Any], text: str, where: str
) -> None:
    # escaped as IndexError ("cannot fit 'int' into an index-sized integer"): the float count
    # was cast to int64 past its range
    with pytest.raises(
        SpecError, match=rf"g.txt:{where}: expected an integer .*at most 9007199254740992, "
    ):
        reader(text)


def test_a_rudy_header_with_a_huge_vertex_count_is_refused_before_the_matrix(
    tmp_path: Path,
) -> None:
    # escaped as MemoryError (a 62 PiB dense weight matrix) from maxcut.read
    path = _file(tmp_path, "g.txt", b"93390832 1\n1 2 1\n")
    with pytest.raises(SpecError, match=r"g.txt:1: n: 93390832 vertices declared: the limit is"):
        maxcut.read(path)


def test_an_infinite_count_in_a_transportation_table_is_a_spec_error(tmp_path: Path) -> None:
    # escaped as OverflowError (int(inf))
    path = _file(tmp_path, "t.txt", b"1e309 3\n5 4\n3 3 3\n1 2 3\n4 5 6\n")
    with pytest.raises(SpecError, match=r"t.txt:1: m: expected a positive integer, found inf"):
        read_transportation(path)


def test_python_api_escapes_are_model_errors() -> None:
    m = Model()
    x = m.var("x", 3)
    cases: list[tuple[Callable[[], Any], str]] = [
        (lambda: m.var("y", 2, lb=10**400), r"'y': lb is too large for a float"),  # OverflowError
        (lambda: x.reshape(-3.2e16), r"cannot reshape \(3,\) to \(-3.2e\+16,\)"),  # TypeError
        (lambda: x ** "abc", r"exponent must be a real number, got 'abc'"),  # ValueError
        (lambda: x**None, r"exponent must be a real number, got None"),  # TypeError
        (lambda: x**10**400, r"exponent must be a real number"),  # OverflowError
        (lambda: x ** np.ones(4), r"exponent must be a real number"),  # "truth value" ValueError
        (lambda: x[[1, [2]]], r"index \[1, \[2\]\] is not an index"),  # ValueError (ragged)
        (lambda: x[2**63], r"index 9223372036854775808 out of range"),  # OverflowError
        (lambda: m.add("g", np.array(0.0)), r"group 'g': expected a constraint"),  # TypeError
    ]
    for make, message in cases:
        with pytest.raises(ModelError, match=message):
            make()


# -- issue 17 item 14: solver options checked once, at the options schema --------------------------
def _lp() -> Model:
    """max x0 + x1 s.t. x0 + 2 x1 <= 4, 0 <= x <= 3: optimum x = (3, 0.5), objective 3.5 (the cap
    row binds with multiplier 1/2: the x1 column prices 1 = 2 * 1/2, x0 sits at its bound)."""
    m = Model()
    x = m.var("x", 2, lb=0, ub=3)
    m.maximize(x[0] + x[1])
    m.add("cap", x[0] + 2 * x[1] <= 4)
    return m


@pytest.mark.parametrize("solver", ["subgradient", "bundle", "alm", "admm"])
def test_a_callback_that_is_not_callable_is_an_option_error(solver: str) -> None:
    # was: TypeError "'int' object is not callable" from inside the first iteration
    with pytest.raises(OptionError, match=rf"option 'callback' of solver '{solver}': .*callable"):
        solve(_lp(), solver, callback=3, relax=["cap"])


@pytest.mark.parametrize("solver", ["alm", "bundle", "subgradient"])
def test_an_unknown_executor_is_an_option_error_listing_the_choices(solver: str) -> None:
    # was: ignored (the run never needed an executor)
    with pytest.raises(
        OptionError, match=r"option 'executor'.*unknown executor \(valid choices: serial, threads"
    ):
        solve(_lp(), solver, executor="nosuch", relax=["cap"])


def test_highs_threads_are_bounded_before_highs_allocates_them() -> None:
    # was: std::bad_alloc (or minutes of allocation) when HiGHS sized its pool
    with pytest.raises(OptionError, match=r"option 'threads' of solver 'highs': .*less than or eq"):
        solve(_lp(), "highs", threads=10**9)


@pytest.mark.parametrize(
    "options, message",
    [
        (
            {"solver_options": {"nosuch": 1}},
            r"unknown setting 'nosuch' of cvxpy solver CLARABEL or",
        ),
        ({"solver_options": {"time_limt": 1}}, r"did you mean 'time_limit'\?"),
        ({"cvxpy_solver": "CLARABEL", "solver_options": {"max_iters": 5}}, r"solver CLARABEL;"),
        ({"solver_options": {"primal_feasibility_tolerance": "abc"}}, r"HIGHS refused it"),
    ],
)
def test_cvxpy_solver_options_are_checked_by_name(options: dict[str, Any], message: str) -> None:
    # was: a bare ValueError (HiGHS) or TypeError (Clarabel) from inside cvxpy
    with contextlib.redirect_stdout(io.StringIO()):
        with pytest.raises(OptionError, match=r"option 'solver_options' of solver 'cvxpy': .*"
                           + message):  # fmt: skip
            solve(_lp(), "cvxpy", **options)


def test_valid_options_still_solve_to_the_hand_derived_optimum() -> None:
    calls: list[Any] = []
    runs = [
        solve(_lp(), "highs", threads=2),
        solve(_lp(), "cvxpy", solver_options={"time_limit": 30.0}),
        solve(_lp(), "bundle", relax=["cap"], executor="serial", callback=calls.append),
    ]
    assert calls, "the callback was called"
    for sol in runs:
        check_solution(_lp(), sol)
        assert sol.objective == pytest.approx(3.5, abs=1e-6)
    assert float(runs[0].multipliers["cap"]) == pytest.approx(0.5)
