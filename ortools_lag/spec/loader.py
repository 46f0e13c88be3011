"""Loading YAML problem files: ``load(path) -> (Problem, SolverSpec)``.

The file is read by a safe YAML loader that records the line and column of every node, so that
each error names the file, line, column and field path, what was expected, what was found and
the valid choices (:class:`~ortools_lag.errors.SpecError`). Steps: size limit, YAML syntax,
``schema_version`` and ``kind``, unknown fields, types (pydantic, :mod:`.yaml_schema`), then the
build: ``kind: model`` here (expressions through :mod:`.expr_parser`), ``kind: mps`` through
:func:`~ortools_lag.io.read_mps`, library kinds through ``problems.<kind>.read``/``build``.
The solver section is resolved (a name or a preset) and its options validated by the solver's
own options schema.

>>> from pathlib import Path
>>> problem, solver = load(Path("problems/model/reddy_mikks.yaml"))  # doctest: +SKIP
>>> solver.name, problem.model.sense  # doctest: +SKIP
('highs', 'max')
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ortools_lag import problems as kinds_registry
from ortools_lag.errors import OrtoolsLagError, SpecError
from ortools_lag.problem import Problem
from ortools_lag.spec.yaml_model import build_model
from ortools_lag.spec.yaml_positions import (
    Located,
    is_readable_file,
    parse_value,
    read_yaml,
    short_name,
)
from ortools_lag.spec.yaml_schema import (
    SCHEMA_VERSION,
    ExpectSpec,
    FileBase,
    LibraryFile,
    ModelFile,
    PresetFile,
    check_fields,
    describe_errors,
    normalise,
)

__all__ = [
    "LoadedFile",
    "SolverSpec",
    "load",
    "load_file",
    "parse_set",
    "resolve_solver",
    "validate_options",
]


@dataclass(frozen=True)
class SolverSpec:
    """The solver a file asks for: a registered name (or ``auto``) and validated options.

    Attributes
    ----------
    name
        A registry name or ``"auto"``.
    options
        Keyword options for ``solve`` (validated against the solver's options schema).
    preset
        The preset file the options came from, if any.
    """

    name: str = "auto"
    options: dict[str, Any] = field(default_factory=dict)
    preset: str | None = None


@dataclass(frozen=True)
class LoadedFile:
    """Everything ``load_file`` learned: the problem, the solver and the recorded answer."""

    path: Path
    problem: Problem
    solver: SolverSpec
    expect: ExpectSpec | None
    name: str
    description: str = ""


def _apply_overrides(doc: Located, overrides: Sequence[str]) -> dict[str, Any]:
    """``--set a.b=v`` edits the document; ``--set k=v`` sets a solver option (returned)."""
    options: dict[str, Any] = {}
    for item in overrides:
        key, value = parse_set(item)
        if "." not in key:
            options[key] = value
            continue
        doc.set_path(tuple(key.split(".")), value)
    return options


def parse_set(item: str) -> tuple[str, Any]:
    """Split a ``--set key=value`` item; the value is read as YAML (``off`` stays a string)."""
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise SpecError(f"--set expects key=value, found {item!r}", field="--set")
    try:
        return key, parse_value(raw) if raw.strip() else None
    except SpecError as exc:
        raise SpecError(f"--set {key}: not a YAML value: {exc.reason}", field=key) from None


def _check_header(doc: Located) -> str:
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error((), f"expected a mapping at the top of the file, found {_kind(data)}")
    if "schema_version" not in data:
        raise doc.error(
            (), f"schema_version: this field is required (this version reads {SCHEMA_VERSION})"
        )
    version = data["schema_version"]
    if version != SCHEMA_VERSION or isinstance(version, bool):
        raise doc.error(
            ("schema_version",),
            f"schema_version {version!r} is not supported (this version reads {SCHEMA_VERSION})",
        )
    kind = data.get("kind")
    if kind is None:
        raise doc.error((), "kind: this field is required", choices=kinds_registry.kinds())
    if not isinstance(kind, str) or kind not in kinds_registry.KINDS:
        raise doc.error(("kind",), f"unknown problem kind {kind!r}", choices=kinds_registry.kinds())
    return kind


def _kind(value: Any) -> str:
    names: dict[type, str] = {dict: "a mapping", list: "a list", str: "a string"}
    return names.get(type(value), type(value).__name__)


def _validate(doc: Located, kind: str) -> ModelFile | LibraryFile:
    from pydantic import ValidationError

    schema: type[FileBase] = ModelFile if kind == "model" else LibraryFile
    data = normalise(doc.data)
    unknown = check_fields(data, schema)
    if unknown:
        path, key, valid = unknown[0]
        raise doc.error(path, f"unknown field {key!r}", choices=valid, at_key=True)
    try:
        return schema.model_validate(data)  # type: ignore[return-value]
    except ValidationError as exc:
        path, message = describe_errors(exc.errors(), data)[0]
        raise doc.error(path, message) from None


def _build_library(doc: Located, spec: LibraryFile, base: Path) -> Problem:
    from ortools_lag.model import Model

    kind = spec.kind
    if kind == "mps":  # an MPS or LP file, by its suffix
        from ortools_lag.io.lp_format import read_model

        read: Any = read_model
        build: Any = None
    else:
        try:
            mod = kinds_registry.module(kind)
        except SpecError as exc:
            raise doc.error(("kind",), exc.reason, choices=exc.choices) from None
        read, build = getattr(mod, "read", None), getattr(mod, "build", None)
    if spec.instance is not None:
        if read is None:
            raise doc.error(("instance",), f"kind {kind!r} has no file reader: give 'data'")
        path = base / spec.instance
        if not is_readable_file(path):
            raise doc.error(
                ("instance",),
                f"instance file not found: {short_name(spec.instance)} ({short_name(path)})",
            )
        path = path.resolve()
        kwargs = _bind(doc, kind, read, spec.options, ("options",), skip_first=True)
        where: tuple[str | int, ...] = ("instance",)
        result = _call(doc, where, read, path, **kwargs)
    else:
        if build is None:
            raise doc.error(("data",), f"kind {kind!r} has no builder: give 'instance'")
        kwargs = _bind(doc, kind, build, spec.data or {}, ("data",), skip_first=False)
        where = ("data",)
        result = _call(doc, where, build, **kwargs)
    if isinstance(result, Model):
        result = Problem(result, kind=kind)
    if not isinstance(result, Problem):
        raise doc.error(where, f"{kind} returned {type(result).__name__}, not a Problem")
    if spec.relaxation is not None:
        if spec.relaxation not in result.relaxations:
            raise doc.error(
                ("relaxation",),
                f"unknown relaxation {spec.relaxation!r}",
                choices=list(result.relaxations),
            )
        result = dataclasses.replace(result, default_relaxation=spec.relaxation)
    if spec.relax is not None:
        result = _relax_plan(doc, result, spec.relax)
    return result


def _relax_plan(doc: Located, result: Problem, relax: list[str]) -> Problem:
    """The plan ``relax`` of the groups that names or patterns select, made the default."""
    from ortools_lag.errors import ModelError
    from ortools_lag.lagrangian import relaxed_group_names
    from ortools_lag.problem import Relaxation

    try:
        names = relaxed_group_names(result.model, relax)
    except ModelError as exc:
        raise doc.error(("relax",), str(exc)) from None
    plan = Relaxation(relax=names, description=f"the groups selected by relax: {relax}")
    plans = {**result.relaxations, "relax": plan}
    return dataclasses.replace(result, relaxations=plans, default_relaxation="relax")


def _bind(
    doc: Located, kind: str, fn: Any, kwargs: dict[str, Any], where: tuple[str, ...], **kw: Any
) -> dict[str, Any]:
    try:
        return kinds_registry.bind(kind, fn, kwargs, **kw)
    except SpecError as exc:
        path = (*where, exc.field) if exc.field and exc.field in kwargs else where
        unknown = exc.choices is not None  # an unknown name: point at the key
        raise doc.error(path, exc.reason, choices=exc.choices, at_key=unknown) from None


def _call(doc: Located, where: tuple[str | int, ...], fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except SpecError as exc:
        if exc.file is not None:  # an error inside the instance file: it names itself
            raise
        raise doc.error(where, str(exc)) from None
    except OrtoolsLagError as exc:
        raise doc.error(where, str(exc)) from None
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise doc.error(where, f"rejected by {fn.__name__}: {type(exc).__name__}: {exc}") from None


# -- solvers -----------------------------------------------------------------------------------
#: The presets shipped with the package (``ortools-lag list`` shows them).
PRESET_DIR = Path(__file__).resolve().parents[1] / "presets"


def _preset_dirs(base: Path | None) -> list[Path]:
    """Presets: ``solvers/`` folders beside the file, its ancestors and the current folder's
    (a user's own presets, which win), then the package's ``ortools_lag/presets``."""
    starts = [base] if base is not None else []
    starts.append(Path.cwd())
    out: list[Path] = []
    for start in starts:
        for d in [start, *start.parents]:
            if (d / "solvers").is_dir() and d / "solvers" not in out:
                out.append(d / "solvers")
    return [*out, PRESET_DIR]


def preset_names(base: Path | None = None) -> list[str]:
    """Names of the presets: the package's and those of ``solvers/`` folders near ``base``.

    >>> {"polyak", "bundle", "highs-exact"} <= set(preset_names())
    True
    """
    return sorted({p.stem for d in _preset_dirs(base) for p in d.glob("*.yaml")})


def _find_preset(value: str, base: Path | None) -> Path | None:
    cands = [Path(value)] if os.path.isabs(value) else []
    if not cands:
        cands = [(base or Path.cwd()) / value, Path.cwd() / value]
        cands += [d / f"{value}.yaml" for d in _preset_dirs(base)]
    return next((c for c in cands if is_readable_file(c)), None)


def _load_preset(path: Path) -> PresetFile:
    from pydantic import ValidationError

    doc = read_yaml(path)
    if not isinstance(doc.data, dict):
        raise doc.error((), f"expected a mapping (a solver preset), found {_kind(doc.data)}")
    unknown = check_fields(doc.data, PresetFile)
    if unknown:
        p, key, valid = unknown[0]
        raise doc.error(p, f"unknown field {key!r}", choices=valid, at_key=True)
    try:
        return PresetFile.model_validate(doc.data)
    except ValidationError as exc:
        p, message = describe_errors(exc.errors(), doc.data)[0]
        raise doc.error(p, message) from None


def resolve_solver(
    value: str,
    options: dict[str, Any] | None = None,
    base: Path | None = None,
    *,
    preset: bool = False,
) -> SolverSpec:
    """A registered name, ``auto``, a preset name (``polyak``) or a preset file path.

    A registered name wins over a preset of the same name unless ``preset`` is true (the
    ``preset:`` field of a file).

    Raises
    ------
    SpecError
        When ``value`` is none of these (listing the valid names and presets).
    """
    from ortools_lag.solvers import registry

    opts = dict(options or {})
    if not preset and (value == "auto" or value in registry.REGISTRY):
        return SolverSpec(value, opts)
    path = _find_preset(value, base)
    if path is None:
        choices = [*preset_names(base)] if preset else ["auto", *registry.names()]
        choices += [] if preset else preset_names(base)
        choices = list(dict.fromkeys(choices))  # a preset may share a solver's name
        what = "preset" if preset else "solver or preset"
        raise SpecError(f"unknown {what} {value!r}", field="solver", choices=choices)
    spec = _load_preset(path)
    if spec.name not in registry.REGISTRY:
        raise SpecError(
            f"unknown solver {spec.name!r}",
            file=str(path),
            field="name",
            choices=registry.names(),
        )
    return SolverSpec(spec.name, {**spec.options, **opts}, preset=str(path))


def validate_options(spec: SolverSpec, problem: Problem) -> SolverSpec:
    """Check the options against the solver's schema (``auto`` resolved for ``problem``)."""
    from ortools_lag.solvers import registry
    from ortools_lag.solvers.base import parse_options
    from ortools_lag.solvers.dispatch import choose_solver

    name = choose_solver(problem) if spec.name == "auto" else spec.name
    try:
        impl = registry.get(name)
        parse_options(name, impl.Options, spec.options)
    except OrtoolsLagError as exc:
        raise SpecError(str(exc), field="solver") from None
    return spec


def _solver_from(doc: Located, spec: FileBase, base: Path) -> SolverSpec:
    section = spec.solver
    if section is None:
        return SolverSpec()
    value = section.name or section.preset or "auto"
    where: tuple[str | int, ...] = ("solver",)
    if section.name or section.preset:
        where = ("solver", "name" if section.name else "preset")
    try:
        return resolve_solver(value, section.options, base, preset=section.preset is not None)
    except SpecError as exc:
        if exc.file is not None:
            raise
        raise doc.error(where, exc.reason, choices=exc.choices) from None


# -- entry points ------------------------------------------------------------------------------
def load_file(
    path: str | os.PathLike[str],
    *,
    overrides: Sequence[str] = (),
    solver: str | None = None,
) -> LoadedFile:
    """Load, validate and build a problem file.

    Parameters
    ----------
    path
        The YAML file.
    overrides
        ``--set`` items: ``a.b=value`` edits the document, ``key=value`` sets a solver option.
    solver
        A solver name or preset replacing the file's (its options are then dropped).

    Raises
    ------
    SpecError
        Naming file, line, column and field.
    """
    p = Path(path)
    doc = read_yaml(p)
    options = _apply_overrides(doc, overrides)
    kind = _check_header(doc)
    spec = _validate(doc, kind)
    base = p.resolve().parent
    if isinstance(spec, ModelFile):
        problem = build_model(doc, spec, base)
    else:
        problem = _build_library(doc, spec, base)
    if solver is not None:
        sspec = resolve_solver(solver, options, base)
    else:
        sspec = _solver_from(doc, spec, base)
        sspec = dataclasses.replace(sspec, options={**sspec.options, **options})
    try:
        validate_options(sspec, problem)
    except SpecError as exc:
        where: tuple[str | int, ...] = ("solver", "options") if spec.solver else ()
        bad = _first_option(exc.reason, sspec.options)
        if bad is not None and spec.solver and bad in spec.solver.options:
            where = ("solver", "options", bad)
        raise doc.error(where, exc.reason) from None
    name = spec.name or p.name.split(".")[0]
    problem.metadata.setdefault("name", name)
    problem.metadata["file"] = str(p)
    return LoadedFile(p, problem, sspec, spec.expect, name, spec.description)


def _first_option(message: str, options: dict[str, Any]) -> str | None:
    return next((k for k in options if f"'{k}'" in message), None)


def load(path: str | os.PathLike[str]) -> tuple[Problem, SolverSpec]:
    """Load a YAML problem file: the Problem and the solver it asks for.

    Raises
    ------
    SpecError
        For any error in the file, with file, line, column, field and valid choices.
    """
    loaded = load_file(path)
    return loaded.problem, loaded.solver
