"""YAML problem files: the schema, safe loading with positions, expressions and presets.

A problem file states the model *and* its relaxation plan (``problems/README.md`` documents the
format). :func:`ortools_lag.spec.loader.load` reads one into a
:class:`~ortools_lag.problem.Problem` and a solver spec; every error names the file, line,
column and field and the valid choices.

- :mod:`.yaml_positions`: a safe YAML reader that remembers where every node is;
- :mod:`.yaml_schema`: the pydantic schema of problem files and solver presets;
- :mod:`.expr_parser` and :mod:`.expr_functions`: the whitelisted expression parser (Python's
  ``ast``, names and functions on a list; nothing is evaluated);
- :mod:`.yaml_model`: ``kind: model``, a model written in the file;
- :mod:`.loader`: the steps of loading, library kinds through ``problems.<kind>.read/build``,
  ``kind: mps`` through :func:`ortools_lag.io.read_mps`, and the solver section.

This package sits above the problem library (it builds problems of any kind) and below the
command line.
"""
