"""OR-Library readers: rcsp, gap, mknap — shapes from MANIFEST.md, values from the files, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ortools_lag.errors import SpecError
from ortools_lag.io.gap import count_gap, parse_gap, read_gap, read_gap_all
from ortools_lag.io.mknap import parse_mknap, read_mknap, read_mknap_all
from ortools_lag.io.rcsp import parse_rcsp, read_rcsp

DATA = Path(__file__).parents[1] / "data"

# (n, m, K) from data/MANIFEST.md
RCSP_SHAPES = {
    1: (100, 955, 1),
    2: (100, 955, 1),
    3: (100, 959, 1),
    4: (100, 959, 1),
    5: (100, 990, 10),
    6: (100, 990, 10),
    7: (100, 999, 10),
    8: (100, 999, 10),
    9: (200, 2040, 1),
    10: (200, 2040, 1),
    11: (200, 1971, 1),
    12: (200, 1971, 1),
}


@pytest.mark.parametrize("k", sorted(RCSP_SHAPES))
def test_rcsp_shapes_match_manifest(k: int) -> None:
    inst = read_rcsp(DATA / "rcsp" / f"rcsp{k}.txt")
    n, m, K = RCSP_SHAPES[k]
    assert inst.n == n and inst.tails.shape == (m,) and inst.arc_resources.shape == (m, K)
    assert inst.vertex_resources.shape == (n, K) and inst.lower.shape == (K,)
    assert inst.source == 0 and inst.target == n - 1
    assert inst.tails.min() >= 0 and inst.heads.max() <= n - 1
    assert inst.name == f"rcsp{k}"


def test_rcsp1_first_and_last_arcs_read_from_the_file() -> None:
    inst = read_rcsp(DATA / "rcsp" / "rcsp1.txt")
    # the file's header is "100 955 1 / 0 / 73", its first arc "1 37 60 5" (1-based vertices)
    assert inst.lower.tolist() == [0.0] and inst.upper.tolist() == [73.0]
    assert (inst.tails[0], inst.heads[0], inst.cost[0]) == (0, 36, 60.0)
    assert inst.arc_resources[0].tolist() == [5.0]
    last = (DATA / "rcsp" / "rcsp1.txt").read_text().split()[-4:]
    assert inst.tails[-1] == int(last[0]) - 1 and inst.heads[-1] == int(last[1]) - 1
    assert inst.cost[-1] == float(last[2]) and inst.arc_resources[-1, 0] == float(last[3])


def test_gap_files_problem_counts_and_shapes() -> None:
    shapes = {"gap1": (5, 15), "gap2": (5, 20), "gap3": (5, 25), "gap4": (5, 30)}
    for stem, shape in shapes.items():
        probs = read_gap_all(DATA / "gap" / f"{stem}.txt")
        assert len(probs) == 5 == count_gap(DATA / "gap" / f"{stem}.txt")
        assert all(p.shape == shape for p in probs)
    gapa = [p.shape for p in read_gap_all(DATA / "gap" / "gapa.txt")]
    assert gapa == [(5, 100), (5, 200), (10, 100), (10, 200), (20, 100), (20, 200)]


def test_gap_problem_selects_the_kth_problem() -> None:
    path = DATA / "gap" / "gap2.txt"
    every = read_gap_all(path)
    third = read_gap(path, problem=3)
    np.testing.assert_array_equal(third.cost, every[2].cost)
    np.testing.assert_array_equal(third.capacity, every[2].capacity)
    assert third.name == "gap2-3"
    # first problem of gap1.txt: capacities 36 34 38 27 33, cost[0][0] = 17, weight[0][0] = 8
    first = read_gap(DATA / "gap" / "gap1.txt")
    assert first.capacity.tolist() == [36, 34, 38, 27, 33]
    assert first.cost[0, 0] == 17 and first.weight[0, 0] == 8


def test_gap_problem_out_of_range_names_the_field() -> None:
    with pytest.raises(SpecError) as err:
        read_gap(DATA / "gap" / "gap1.txt", problem=6)
    assert err.value.field == "problem" and err.value.file.endswith("gap1.txt")
    assert "1..5" in str(err.value)


def test_mknap_optima_from_the_file_match_manifest() -> None:
    probs = read_mknap_all(DATA / "mknap" / "mknap1.txt")
    assert [p.optimum for p in probs] == [3800, 8706.1, 4015, 6120, 12400, 10618, 16537]
    assert [p.weight.shape for p in probs] == [
        (10, 6),
        (10, 10),
        (10, 15),
        (10, 20),
        (10, 28),
        (5, 39),
        (5, 50),
    ]
    second = read_mknap(DATA / "mknap" / "mknap1.txt", problem=2)
    assert second.profit[0] == 600.1 and second.capacity.shape == (10,)


def test_bad_token_names_file_and_line() -> None:
    with pytest.raises(SpecError) as err:
        parse_rcsp("3 2 1\n0\n5\n0\n0\nx\n1 2 4 3\n2 3 1 1\n", source="bad.txt")
    assert err.value.file == "bad.txt" and err.value.line == 6
    assert "bad.txt:6" in str(err.value)


def test_truncated_file_names_the_missing_field() -> None:
    with pytest.raises(SpecError) as err:
        parse_rcsp("3 2 1\n0\n5\n0\n0\n0\n1 2 4 3\n", source="short.txt")
    assert err.value.field == "arcs" and err.value.line == 7


def test_arc_vertex_out_of_range_names_its_line() -> None:
    with pytest.raises(SpecError) as err:
        parse_rcsp("3 2 1\n0\n5\n0\n0\n0\n1 2 4 3\n2 9 1 1\n", source="r.txt")
    assert err.value.line == 8 and err.value.field == "arcs[2]"


def test_lower_above_upper_is_rejected() -> None:
    with pytest.raises(SpecError) as err:
        parse_rcsp("2 1 1\n7\n5\n0\n0\n1 2 1 1\n", source="r.txt")
    assert err.value.field == "upper" and err.value.line == 3


def test_trailing_data_is_rejected() -> None:
    with pytest.raises(SpecError) as err:
        parse_gap("1\n1 1\n5\n2\n3\n9\n", source="g.txt")
    assert err.value.line == 6


def test_non_integer_size_is_rejected() -> None:
    with pytest.raises(SpecError) as err:
        parse_gap("1\n1.5 1\n5\n2\n3\n", source="g.txt")
    assert err.value.field == "problem[1].m" and err.value.line == 2


def test_negative_mknap_weight_is_rejected() -> None:
    with pytest.raises(SpecError) as err:
        parse_mknap("1\n2 1 0\n3 5\n2 -3\n4\n", source="m.txt")
    assert err.value.field == "problem[1].weight" and err.value.line == 4
