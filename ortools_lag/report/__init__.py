"""Reports of a solve for people: one self-contained HTML page (``solve --report``).

:func:`report_html` and :func:`write_report` build it from a problem, its Solution and,
optionally, the LaTeX of its Lagrangian and KKT conditions (rendered as MathML, no network).

>>> from ortools_lag.report import report_html, write_report
>>> callable(report_html) and callable(write_report)
True
"""

from __future__ import annotations

from ortools_lag.report.html import report_html, write_report

__all__ = ["report_html", "write_report"]
