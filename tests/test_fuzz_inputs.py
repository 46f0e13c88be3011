"""Fuzzing every input path: only the project's own errors may escape (issue 17).

Hypothesis (``derandomize=True``, a deadline per example, no example database) feeds four input
paths with hostile data:

(a) the shipped YAML problem files (every ``problems/*/*.yaml``), mutated in their structure
    (values replaced by other types, booleans, huge/negative/NaN numbers, long strings, control
    characters, deeply nested lists and mappings; keys deleted, duplicated or invented) and in
    their text, loaded by :func:`ortools_lag.spec.loader.load` and, for a sample, by the CLI's
    ``validate``/``explain`` in-process (exit 0/1 done, 2 bad input; 3 "internal error" fails);
(b) every instance reader of :mod:`ortools_lag.io` (TSPLIB and tours, DIMACS, GAP, mknap, SCP,
    UFL, RCSP, rudy, assignment and transportation tables, MPS and LP) and the families'
    ``read`` on mutated copies of the real files in ``data/`` (tokens replaced by huge counts,
    negative or non-finite numbers and words, truncation, junk bytes, lines dropped or doubled,
    other encodings);
(c) the expression language on random text built from its grammar, with junk inserted;
(d) the Python API: ``Model.var``/``add``/``minimize`` with random shapes, bounds and values.

Anything raised must be an :class:`~ortools_lag.errors.OrtoolsLagError` (a ``SpecError`` for the
expression parser). Each test runs a small count here and a large one under ``slow``; the
defects the fuzzer found are kept as plain regression tests in ``test_fuzz_regressions.py``
(with the solver options of item 14, checked once by each solver's options schema).
"""

from __future__ import annotations

import contextlib
import gzip
import importlib
import io
import math
import re
import shutil
import string
import tempfile
from collections.abc import Callable
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ortools_lag import Model
from ortools_lag.cli import main
from ortools_lag.errors import OrtoolsLagError, SpecError
from ortools_lag.io import dimacs, gap, mknap, rcsp, rudy, scp, tsplib, ufl
from ortools_lag.io.bipartite import read_assignment, read_transportation
from ortools_lag.io.lp_format import read_lp
from ortools_lag.io.mps import read_mps
from ortools_lag.problems import (
    assignment,
    csp,
    facility_location,
    knapsack,
    max_flow,
    maxcut,
    min_cost_flow,
    set_cover,
    transportation,
    tsp,
)
from ortools_lag.spec.expr_functions import LINEAR_FUNCTIONS, NONLINEAR_FUNCTIONS
from ortools_lag.spec.expr_parser import Scope, parse_constant, parse_constraint, parse_expression
from ortools_lag.spec.loader import load

ROOT = Path(__file__).parents[1]
DATA = ROOT / "data"
YAML_FILES = sorted((ROOT / "problems").glob("*/*.yaml"))


def _settings(n: int) -> settings:
    return settings(
        max_examples=n,
        deadline=timedelta(seconds=10),
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def _pair(check: Callable[..., None], fast: int, slow: int, **strategies: Any) -> tuple[Any, Any]:
    """Two tests of one property: ``fast`` examples in the main run, ``slow`` under ``slow``."""
    quick = _settings(fast)(given(**strategies)(check))
    full = pytest.mark.slow(_settings(slow)(given(**strategies)(check)))
    return quick, full


# -- hostile values shared by the strategies -------------------------------------------------------
HUGE = [10**9, -(10**9), 2**31, 2**63, 2**70, 10**400, -1, 0]
NUMBERS = st.one_of(
    st.integers(-5, 1000),
    st.sampled_from(HUGE),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e-320]),
)
WEIRD_TEXT = st.one_of(
    st.text(alphabet=string.printable, max_size=20),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
    st.sampled_from(["\x00", "\x1b[2J", "\u202e", "a\nb", "nan", "inf", "1e999"]),
    st.integers(100, 20_000).map(lambda n: "x" * n),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, WEIRD_TEXT)


def _nested(depth: int, leaf: Any, as_map: bool) -> Any:
    for _ in range(depth):
        leaf = {"a": leaf} if as_map else [leaf]
    return leaf


#: Deep nesting goes into the text after dumping (PyYAML's dumper recurses): a marker scalar
#: replaced by ``[[[...1...]]]`` or ``{a: {a: ...1...}}`` of the given depth.
DEEP = st.builds("DEEPNEST_{}_{}".format, st.sampled_from([30, 200, 5000]), st.sampled_from("LM"))


def _deepen(text: str) -> str:
    def nest(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return "[" * n + "1" + "]" * n if m.group(2) == "L" else "{a: " * n + "1" + "}" * n

    return re.sub(r"'?DEEPNEST_(\d+)_([LM])'?", nest, text)


VALUES = st.one_of(
    st.recursive(
        SCALARS,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(
                st.sampled_from(["expr", "shape", "lb", "ub", "file", "name", "zz", "solver"]),
                inner,
                max_size=3,
            ),
        ),
        max_leaves=8,
    ),
    DEEP,
)


# -- (a) mutated YAML problem files ---------------------------------------------------------------
@cache
def _source(path: Path) -> str:
    """A shipped file's text with its ``../../data`` references made absolute (the mutants are
    written to a temporary folder)."""
    return path.read_text().replace("../../data/", f"{DATA.as_posix()}/")


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


def _mutate_doc(draw: st.DrawFn, doc: Any) -> Any:
    paths = _paths(doc)
    if not paths:
        return draw(VALUES)
    path = draw(st.sampled_from(paths))
    parent = doc
    for seg in path[:-1]:
        parent = parent[seg]
    action = draw(st.sampled_from(["replace", "replace", "delete", "invent", "wrap"]))
    if action == "replace":
        parent[path[-1]] = draw(VALUES)
    elif action == "delete":
        del parent[path[-1]]
    elif action == "wrap":  # the same value one or many levels deeper
        parent[path[-1]] = _nested(draw(st.sampled_from([1, 3, 40])), parent[path[-1]], False)
    elif isinstance(parent, dict):
        key = draw(
            st.one_of(st.text(string.ascii_letters + "_", min_size=1, max_size=8), WEIRD_TEXT)
        )
        parent[key] = draw(VALUES)
    return doc


@st.composite
def yaml_structural(draw: st.DrawFn) -> tuple[Path, str]:
    """A shipped file with one to three values replaced, keys removed or invented."""
    path = draw(st.sampled_from(YAML_FILES))
    doc = yaml.safe_load(_source(path))
    for _ in range(draw(st.integers(1, 3))):
        doc = _mutate_doc(draw, doc)
    return path, _deepen(yaml.safe_dump(doc, allow_unicode=True, width=1000))


@st.composite
def yaml_textual(draw: st.DrawFn) -> tuple[Path, str]:
    """A shipped file's text with a piece deleted, junk or a control character inserted, a line
    duplicated (a duplicate key), lines swapped or the text cut short."""
    path = draw(st.sampled_from(YAML_FILES))
    text = _source(path)
    n = len(text)
    i = draw(st.integers(0, n))
    j = draw(st.integers(i, min(n, i + 40)))
    lines = text.splitlines(keepends=True)
    a, b = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
    action = draw(st.sampled_from(["delete", "insert", "control", "dup_line", "swap", "cut"]))
    if action == "delete":
        return path, text[:i] + text[j:]
    if action == "insert":
        junk = draw(st.text(alphabet=string.printable + "λ{}[]:-&*!|>'\"%@`", max_size=12))
        return path, text[:i] + junk + text[i:]
    if action == "control":
        return path, text[:i] + chr(draw(st.sampled_from([0, 1, 8, 11, 27, 127, 0x85]))) + text[i:]
    if action == "dup_line":
        lines.insert(a, lines[a])
    elif action == "swap":
        lines[a], lines[b] = lines[b], lines[a]
    else:
        return path, text[:i]
    return path, "".join(lines)


YAML_MUTANTS = st.one_of(yaml_structural(), yaml_textual())


def _write_mutant(source: Path, text: str, folder: Path) -> Path:
    for other in source.parent.iterdir():  # parameter files the mutant may refer to
        if other.suffix in (".csv", ".txt", ".npy"):
            shutil.copy(other, folder / other.name)
    target = folder / source.name
    target.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    return target


def _check_yaml_load(mutant: tuple[Path, str]) -> None:
    source, text = mutant
    with tempfile.TemporaryDirectory() as tmp:
        path = _write_mutant(source, text, Path(tmp))
        try:
            problem, _solver = load(path)
        except OrtoolsLagError as exc:
            assert str(exc).strip()
            return
        assert problem.model is not None


def _check_yaml_cli(mutant: tuple[Path, str]) -> None:
    source, text = mutant
    with tempfile.TemporaryDirectory() as tmp:
        path = _write_mutant(source, text, Path(tmp))
        for argv in (["validate", str(path)], ["explain", str(path)]):
            err = io.StringIO()
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                code = main(argv)
            message = err.getvalue()
            assert code in (0, 1, 2), (code, message, text)
            assert "internal error" not in message and "Traceback" not in message, message
            if code == 2:
                assert message.startswith("error: "), message
                return


test_yaml_load, test_yaml_load_slow = _pair(_check_yaml_load, 300, 2000, mutant=YAML_MUTANTS)
test_yaml_cli, test_yaml_cli_slow = _pair(_check_yaml_cli, 40, 300, mutant=YAML_MUTANTS)


# -- (b) every instance reader on mutated real files ----------------------------------------------
#: Small instances of the formats data/ has no file for, written from their format descriptions.
RUDY_SEED = b"5 6\n1 2 1\n2 3 1\n3 4 -2.5\n4 5 1\n5 1 1\n1 3 4\n"
ASSIGN_SEED = b"3\n4 1 3\n2 0 5\n3 2 2\n"
TRANSPORT_SEED = b"# two plants, three markets\n2 3\n5 4\n3 3 3\n1 2 3\n4 5 6\n"
MAXFLOW_SEED = (
    b"c six nodes\np max 4 5\nn 1 s\nn 4 t\na 1 2 16\na 1 3 13\na 2 3 10\na 2 4 12\na 3 4 14\n"
)


@cache
def _seed(name: str) -> bytes:
    """A seed file's bytes: a file of data/ (gzip undone), or one of the seeds above."""
    if name == "model.lp":
        with tempfile.TemporaryDirectory() as tmp:
            from ortools_lag.io.lp_format import write_lp

            write_lp(read_mps(DATA / "netlib" / "afiro.mps.gz"), Path(tmp) / "afiro.lp")
            return (Path(tmp) / "afiro.lp").read_bytes()
    inline = {"rudy": RUDY_SEED, "assign": ASSIGN_SEED, "transport": TRANSPORT_SEED}
    if name in inline:
        return inline[name]
    if name == "clrs.max":
        return MAXFLOW_SEED
    raw = (DATA / name).read_bytes()
    return gzip.decompress(raw) if name.endswith(".gz") else raw


GAP_FAMILY = importlib.import_module("ortools_lag.problems.gap")

#: (reader, seed files, the suffix the mutant is written with); each reader is called on the
#: mutant's path and may return anything or raise the project's errors.
READERS: list[tuple[str, Callable[[Path], Any], list[str], str]] = [
    ("tsplib", tsplib.read_tsplib, ["tsplib/gr17.tsp", "tsplib/att48.tsp", "tsplib/burma14.tsp",
                                    "tsplib/ulysses16.tsp"], ".tsp"),
    ("tour", lambda p: tsplib.read_tour(p, dimension=48), ["tsplib/att48.opt.tour"], ".tour"),
    ("tsp family", tsp.read, ["tsplib/burma14.tsp", "tsplib/gr17.tsp"], ".tsp"),
    ("dimacs", dimacs.read_dimacs, ["dimacs/netgen-2.min", "clrs.max"], ".min"),
    ("gr", dimacs.read_gr, ["dimacs/rome99.gr"], ".gr"),
    ("max flow family", max_flow.read, ["clrs.max"], ".max"),
    ("min cost flow family", min_cost_flow.read, ["dimacs/netgen-2.min"], ".min"),
    ("gap", lambda p: gap.read_gap(p, problem=2), ["gap/gap1.txt"], ".txt"),
    ("gap all", gap.read_gap_all, ["gap/gap1.txt", "gap/gap4.txt"], ".txt"),
    ("gap family", GAP_FAMILY.read, ["gap/gap1.txt"], ".txt"),
    ("mknap", mknap.read_mknap_all, ["mknap/mknap1.txt"], ".txt"),
    ("knapsack family", lambda p: knapsack.read(p, problem=3), ["mknap/mknap1.txt"],
     ".txt"),
    ("scp", scp.read_scp, ["scp/scp41.txt"], ".txt"),
    ("set cover family", set_cover.read, ["scp/scp41.txt"], ".txt"),
    ("ufl", ufl.read_ufl, ["ufl/orlib_uncap/70/cap71.txt"], ".txt"),
    ("ufl opt", lambda p: ufl.read_ufl_opt(p, n=50, m=16), ["ufl/orlib_uncap/70/cap71.txt.opt"],
     ".opt"),
    ("ufl family", facility_location.read, ["ufl/orlib_uncap/70/cap72.txt"], ".txt"),
    ("rcsp", rcsp.read_rcsp, ["rcsp/rcsp1.txt", "rcsp/rcsp3.txt"], ".txt"),
    ("csp family", csp.read, ["rcsp/rcsp1.txt"], ".txt"),
    ("rudy", rudy.read_rudy, ["rudy"], ".txt"),
    ("maxcut family", maxcut.read, ["rudy"], ".txt"),
    ("assignment", read_assignment, ["assign"], ".txt"),
    ("assignment family", assignment.read, ["assign"], ".txt"),
    ("transportation", read_transportation, ["transport"], ".txt"),
    ("transportation family", transportation.read, ["transport"], ".txt"),
    ("mps", read_mps, ["netlib/afiro.mps.gz", "netlib/sc50b.mps.gz"], ".mps"),
    ("mps.gz", read_mps, ["netlib/afiro.mps.gz"], ".mps.gz"),
    ("lp", read_lp, ["model.lp"], ".lp"),
]  # fmt: skip

#: Replacement tokens: huge, negative and non-finite numbers, other spellings of numbers, words,
#: the formats' own keywords in the wrong place.
TOKENS = [b"-1", b"0", b"1", b"1.5", b"-0", b"1e309", b"-1e309", b"inf", b"-inf", b"nan", b"NaN",
          b"1e18", b"99999999999999999999", b"2147483648", b"1000000000", b"2e9", b"1e-400",
          b"0x10", b"1_000", b"+", b"-", b".", b"e", b"abc", b"\xd9\xa3", b"\xef\xbc\x91", b"True",
          b"EOF", b"NODE_COORD_SECTION", b"DIMENSION:", b"EDGE_WEIGHT_SECTION", b"p", b"a", b"n",
          b"c", b"s", b"t", b"sp", b"max", b"min", b"ROWS", b"COLUMNS", b"RHS", b"BOUNDS",
          b"MARKER", b"Subject", b"To", b"End", b"<=", b">=", b"\x00", b"#"]  # fmt: skip
TOKEN = st.one_of(
    st.sampled_from(TOKENS),
    st.integers(-(10**12), 10**12).map(lambda v: str(v).encode()),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda v: repr(v).encode()),
)


def _mutate_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    action = draw(st.sampled_from(["token", "token", "head", "cut", "junk", "line", "dup",
                                   "encoding"]))  # fmt: skip
    if action in ("token", "head"):  # a token anywhere, or one of the first (the counts)
        parts = re.split(rb"(\s+)", data)
        words = [i for i in range(0, len(parts), 2) if parts[i]]
        if not words:
            return data + draw(TOKEN)
        pick = words[:8] if action == "head" else words
        parts[draw(st.sampled_from(pick))] = draw(TOKEN)
        return b"".join(parts)
    n = len(data)
    i = draw(st.integers(0, n))
    if action == "cut":
        return data[:i]
    if action == "junk":
        return data[:i] + draw(st.binary(min_size=1, max_size=16)) + data[i:]
    lines = data.splitlines(keepends=True) or [b""]
    k = draw(st.integers(0, len(lines) - 1))
    if action == "line":
        del lines[k]
        return b"".join(lines)
    if action == "dup":
        lines.insert(k, lines[k] * draw(st.sampled_from([1, 2, 50])))
        return b"".join(lines)
    codec = draw(st.sampled_from(["utf-16", "utf-8-sig", "latin-1", "utf-32", "cp1252"]))
    text = data.decode("latin-1")
    text = text[:i] + draw(st.sampled_from(["é", "λ", "\u2028", "\ufeff", ""])) + text[i:]
    return text.encode(codec, errors="replace")


@st.composite
def reader_mutants(draw: st.DrawFn) -> tuple[int, str, bytes]:
    """A reader (its index in READERS), a seed and a mutated copy of the seed (1-3 mutations)."""
    k = draw(st.integers(0, len(READERS) - 1))
    name = draw(st.sampled_from(READERS[k][2]))
    data = _seed(name)
    for _ in range(draw(st.integers(1, 3))):
        data = _mutate_bytes(draw, data)
    return k, name, data


def _check_reader(case: tuple[int, str, bytes]) -> None:
    k, seed_name, data = case
    label, reader, _seeds, suffix = READERS[k]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"mutant{suffix}"
        path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
        with contextlib.redirect_stdout(io.StringIO()):  # HiGHS's reader talks
            try:
                reader(path)
            except OrtoolsLagError as exc:
                assert str(exc).strip(), label


test_readers, test_readers_slow = _pair(_check_reader, 1500, 6000, case=reader_mutants())


@pytest.mark.parametrize("k", range(len(READERS)), ids=[r[0] for r in READERS])
def test_every_reader_reads_its_unmutated_seeds(k: int) -> None:
    """The seeds themselves are valid (so that the mutants start from real files)."""
    label, reader, seeds, suffix = READERS[k]
    for name in seeds:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"seed{suffix}"
            data = _seed(name)
            path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
            with contextlib.redirect_stdout(io.StringIO()):
                assert reader(path) is not None, label


# -- (c) the expression language ------------------------------------------------------------------
FUNCTIONS = sorted(LINEAR_FUNCTIONS) + sorted(NONLINEAR_FUNCTIONS) + ["eval", "open", "nosuch"]
NAMES = ["x", "y", "z", "c", "A", "idx", "k", "inf", "pi", "nosuch", "__class__", "True", "None"]
LITERALS = ["0", "1", "2.5", "-3", "1e400", "1e-400", "10**400", "2**64", "0x1F", "1_0", "1j",
            "'s'", "...", "nan"]  # fmt: skip
ATOMS = st.one_of(
    st.sampled_from(["x", "c", "A", "y", "2"]),
    st.sampled_from(NAMES),
    st.sampled_from(LITERALS),
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=False).map(repr),
)
OPERATORS = ["+", "-", "*", "/", "@", "**", "//", "%", "&", "|", "<<", "and", "or"]
COMPARE = ["<=", ">=", "==", "<", "!=", "in"]
INDEX = ["0", "-1", "1:3", "::0", "::-1", "idx", "10**20", "0.5", "0, :", ":, 1", "[0, 1]", "x",
         "None", "...", "k"]  # fmt: skip
KWARGS = ["axis=0", "axis=1", "axis=5", "axis=-1", "axis='a'", "keepdims=True", "p=2", "order=1"]


def _compound(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(inner, st.sampled_from(OPERATORS), inner).map(" ".join)
    common = st.tuples(inner, st.sampled_from("+-*@"), inner).map(" ".join)  # mostly valid
    compare = st.tuples(inner, st.sampled_from(COMPARE), inner).map(" ".join)
    chain = st.tuples(st.sampled_from(["-1", "c", "0"]), st.just("<="), inner, st.just("<="),
                      st.sampled_from(["inf", "3", "c"])).map(" ".join)  # fmt: skip
    unary = st.tuples(st.sampled_from(["-", "+", "~", "not "]), inner).map("".join)
    args = st.lists(st.one_of(inner, st.sampled_from(KWARGS)), max_size=3).map(", ".join)
    call = st.tuples(st.sampled_from(FUNCTIONS), args).map(lambda t: f"{t[0]}({t[1]})")
    index = st.tuples(inner, st.sampled_from(INDEX)).map(lambda t: f"{t[0]}[{t[1]}]")
    attr = st.tuples(inner, st.sampled_from([".T", ".sum()", ".shape", ".__class__", ".real"]))
    listed = st.lists(inner, max_size=3).map(lambda xs: f"[{', '.join(xs)}]")
    paren = inner.map(lambda e: f"({e})")
    return st.one_of(
        common, common, common, binary, compare, chain, unary, call, index, attr.map("".join),
        listed, paren,
    )  # fmt: skip


EXPRESSIONS = st.recursive(ATOMS, _compound, max_leaves=12)


@st.composite
def expression_texts(draw: st.DrawFn) -> str:
    """A random expression of the grammar, sometimes with junk inserted or cut short."""
    text = draw(EXPRESSIONS)
    action = draw(st.sampled_from(["none", "none", "junk", "cut", "deep", "row", "row"]))
    i = draw(st.integers(0, len(text)))
    if action == "junk":
        junk = draw(st.text(alphabet=string.printable + "λ\x00\u2028", min_size=1, max_size=4))
        return text[:i] + junk + text[i:]
    if action == "cut":
        return text[:i]
    if action == "row":  # a constraint row, one- or two-sided
        sides = st.sampled_from(["<= 1", ">= c", "== 0", "<= inf", ">= -inf", "<= nan", "<= A"])
        row = f"{text} {draw(sides)}"
        return f"-1 <= {text} <= 1" if draw(st.booleans()) else row
    if action == "deep":
        n = draw(st.sampled_from([50, 99, 101, 1000]))
        return "(" * n + text + ")" * n
    return text


@cache
def _scope() -> tuple[Model, Scope]:
    m = Model()
    m.var("x", 3)
    m.var("y", (2, 3))
    m.var("z")
    params = {"c": np.arange(3.0), "A": np.ones((2, 3)), "idx": np.array([0, 2]), "k": np.array(2)}
    return m, Scope(m.variables, params)


def _check_expression(text: str) -> None:
    m, scope = _scope()
    for parse in (parse_expression, parse_constraint, parse_constant):
        try:
            with np.errstate(all="ignore"):
                out = parse(text, scope)
        except SpecError as exc:
            assert str(exc).strip()
            continue
        value = getattr(out, "value", None)
        if callable(value):  # an expression: it evaluates at a point without raising
            with np.errstate(all="ignore"):
                np.asarray(value(np.ones(m.n)))


test_expressions, test_expressions_slow = _pair(
    _check_expression, 1000, 6000, text=expression_texts()
)


# -- (d) the Python API ---------------------------------------------------------------------------
API_VALUES = st.one_of(
    SCALARS,
    st.sampled_from([[1, [2]], [[1, 2], [3]], [], [[]], {"a": 1}, 1j, b"1", object(), np.int64(3)]),
    st.lists(NUMBERS, max_size=4),
    st.builds(
        lambda shape, fill: np.full(shape, fill),
        st.sampled_from([(), (3,), (2, 3), (3, 1), (0,), (4,)]),
        st.sampled_from([0.0, 1.0, -2.0, math.nan, math.inf, 1e308]),
    ),
)
SHAPES = st.one_of(
    st.integers(-2, 5),
    st.tuples(st.integers(-1, 4), st.integers(-1, 4)),
    st.sampled_from([(), (3,), (2, 3), 10**7, (10**5, 10**5), 2.0, "3", None, True, [2, [3]]]),
)


ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda e, v: e + v,
    "-": lambda e, v: v - e,
    "*": lambda e, v: e * v,
    "rmul": lambda e, v: v * e,
    "@": lambda e, v: e @ v,
    "rmatmul": lambda e, v: v @ e,
    "/": lambda e, v: e / v,
    "**": lambda e, v: e**v,
    "index": lambda e, v: e[v],
    "sum": lambda e, v: e.sum(),
    "reshape": lambda e, v: e.reshape(v),
}
FINAL: dict[str, Callable[[Model, Any, Any, Any], Any]] = {
    "<=": lambda m, e, a, b: m.add("g", e <= a),
    ">=": lambda m, e, a, b: m.add("g", a <= e),
    "==": lambda m, e, a, b: m.add("g", e == a),
    "between": lambda m, e, a, b: m.add("g", e.between(a, b)),
    "ranged": lambda m, e, a, b: m.add("g", e, lb=a, ub=b),
    "raw": lambda m, e, a, b: m.add(a, b),
    "list": lambda m, e, a, b: m.add("g", [e <= a, e >= b]),
    "minimize": lambda m, e, a, b: m.minimize(e),
    "maximize": lambda m, e, a, b: m.maximize(e + a),
    "objective": lambda m, e, a, b: m.minimize(a),
}


@st.composite
def api_programs(draw: st.DrawFn) -> tuple[Any, list[tuple[str, Any]], tuple[str, Any, Any]]:
    """A block declaration, a few operations with hostile values, then a group or objective."""
    kw = {"lb": draw(API_VALUES), "ub": draw(API_VALUES)} if draw(st.booleans()) else {}
    if draw(st.booleans()):
        kw["domain"] = draw(st.sampled_from(["continuous", "integer", "binary", "nosuch", 3]))
    name = draw(st.one_of(st.just("x"), WEIRD_TEXT, st.sampled_from([None, 3, "", "a b"])))
    ops = draw(st.lists(st.tuples(st.sampled_from(sorted(ARITHMETIC)), API_VALUES), max_size=3))
    final = (draw(st.sampled_from(sorted(FINAL))), draw(API_VALUES), draw(API_VALUES))
    return (name, draw(SHAPES), kw), ops, final


def _check_api(program: tuple[Any, list[tuple[str, Any]], tuple[str, Any, Any]]) -> None:
    (name, shape, kw), ops, (last, a, b) = program
    m = Model()
    try:
        with np.errstate(all="ignore"):
            expr = m.var(name, shape, **kw)
            for op, value in ops:
                expr = ARITHMETIC[op](expr, value)
            FINAL[last](m, expr, a, b)
    except OrtoolsLagError as exc:
        assert str(exc).strip()


test_python_api, test_python_api_slow = _pair(_check_api, 1500, 6000, program=api_programs())
