"""DIMACS readers: the published instances, hand-written files, and errors that name the line."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from ortools_lag.errors import SpecError
from ortools_lag.io.dimacs import (
    MaxFlowInstance,
    MinCostFlowInstance,
    ShortestPathInstance,
    parse_dimacs,
    read_dimacs,
    read_gr,
    read_max,
    read_min,
)

DATA = Path(__file__).parents[1] / "data" / "dimacs"


def test_rome99_sizes_and_first_arcs() -> None:
    g = read_gr(DATA / "rome99.gr")
    # "p sp 3353 8870" and the first arcs "a 2958 2959 535", "a 1494 1573 77" of the file
    assert (g.n, g.m) == (3353, 8870)
    assert g.tail[:2].tolist() == [2957, 1493]
    assert g.head[:2].tolist() == [2958, 1572]
    assert g.cost[:2].tolist() == [535.0, 77.0]
    assert g.tail.dtype == np.int64 and g.cost.dtype == np.float64
    assert g.tail.min() >= 0 and max(g.tail.max(), g.head.max()) < g.n
    assert not g.cost.flags.writeable  # frozen instance, read-only arrays


def test_netgen2_sizes_supplies_and_arcs() -> None:
    g = read_min(DATA / "netgen-2.min")
    # MANIFEST: 400 nodes, 1416 arcs; first lines "n 1 59137", "a 1 217 0 59137 10000"
    assert (g.n, g.m) == (400, 1416)
    assert g.supply[0] == 59137.0 and g.supply[340] == -4365.0
    assert g.supply.sum() == 0.0
    assert (g.tail[0], g.head[0], g.low[0], g.cap[0], g.cost[0]) == (0, 216, 0, 59137, 10000)
    assert isinstance(read_dimacs(DATA / "netgen-2.min"), MinCostFlowInstance)


def test_max_file_roundtrip(tmp_path: Path) -> None:
    text = "c tiny\np max 4 5\nn 4 t\nn 1 s\na 1 2 3\na 1 3 2\na 2 3 1\na 2 4 2\na 3 4 3\n"
    f = tmp_path / "tiny.max"
    f.write_text(text)
    g = read_max(f)
    assert isinstance(g, MaxFlowInstance)
    assert (g.n, g.m, g.source, g.sink) == (4, 5, 0, 3)
    assert g.cap.tolist() == [3.0, 2.0, 1.0, 2.0, 3.0]
    assert g.tail.tolist() == [0, 0, 1, 1, 2] and g.head.tolist() == [1, 2, 2, 3, 3]


def test_gzip_blank_lines_and_crlf(tmp_path: Path) -> None:
    f = tmp_path / "g.gr.gz"
    with gzip.open(f, "wt") as fh:
        fh.write("c x\r\n\r\np sp 3 2\r\n  \r\na 1 2 7\r\na 2 3 -1\r\n")
    g = read_gr(f)
    assert isinstance(g, ShortestPathInstance)
    assert g.cost.tolist() == [7.0, -1.0]


def test_min_file_default_supply_zero() -> None:
    g = parse_dimacs("p min 3 1\nn 1 5\nn 3 -5\na 1 3 1 8 2\n")
    assert isinstance(g, MinCostFlowInstance)
    assert g.supply.tolist() == [5.0, 0.0, -5.0]
    assert (g.low[0], g.cap[0], g.cost[0]) == (1.0, 8.0, 2.0)


def test_empty_graph() -> None:
    g = parse_dimacs("p sp 2 0\n")
    assert isinstance(g, ShortestPathInstance)
    assert g.m == 0 and g.tail.dtype == np.int64


BAD = [
    ("p sp 2 1\na 1 3 4\n", 2, "head"),
    ("p sp 2 1\na 0 2 4\n", 2, "tail"),
    ("p sp 2 2\na 1 2 4\n", 1, "arcs"),
    ("a 1 2 3\np sp 2 1\n", 1, "p"),
    ("p sp 2 1\na 1 2\n", 2, "a"),
    ("p sp 2 2\na 1 2 3\na 1 2 3 4\n", 3, "a"),
    ("p sp 2 1\na 1 2 x\n", 2, "cost"),
    ("p sp 2 1\nc ok\nq 1\n", 3, "record"),
    ("p spp 2 1\n", 1, "p"),
    ("p sp 2\n", 1, "p"),
    ("p sp 2 1\np sp 2 1\n", 2, "p"),
    ("p sp 2 2\na 1 2 1\na 1.5 2 1\n", 3, "tail"),
    ("p sp 2 1\na 1 2 inf\n", 2, "cost"),
    ("p min 2 1\na 1 2 3 1 1\n", 2, "low"),
    ("p min 2 1\na 1 2 0 -1 1\n", 2, "cap"),
    ("p min 2 1\nn 1 1\nn 1 2\na 1 2 0 1 1\n", 3, "id"),
    ("p min 2 1\nn 3 1\na 1 2 0 1 1\n", 2, "id"),
    ("p max 2 1\nn 1 s\nn 2 s\na 1 2 1\n", 3, "id"),
    ("p max 2 1\nn 1 s\nn 2 x\na 1 2 1\n", 3, None),
    ("p sp 2 1\nn 1 1\na 1 2 1\n", 2, "n"),
]


@pytest.mark.parametrize(("text", "line", "field"), BAD)
def test_malformed_input_names_file_line_and_field(
    tmp_path: Path, text: str, line: int, field: str | None
) -> None:
    f = tmp_path / "bad.dimacs"
    f.write_text(text)
    with pytest.raises(SpecError) as info:
        read_dimacs(f)
    err = info.value
    assert err.file == str(f)
    assert err.line == line
    assert err.field == field
    assert f"{f}:{line}:" in str(err)


def test_missing_problem_line_and_terminals() -> None:
    with pytest.raises(SpecError, match="no problem line"):
        parse_dimacs("c nothing\n", name="x.gr")
    with pytest.raises(SpecError, match="no sink"):
        parse_dimacs("p max 2 1\nn 1 s\na 1 2 1\n")


def test_typed_readers_reject_other_problem_types() -> None:
    with pytest.raises(SpecError) as info:
        read_gr(DATA / "netgen-2.min")
    assert info.value.choices == ("sp",)
    assert info.value.line == 2


def test_missing_file() -> None:
    with pytest.raises(SpecError, match="cannot read"):
        read_gr(DATA / "no-such-file.gr")
