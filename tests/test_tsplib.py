"""TSPLIB reader: distances against the TSPLIB95 formulas and the published optimal tours.

Known answers: the optimal tour lengths of ``data/MANIFEST.md`` (TSPLIB95), recomputed from the
``.opt.tour`` files; single distances re-derived with :mod:`math` from the TSPLIB95 text
(Reinelt 1991, section 2.1-2.5); edge-weight formats written out element by element in the order
the TSPLIB95 text describes them.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from ortools_lag.errors import SpecError
from ortools_lag.io.tsplib import (
    WEIGHT_FORMATS,
    coordinate_distances,
    parse_tour,
    parse_tsplib,
    read_tour,
    read_tsplib,
)

DATA = Path(__file__).parents[1] / "data" / "tsplib"

# MANIFEST.md: optimal tour lengths
OPTIMA = {
    "att48": 10628,
    "berlin52": 7542,
    "eil51": 426,
    "kroA100": 21282,
    "st70": 675,
    "ulysses16": 6859,
}


def _nint(x: float) -> int:
    return int(x + 0.5)


def _geo(x: float) -> float:
    deg = int(x)
    return 3.141592 * (deg + 5.0 * (x - deg) / 3.0) / 180.0


def _tsplib_distance(kind: str, p: tuple[float, ...], q: tuple[float, ...]) -> int:
    """TSPLIB95's formulas, transcribed one pair at a time."""
    if kind == "EUC_2D":
        return _nint(math.hypot(p[0] - q[0], p[1] - q[1]))
    if kind == "ATT":
        r = math.sqrt(((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2) / 10.0)
        t = _nint(r)
        return t + 1 if t < r else t
    if kind == "GEO":
        lat_i, lon_i, lat_j, lon_j = _geo(p[0]), _geo(p[1]), _geo(q[0]), _geo(q[1])
        q1 = math.cos(lon_i - lon_j)
        q2 = math.cos(lat_i - lat_j)
        q3 = math.cos(lat_i + lat_j)
        return int(6378.388 * math.acos(0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3)) + 1.0)
    raise AssertionError(kind)


@pytest.mark.parametrize("name", sorted(OPTIMA))
def test_optimal_tour_lengths_match_published(name: str) -> None:
    inst = read_tsplib(DATA / f"{name}.tsp")
    tour = read_tour(DATA / f"{name}.opt.tour", dimension=inst.dimension)
    assert sorted(tour.tolist()) == list(range(inst.dimension))
    length = int(inst.weights[tour, np.roll(tour, -1)].sum())
    assert length == OPTIMA[name]


@pytest.mark.parametrize(
    ("name", "kind"),
    [("att48", "ATT"), ("berlin52", "EUC_2D"), ("ulysses16", "GEO"), ("burma14", "GEO")],
)
def test_coordinate_distances_follow_tsplib_formulas(name: str, kind: str) -> None:
    inst = read_tsplib(DATA / f"{name}.tsp")
    assert inst.edge_weight_type == kind
    assert inst.coords is not None
    pts = [tuple(map(float, row)) for row in inst.coords]
    n = inst.dimension
    rng = np.random.default_rng(0)
    for i, j in rng.integers(0, n, size=(40, 2)):
        expected = 0 if i == j else _tsplib_distance(kind, pts[i], pts[j])
        assert inst.weights[i, j] == expected
    assert np.array_equal(inst.weights, inst.weights.T)
    assert inst.weights.dtype == np.int64


def test_first_coordinates_as_written_in_the_file() -> None:
    inst = read_tsplib(DATA / "berlin52.tsp")
    assert inst.coords is not None
    assert inst.coords[0].tolist() == [565.0, 575.0]
    assert inst.coords[1].tolist() == [25.0, 185.0]
    assert inst.weights[0, 1] == 666  # nint(sqrt(540^2 + 390^2)) = nint(666.11)
    att = read_tsplib(DATA / "att48.tsp")
    assert att.weights[0, 1] == 1495  # sqrt((4501^2 + 1443^2) / 10) = 1494.7 -> 1495


def test_gr17_lower_diag_row_entries() -> None:
    inst = read_tsplib(DATA / "gr17.tsp")
    assert inst.edge_weight_format == "LOWER_DIAG_ROW"
    w = inst.weights
    # the file's first numbers: 0 / 633 0 / 257 390 0 / 91 661 228 0 / 412 227 169 383 0
    assert [w[1, 0], w[2, 0], w[2, 1], w[3, 0], w[3, 1], w[3, 2]] == [633, 257, 390, 91, 661, 228]
    assert [w[4, 0], w[4, 1], w[4, 2], w[4, 3]] == [412, 227, 169, 383]
    assert np.array_equal(w, w.T) and not np.diag(w).any()


def _format_numbers(full: list[list[int]], fmt: str) -> list[int]:
    """The numbers of ``full`` in the order TSPLIB95 lists them for ``fmt``."""
    n = len(full)
    out: list[int] = []
    for a in range(n):
        for b in range(n):
            i, j = (a, b) if fmt.endswith("ROW") or fmt == "FULL_MATRIX" else (b, a)
            upper, lower = j > i, j < i
            keep = {
                "FULL_MATRIX": True,
                "UPPER_ROW": upper,
                "LOWER_ROW": lower,
                "UPPER_DIAG_ROW": upper or i == j,
                "LOWER_DIAG_ROW": lower or i == j,
                "UPPER_COL": upper,
                "LOWER_COL": lower,
                "UPPER_DIAG_COL": upper or i == j,
                "LOWER_DIAG_COL": lower or i == j,
            }[fmt]
            if keep:
                out.append(full[i][j])
    return out


@pytest.mark.parametrize("fmt", WEIGHT_FORMATS)
def test_every_explicit_format(fmt: str) -> None:
    full = [[0, 3, 5, 9, 2], [3, 0, 4, 7, 8], [5, 4, 0, 6, 1], [9, 7, 6, 0, 10], [2, 8, 1, 10, 0]]
    numbers = _format_numbers(full, fmt)
    body = "\n".join(" ".join(map(str, numbers[k : k + 3])) for k in range(0, len(numbers), 3))
    text = (
        "NAME : fmt\nTYPE : TSP\nDIMENSION : 5\nEDGE_WEIGHT_TYPE : EXPLICIT\n"
        f"EDGE_WEIGHT_FORMAT : {fmt}\nEDGE_WEIGHT_SECTION\n{body}\nEOF\n"
    )
    assert parse_tsplib(text).weights.tolist() == full


def test_other_coordinate_types() -> None:
    pts = np.array([[0.0, 0.0, 0.0], [3.0, 4.2, 1.0]])
    assert coordinate_distances(pts[:, :2], "CEIL_2D")[0, 1] == 6  # ceil(5.16)
    assert coordinate_distances(pts[:, :2], "MAN_2D")[0, 1] == 7  # nint(7.2)
    assert coordinate_distances(pts[:, :2], "MAX_2D")[0, 1] == 4  # max(3, nint(4.2))
    assert coordinate_distances(pts, "EUC_3D")[0, 1] == 5  # nint(sqrt(9 + 17.64 + 1)) = nint(5.26)
    assert coordinate_distances(pts, "MAN_3D")[0, 1] == 8
    text = "DIMENSION: 2\nEDGE_WEIGHT_TYPE: EUC_3D\nNODE_COORD_SECTION\n2 3 4.2 1\n1 0 0 0\nEOF"
    inst = parse_tsplib(text)
    assert inst.coords is not None and inst.coords.shape == (2, 3)
    assert inst.weights[0, 1] == 5


def test_header_variants_and_fixed_edges() -> None:
    text = (
        "name:x\ncomment : a: b\ndimension :3\nedge_weight_type: EUC_2D\n"
        "NODE_COORD_SECTION :\n1 0 0\n2 1 0\n3 0 1\nFIXED_EDGES_SECTION\n1 2\n-1\nEOF\n"
    )
    inst = parse_tsplib(text)
    assert inst.name == "x" and inst.comment == "a: b"
    assert inst.fixed_edges.tolist() == [[0, 1]]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("NAME: a\nEDGE_WEIGHT_TYPE: EUC_2D\n", None, "missing DIMENSION"),
        ("DIMENSION: x\n", 1, "expected an integer"),
        ("DIMENSION: 2\nEDGE_WEIGHT_TYPE: XRAY1\n", 2, "valid choices"),
        ("DIMENSION: 2\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 a 0\n", 5, "number"),
        ("DIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 1 1\n", 5, "9"),
        ("DIMENSION: 2\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 0\n1 1 1\n", 3, "once"),
        (
            "DIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: UPPER_ROW\n"
            "EDGE_WEIGHT_SECTION\n1 2\n",
            5,
            "needs 3 weights",
        ),
        ("DIMENSION: 3\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: DIAG\n", 3, "FORMAT"),
        ("DIMENSION: 2\nthis is not a header\n", 2, "KEY : value"),
    ],
)
def test_malformed_files_name_file_and_line(
    tmp_path: Path, text: str, line: int | None, words: str
) -> None:
    path = tmp_path / "bad.tsp"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        read_tsplib(path)
    assert info.value.file == str(path)
    assert info.value.line == line
    assert words in str(info.value)


def test_tour_reader_checks_the_permutation(tmp_path: Path) -> None:
    assert parse_tour("TOUR_SECTION\n3 1 2 -1\n").tolist() == [2, 0, 1]
    path = tmp_path / "bad.opt.tour"
    path.write_text("DIMENSION : 3\nTOUR_SECTION\n1\n1\n2\n-1\nEOF\n")
    with pytest.raises(SpecError) as info:
        read_tour(path)
    assert info.value.file == str(path) and info.value.line == 2
    with pytest.raises(SpecError, match="cannot read"):
        read_tour(tmp_path / "missing.tour")
