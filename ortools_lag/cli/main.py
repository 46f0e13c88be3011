"""The ``ortools-lag`` command line: ``solve``, ``validate``, ``explain``, ``export``, ``list``.

``solve FILE`` takes a YAML problem file (see ``problems/README.md``) or an MPS file, solves it
and prints a summary; ``--json``/``--yaml`` write the versioned result, ``--plot`` the
convergence figure. Bad input exits with code 2 and one message naming the file, line, column,
field and the valid choices; a well-formed problem that is infeasible exits 0 and says so.
Only the cli package prints. Imports are lazy so that ``--help`` answers fast.

>>> main(["validate", "no/such/file.yaml"])
2
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ortools_lag.spec.loader import LoadedFile

__all__ = ["EXIT_BAD_INPUT", "EXIT_CHECK_FAILED", "EXIT_INTERNAL", "main"]

EXIT_BAD_INPUT = 2
EXIT_CHECK_FAILED = 1
EXIT_INTERNAL = 3


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def _is_mps(path: str) -> bool:
    name = path.lower()
    return name.endswith((".mps", ".mps.gz", ".qps", ".qps.gz"))


def _load(args: argparse.Namespace, solver: str | None = None) -> LoadedFile:
    """A YAML problem file, or an MPS file wrapped the same way."""
    from ortools_lag.spec.loader import LoadedFile, SolverSpec, load_file, resolve_solver

    sets = list(getattr(args, "set", None) or [])
    if not _is_mps(args.file):
        return load_file(args.file, overrides=sets, solver=solver)
    from ortools_lag.errors import SpecError
    from ortools_lag.io import read_mps
    from ortools_lag.problem import Problem
    from ortools_lag.spec.loader import parse_set

    options: dict[str, Any] = {}
    for item in sets:
        key, value = parse_set(item)
        if "." in key:
            raise SpecError(f"--set on an MPS file takes solver options key=value, found {item!r}")
        options[key] = value
    model = read_mps(args.file)
    problem = Problem(model, kind="mps", metadata={"name": model.name, "file": args.file})
    spec = resolve_solver(solver, options) if solver else SolverSpec("auto", options)
    return LoadedFile(Path(args.file), problem, spec, None, model.name)


# -- solve ---------------------------------------------------------------------------------------
def _solve(args: argparse.Namespace) -> int:
    from ortools_lag.solvers.dispatch import choose_solver, solve
    from ortools_lag.spec.loader import validate_options

    loaded = _load(args, args.solver)
    problem = loaded.problem
    validate_options(loaded.solver, problem)
    name = loaded.solver.name
    if name == "auto":
        name = choose_solver(problem)
    options = dict(loaded.solver.options)
    _check_relaxation(problem, name, options)
    to_stdout = "-" in (args.json, args.yaml)
    show = (lambda text: _err(text)) if to_stdout else print
    bar = None
    if not args.quiet and sys.stderr.isatty():
        from ortools_lag.cli.progress import ProgressBar

        bar = ProgressBar.for_solver(name, options)
    if bar is not None:
        options["callback"] = bar.callback
        with bar:
            sol = solve(problem, name, ranging=args.ranging, **options)
            bar.finish(sol)
    else:
        sol = solve(problem, name, ranging=args.ranging, **options)
    if not args.quiet:
        from ortools_lag.cli.render import summary

        show(summary(problem, sol, file=str(loaded.path), expect=loaded.expect))
    _write_results(args, loaded, sol, name, options)
    if args.plot:
        _plot(sol, args.plot, name, show if not args.quiet else (lambda text: None))
    if args.report:
        _report(loaded, sol, options, args.report, show if not args.quiet else (lambda text: None))
    if args.check and loaded.expect is not None:
        missed = loaded.expect.check(
            sol.status.value, sol.objective, sol.bound, dict(sol.multipliers)
        )
        if missed:
            _err("check failed: " + "; ".join(missed))
            return EXIT_CHECK_FAILED
    return 0


def _check_relaxation(problem: Any, name: str, options: dict[str, Any]) -> None:
    """A dual method needs groups to relax: say how to give them, before solving."""
    from ortools_lag.errors import SpecError
    from ortools_lag.solvers import registry

    if registry.get(name).family != "dual" or problem.default_relaxation is not None:
        return
    if options.get("relax") or options.get("relaxation"):
        return
    raise SpecError(
        f"solver {name!r} relaxes constraint groups, and this problem names none: mark groups "
        "with 'relax: true' in the file, or pass --set relax=[group,...]",
        field="relax",
        choices=list(problem.model.groups),
    )


def _write_results(
    args: argparse.Namespace, loaded: LoadedFile, sol: Any, name: str, options: dict[str, Any]
) -> None:
    if not (args.json or args.yaml):
        return
    from ortools_lag.cli.render import result_document

    doc = result_document(
        loaded.problem, sol, file=loaded.path, solver=name, options=options, expect=loaded.expect
    )
    if args.json:
        import json

        _emit(args.json, json.dumps(doc, indent=1, allow_nan=False) + "\n")
    if args.yaml:
        import yaml

        _emit(args.yaml, yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))


def _emit(target: str, text: str) -> None:
    from ortools_lag.errors import SpecError

    if target == "-":
        sys.stdout.write(text)
        return
    try:
        Path(target).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot write the result: {exc.strerror}", file=target) from None


def _plot(sol: Any, target: str, solver: str, show: Any) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ortools_lag import plot
    from ortools_lag.errors import SpecError

    why = plot.unavailable(sol)
    if why is not None:
        _err(
            f"warning: no convergence figure written to {target}: {why} "
            "(the iterative solvers draw one: subgradient, bundle, alm, held_karp, ...)"
        )
        return
    fig = plot.convergence(sol)
    try:
        fig.savefig(target, dpi=100)
    except OSError as exc:
        raise SpecError(f"cannot write the figure: {exc.strerror}", file=target) from None
    finally:
        plt.close(fig)
    show(f"plot        {target}")


def _report(loaded: LoadedFile, sol: Any, options: dict[str, Any], target: str, show: Any) -> None:
    """The HTML report (``--report``), with explain's conditions for the groups relaxed."""
    from ortools_lag.cli.explain import explain
    from ortools_lag.errors import OrtoolsLagError
    from ortools_lag.report import write_report

    relax = options.get("relax")
    relaxed = [str(g) for g in relax] if isinstance(relax, (list, tuple)) else None
    try:
        conditions: str | None = explain(loaded.problem, relaxed, latex=True)
    except OrtoolsLagError as exc:
        _err(f"warning: the report has no KKT conditions: {exc}")
        conditions = None
    write_report(
        target,
        loaded.problem,
        sol,
        conditions=conditions,
        relaxed=relaxed or (),
        source=str(loaded.path),
    )
    show(f"report      {target}")


# -- validate, explain, export, list -------------------------------------------------------------
def _validate(args: argparse.Namespace) -> int:
    from ortools_lag.errors import OrtoolsLagError

    code = 0
    for file in args.files:
        ns = argparse.Namespace(file=file, set=args.set)
        try:
            loaded = _load(ns)
            from ortools_lag.spec.loader import validate_options

            validate_options(loaded.solver, loaded.problem)
        except OrtoolsLagError as exc:
            _err(f"error: {exc}")
            code = EXIT_BAD_INPUT
            continue
        m = loaded.problem.model
        rel = loaded.problem.default_relaxation
        plan = f", relaxation {rel!r}" if rel else ""
        if not args.quiet:
            print(
                f"ok    {file}: {loaded.problem.kind}, {m.n} variables, {m.m} constraints in "
                f"{len(m.groups)} groups{plan}, solver {loaded.solver.name}"
            )
    return code


def _explain(args: argparse.Namespace) -> int:
    from ortools_lag.cli.explain import explain

    loaded = _load(args)
    relax = [g.strip() for g in args.relax.split(",") if g.strip()] if args.relax else None
    print(explain(loaded.problem, relax, latex=args.latex))
    return 0


def _export(args: argparse.Namespace) -> int:
    from ortools_lag.cli.export import write_mps

    loaded = _load(args)
    write_mps(loaded.problem.model, args.mps)
    if not args.quiet:
        print(f"wrote {args.mps}")
    return 0


def _diagnose(args: argparse.Namespace) -> int:
    import json

    from ortools_lag.cli.diagnose import diagnosis, render

    doc = diagnosis(_load(args).problem)
    if args.json:
        _emit(args.json, json.dumps(doc, indent=1, default=str) + "\n")
    if args.json != "-":
        print(render(doc))
    return 0


def _list(args: argparse.Namespace) -> int:
    from ortools_lag.cli.render import listing

    print(listing())
    return 0


# -- the parser ----------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ortools-lag",
        description="Solve, check and explain optimisation problems written as YAML files "
        "(or MPS); every answer comes with multipliers, a bound and a certificate.",
        epilog="exit codes: 0 done (infeasible included), 1 --check failed, 2 bad input, "
        "3 internal error (a bug: -v shows where)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress (INFO)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sets: dict[str, Any] = {
        "action": "append",
        "default": [],
        "metavar": "KEY=VALUE",
        "help": "a solver option (max_iter=200) or a field of the file (parameters.b=[1,2])",
    }
    p = sub.add_parser("solve", help="solve a YAML problem file or an MPS file")
    p.add_argument("file", help="problem file (.yaml) or MPS file (.mps, .mps.gz)")
    p.add_argument("--solver", help="a solver name (highs, subgradient, ...) or a preset")
    p.add_argument("--set", **sets)
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", metavar="OUT", help="write the result as JSON ('-': stdout)")
    out.add_argument("--yaml", metavar="OUT", help="write the result as YAML ('-': stdout)")
    p.add_argument("--plot", metavar="PNG", help="save the convergence figure")
    p.add_argument("--ranging", action="store_true", help="LP: cost and rhs ranging in the result")
    p.add_argument("--report", metavar="HTML", help="write a self-contained HTML report")
    p.add_argument("--quiet", "-q", action="store_true", help="no summary, no progress bar")
    p.add_argument("--check", action="store_true", help="exit 1 if the file's expect: differs")
    p = sub.add_parser("validate", help="check files without solving")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--set", **sets)
    p.add_argument("--quiet", "-q", action="store_true", help="print errors only")
    p = sub.add_parser("explain", help="print the model, its Lagrangian and KKT conditions")
    p.add_argument("file")
    p.add_argument("--latex", action="store_true", help="LaTeX instead of text")
    p.add_argument("--relax", metavar="G1,G2", help="groups to relax (default: the file's plan)")
    p.add_argument("--set", **sets)
    p = sub.add_parser("export", help="write the model as MPS (through HiGHS)")
    p.add_argument("file")
    p.add_argument("--mps", required=True, metavar="OUT", help="the MPS file to write")
    p.add_argument("--set", **sets)
    p.add_argument("--quiet", "-q", action="store_true")
    p = sub.add_parser("diagnose", help="why a model is infeasible: IIS and elastic relaxation")
    p.add_argument("file", help="problem file (.yaml) or MPS file (.mps, .mps.gz)")
    p.add_argument("--json", metavar="OUT", help="write the diagnosis as JSON ('-': stdout)")
    p.add_argument("--set", **sets)
    sub.add_parser("list", help="problem kinds, solvers, presets and installed backends")
    return parser


_COMMANDS = {
    "solve": _solve,
    "validate": _validate,
    "explain": _explain,
    "export": _export,
    "list": _list,
    "diagnose": _diagnose,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code.

    Exit codes: 0 done (an infeasible problem included), 1 ``--check`` found a difference,
    2 bad input (a message naming file, line, field and the valid choices), 3 internal error.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return int(exc.code or 0)
    import logging

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    from ortools_lag.errors import OrtoolsLagError

    try:
        return _COMMANDS[args.command](args)
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OrtoolsLagError as exc:
        _err(f"error: {exc}")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except Exception as exc:  # a bug: say so in one line (the traceback with --verbose)
        if args.verbose:  # where it happened; the message itself once, below
            import traceback

            _err("Traceback (most recent call last):")
            traceback.print_tb(exc.__traceback__, file=sys.stderr)
        _err(f"internal error: {type(exc).__name__}: {exc} (please report it)")
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
