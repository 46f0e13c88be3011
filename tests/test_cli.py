"""The ``ortools-lag`` command line: solve, validate, explain, export, list, progress bar."""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ortools_lag.cli import main

ROOT = Path(__file__).parents[1]
MODEL = ROOT / "problems" / "model"
REDDY = MODEL / "reddy_mikks.yaml"
CSP_LR = MODEL / "csp_six_nodes_lagrangian.yaml"
AFIRO = ROOT / "data" / "netlib" / "afiro.mps.gz"
AFIRO_OPT = -4.6475314286e02  # data/MANIFEST.md, netlib table, row afiro
CLI = [sys.executable, "-m", "ortools_lag.cli"]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_help_is_fast_and_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "from ortools_lag.cli import main\n"
        "assert main(['--help']) == 0\n"
        "heavy = ('yaml', 'matplotlib', 'highspy', 'rich', 'cvxpy', 'pyomo', 'torch')\n"
        "print('HEAVY', [m for m in heavy if m in sys.modules])\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert res.returncode == 0, res.stderr
    assert "solve" in res.stdout and "validate" in res.stdout and "explain" in res.stdout
    assert "HEAVY []" in res.stdout


def test_solve_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["solve", REDDY], capsys)
    assert code == 0
    assert "status      optimal (converged)" in out
    assert "objective   21\n" in out and "bound       21  (upper bound)" in out
    assert "m1       1 row      |λ|     0.75" in out  # hand derivation in the file: u = 0.75
    assert "expected    agrees" in out


def test_json_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "r.json"
    code, _, _ = _run(["solve", REDDY, "--json", out_file, "--quiet"], capsys)
    assert code == 0
    doc = json.loads(out_file.read_text())
    for key in ("schema_version", "x", "multipliers", "bound", "gap", "status"):
        assert key in doc
    assert doc["schema_version"] == 1 and doc["status"] == "optimal"
    assert doc["x"]["x"] == pytest.approx([3.0, 1.5])  # hand derivation in the file
    assert doc["multipliers"] == pytest.approx({"m1": 0.75, "m2": 0.5})
    assert doc["bound"] == pytest.approx(21.0) and abs(doc["gap"]) < 1e-9
    assert doc["expect"]["agrees"] is True
    assert doc["problem"]["sense"] == "max" and doc["solver"] == "highs"


def test_json_and_yaml_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["solve", REDDY, "--json", "-"], capsys)
    assert code == 0 and json.loads(out)["objective"] == pytest.approx(21.0)
    assert "status      optimal" in err  # the summary moves to stderr
    code, out, _ = _run(["solve", REDDY, "--yaml", "-", "-q"], capsys)
    doc = yaml.safe_load(out)
    assert code == 0 and doc["schema_version"] == 1 and doc["objective"] == pytest.approx(21.0)


def test_infeasible_exits_zero_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "r.json"
    code, out, _ = _run(["solve", MODEL / "infeasible_rows.yaml", "--json", out_file], capsys)
    assert code == 0
    assert "status      infeasible (converged): the problem has no feasible point" in out
    doc = json.loads(out_file.read_text())
    assert doc["status"] == "infeasible" and doc["objective"] == "inf"


def test_mps_file_directly(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["solve", AFIRO, "--solver", "highs", "--set", "presolve=off"], capsys)
    assert code == 0
    value = float(out.split("objective   ")[1].split()[0])
    assert value == pytest.approx(AFIRO_OPT, rel=1e-9)
    code, _, err = _run(["solve", AFIRO, "--set", "a.b=1"], capsys)
    assert code == 2 and "--set on an MPS file takes solver options" in err


@pytest.mark.parametrize("name", ["reddy_mikks", "knapsack_four", "csp_six_nodes"])
def test_export_then_solve_gives_the_same_objective(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mps = tmp_path / f"{name}.mps"
    code, out, _ = _run(["export", MODEL / f"{name}.yaml", "--mps", mps], capsys)
    assert code == 0 and mps.is_file() and f"wrote {mps}" in out
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert _run(["solve", MODEL / f"{name}.yaml", "--json", first, "-q"], capsys)[0] == 0
    assert _run(["solve", mps, "--json", second, "-q"], capsys)[0] == 0
    a, b = json.loads(first.read_text()), json.loads(second.read_text())
    assert b["objective"] == pytest.approx(a["objective"], rel=1e-7, abs=1e-7)
    assert b["problem"]["sense"] == a["problem"]["sense"]


def test_export_of_a_qp_read_back_by_highs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ortools_lag.highs_model import new_highs

    mps = tmp_path / "qp.mps"
    assert _run(["export", MODEL / "projection_qp.yaml", "--mps", mps, "-q"], capsys)[0] == 0
    h = new_highs()
    assert h.readModel(str(mps)).name == "kOk"
    h.run()
    # the file's hand derivation: x = (0, 1), objective 2 (HiGHS reads the QUADOBJ section)
    assert h.getInfo().objective_function_value == pytest.approx(2.0, abs=1e-6)


def test_export_refuses_nonlinear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(
        ["export", MODEL / "exp_pair_nlp.yaml", "--mps", tmp_path / "x.mps"], capsys
    )
    assert code == 2 and "the objective is not linear or quadratic" in err


def test_plot_writes_a_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import matplotlib.image

    png = tmp_path / "c.png"
    argv = ["solve", CSP_LR, "--plot", png, "-q"]
    assert _run(argv, capsys)[0] == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = matplotlib.image.imread(png)
    assert img.shape[0] >= 400 and img.shape[1] >= 400  # 7 x 8 inches at 100 dpi
    code, _, err = _run(["solve", REDDY, "--plot", tmp_path / "none.png", "-q"], capsys)
    assert code == 0 and "solver 'highs' records no per-iteration history" in err
    assert not (tmp_path / "none.png").exists()


def test_solver_override_preset_and_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "r.json"
    argv = ["solve", CSP_LR, "--solver", "polyak", "--set", "max_iter=40", "--json", out_file]
    assert _run([*argv, "-q"], capsys)[0] == 0
    doc = json.loads(out_file.read_text())
    assert doc["solver"] == "subgradient" and doc["iterations"] <= 40
    assert doc["solver_options"]["step_rule"] == "polyak"
    assert doc["bound"] <= 7 + 1e-9  # the hand-derived Lagrangian dual value (file's source)


def test_dual_method_needs_groups_to_relax(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(["solve", REDDY, "--solver", "bundle"], capsys)
    assert code == 2 and err == (
        "error: relax: solver 'bundle' relaxes constraint groups, and this problem names none: "
        "mark groups with 'relax: true' in the file, or pass --set relax=[group,...] "
        "(valid choices: m1, m2)\n"
    )
    out_file = tmp_path / "r.json"
    argv = ["solve", REDDY, "--solver", "bundle", "--set", "relax=[m2]", "--json", out_file]
    assert _run([*argv, "-q"], capsys)[0] == 0
    doc = json.loads(out_file.read_text())
    # strong duality of an LP: the Lagrangian bound is the optimum 21 with lambda_m2 = 0.5
    assert doc["bound"] == pytest.approx(21.0, abs=1e-6)
    assert doc["multipliers"]["m2"] == pytest.approx(0.5, abs=1e-6)


def test_check_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["solve", MODEL / "csp_six_nodes.yaml", "--check", "-q"], capsys)[0] == 0
    # T = 10 changes the optimum (path 1-3-2-5-6, cost 15 by the file's enumeration)
    argv = ["solve", MODEL / "csp_six_nodes.yaml", "--check", "-q", "--set", "parameters.T=10"]
    code, _, err = _run(argv, capsys)
    assert code == 1 and "check failed: objective 15 (expected 13)" in err


def test_bad_input_exit_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["solve", REDDY, "--solver", "gurobi"], capsys)
    assert code == 2
    assert err.startswith("error: solver: unknown solver or preset 'gurobi' (valid choices: auto")
    code, _, err = _run(["solve", tmp_path / "missing.yaml"], capsys)
    assert code == 2 and err == f"error: {tmp_path / 'missing.yaml'}: file not found\n"
    code, _, err = _run(["solve", REDDY, "--set", "nonsense"], capsys)
    assert code == 2 and "--set expects key=value, found 'nonsense'" in err
    code, _, err = _run(["solve"], capsys)
    assert code == 2 and "usage: ortools-lag solve" in err
    big = tmp_path / "big.yaml"
    big.write_text(REDDY.read_text() + "#" * 1_000_000 + "\n")
    code, _, err = _run(["validate", big], capsys)
    size = big.stat().st_size
    assert (
        code == 2 and err == f"error: {big}: file too large: {size} bytes (the limit is 1000000)\n"
    )


def test_validate_many(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\nkind: modle\n")
    code, out, err = _run(["validate", REDDY, bad, CSP_LR], capsys)
    assert code == 2
    assert f"ok    {REDDY}: model, 2 variables, 2 constraints in 2 groups, solver highs" in out
    assert "relaxation 'relax', solver bundle" in out
    assert f"error: {bad}:2:7: kind: unknown problem kind 'modle'" in err


def test_explain_text_and_latex(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["explain", CSP_LR], capsys)
    assert code == 0
    assert "budget: time @ x <= T   (1 row, relaxed)" in out
    assert "c_budget(x) = time @ x - T <= 0" in out and "c_flow(x) = N @ x - supply = 0" in out
    assert "L(x, λ) = φ(x) + λ_budget · c_budget(x)" in out
    assert "X: the kept groups flow, the bounds and the domains" in out
    assert "flow: λ_flow ∈ ℝ^6 free" in out and "budget: λ_budget >= 0" in out
    assert "budget: λ_budget · c_budget(x) = 0" in out and "Integer variables" in out
    code, out, _ = _run(["explain", REDDY, "--latex", "--relax", "m2"], capsys)
    assert code == 0 and out.count("\\begin{align*}") == out.count("\\end{align*}") == 7
    assert "\\max \\quad \\mathrm{profit}^\\top x" in out
    assert "\\varphi(x) = -\\left(\\mathrm{profit}^\\top x\\right)" in out  # not f(x) = f(x)
    assert "L(x, \\lambda) = \\varphi(x) + \\lambda_{\\mathrm{m2}} \\, c_{\\mathrm{m2}}(x)" in out
    assert "X: the kept groups m1, the bounds and the domains" in out  # not "bounds, bounds"
    code, _, err = _run(["explain", REDDY, "--relax", "m3"], capsys)
    assert code == 2 and "unknown group(s) ['m3'] to relax (valid choices: m1, m2)" in err
    code, out, _ = _run(["explain", ROOT / "problems" / "tsp" / "burma14.yaml"], capsys)
    held = out.split("Held as a minimisation")[1].split("\n\n")[0].splitlines()
    assert held[1].strip() == "φ(x, f) = c_xᵀx" and len(held) == 7  # never empty


def test_summary_wording() -> None:
    from ortools_lag import Model, Problem, solve
    from ortools_lag.cli.render import summary

    m = Model("one")
    x = m.var("x", 2)
    m.minimize(x.sum())
    m.add("cover", x[0] + x[1] >= 1)
    text = summary(Problem(m), solve(m, "highs"))
    assert "2 variables, 1 constraint in 1 group" in text
    assert "gap         0 (objective − bound; relative < 1e-9)" in text  # never -0 nor 1e-13
    assert "Lagrangian dual gap 0)" in text and "-0" not in text
    assert "cover    1 row      |λ|     1" in text


def test_help_lists_every_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["--help"], capsys)
    assert code == 0 and "3 internal error" in " ".join(out.split())


def test_verbose_internal_error_says_it_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib

    cli_main = importlib.import_module("ortools_lag.cli.main")

    def boom(args: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setitem(cli_main._COMMANDS, "list", boom)
    code, _, err = _run(["-v", "list"], capsys)
    assert code == 3 and "Traceback" in err and err.count("RuntimeError: boom") == 1


def test_presets_from_any_folder(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    argv = [*CLI, "solve", str(CSP_LR), "--solver", "polyak", "--set", "max_iter=5", "--json", "-"]
    res = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["solver_options"]["step_rule"] == "polyak"
    argv = [*CLI, "solve", str(REDDY), "--solver", "gurobi"]
    res = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert res.returncode == 2 and "polyak)" in res.stderr and "highs-exact" in res.stderr


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["list"], capsys)
    assert code == 0
    assert "problem kinds" in out and "  model " in out and "  tsp " in out
    assert "solvers" in out and "  highs " in out and "  subgradient " in out
    assert "  polyak " in out and "backends" in out and "highspy" in out
    solvers = out.split("solvers (--solver NAME)\n")[1].split("\npresets")[0].splitlines()
    starts = {len(r) - len(r[2:].split("  ", 1)[1].lstrip()) for r in solvers}
    assert len(starts) == 1  # one column for the family, whatever the name's length


# -- the progress bar: on a terminal only, never with --quiet ----------------------------------
def _pty_run(argv: list[str]) -> tuple[int, str]:
    import pty

    master, slave = pty.openpty()
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="140")
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        CLI + argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, close_fds=True
    )
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


ITERATIVE = ["solve", str(CSP_LR), "--solver", "polyak", "--set", "max_iter=25"]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_progress_bar_on_a_terminal() -> None:
    code, text = _pty_run(ITERATIVE)
    assert code == 0, text
    assert "solving" in text and "25/25" in text
    assert re.search(r"bound \d+(\.\d+)?\s+best 15 gap \d", text)  # the bar's live figures
    assert "status      feasible (iteration_limit)" in text


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_no_progress_bar_when_quiet() -> None:
    code, text = _pty_run([*ITERATIVE, "--quiet"])
    assert code == 0 and "solving" not in text and "25/25" not in text and text.strip() == ""


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize(
    ("argv", "final"),
    [
        (["solve", str(ROOT / "problems" / "gap" / "gap1_1_min.yaml")], None),  # a family
        (["solve", str(CSP_LR)], "6/6"),  # bundle converges at 6 of 500: the bar closes there
    ],
)
def test_progress_bar_of_every_iterative_solver(argv: list[str], final: str | None) -> None:
    code, text = _pty_run(argv)
    assert code == 0, text
    if final is None:  # the bar closes at the count the summary reports
        done = re.search(r"(\d+) iterations", text)
        assert done is not None, text
        final = f"{done.group(1)}/{done.group(1)}"
    assert "solving" in text and final in text


def test_no_progress_bar_off_a_terminal() -> None:
    res = subprocess.run(CLI + ITERATIVE, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "solving" not in res.stderr and "\x1b[" not in res.stderr + res.stdout
    assert "status      feasible (iteration_limit)" in res.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize(
    ("argv", "final", "status"),
    [  # the limits set here end both runs: the bar closes at them
        (
            [
                "solve",
                str(REDDY),
                "--solver",
                "pdhg",
                *("--set", "tolerance=1e-12"),
                *("--set", "max_iter=64"),
            ],
            "64/64",
            "(iteration_limit)",
        ),
        (
            [
                "solve",
                str(ROOT / "problems" / "nn_training" / "linear_fit.yaml"),
                *("--set", "method=adam", "--set", "epochs=5"),
            ],
            "5/5",
            "feasible (iteration_limit)",
        ),
    ],
)
def test_progress_bar_of_pdhg_and_adjoint(argv: list[str], final: str, status: str) -> None:
    code, text = _pty_run(argv)
    assert code == 0, text
    assert "solving" in text and final in text
    assert status in text.split("status", 1)[1].splitlines()[0]


# -- nothing on stdout but the command's own output ------------------------------------------
def test_cvxpy_backend_prints_no_banner() -> None:
    # a fresh process: HiGHS writes its banner on the first instance of a process only
    argv = ["solve", str(REDDY), "--solver", "cvxpy"]
    quiet = [*CLI, *argv, "-q"]
    res = subprocess.run(quiet, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""
    res = subprocess.run(CLI + argv, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("problem     reddy_mikks") and "HiGHS" not in res.stdout
    assert "objective   21" in res.stdout  # hand derivation in the file


def test_cvxpy_solve_writes_nothing_to_the_file_descriptors(
    capfd: pytest.CaptureFixture[str],
) -> None:
    from ortools_lag import Model, solve
    from tests.certificates import check_solution

    m = Model()
    x = m.var("x", 2)
    m.maximize(5 * x[0] + 4 * x[1])
    m.add("m1", 6 * x[0] + 4 * x[1] <= 24)
    m.add("m2", x[0] + 2 * x[1] <= 6)
    capfd.readouterr()
    sol = solve(m, "cvxpy")
    out = capfd.readouterr()
    assert out.out == "" and out.err == ""
    assert sol.objective == pytest.approx(21, abs=1e-7)  # Reddy Mikks, by hand
    assert float(sol.multipliers["m1"]) == pytest.approx(0.75, abs=1e-6)
    check_solution(m, sol)
