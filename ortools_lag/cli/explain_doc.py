"""The document of ``ortools-lag explain``: conditions as text and LaTeX, and their rendering.

:class:`Condition` is one formula (text and LaTeX, with a few words); :class:`Explanation`
holds the conditions of one model under one relaxation, section by section, and renders them
as plain text or as a LaTeX fragment (``amsmath``, one ``align*`` block per section, words
outside math). :func:`ortools_lag.cli.explain.kkt_conditions` builds them.

>>> held = Condition("held", "", "φ(x) = x", "\\varphi(x) = x")
>>> ex = Explanation("m", "model", "min", (), "none", (held,))
>>> print(ex.to_text())
Model m (model), relaxed: none
<BLANKLINE>
Held as a minimisation, each group as c_g <= 0 or c_g = 0:
    φ(x) = x
"""

from __future__ import annotations

from dataclasses import dataclass

from ortools_lag.errors import ModelError

__all__ = ["Condition", "Explanation"]

_SECTIONS = {  # the title of each section in text and in LaTeX
    "model": ("The model", "The model"),
    "held": (
        "Held as a minimisation, each group as c_g <= 0 or c_g = 0",
        "Held as a minimisation, each group as $c_g \\leq 0$ or $c_g = 0$",
    ),
    "lagrangian": ("The Lagrangian of the relaxation", "The Lagrangian of the relaxation"),
    "sign": ("The sign of each group's multiplier", "The sign of each group's multiplier"),
    "complementarity": ("Complementarity, group by group", "Complementarity, group by group"),
    "stationarity": (
        "Stationarity, block by block (r_b: the bound multipliers of block b)",
        "Stationarity, block by block ($r_b$: the bound multipliers of block $b$)",
    ),
    "bounds": ("Bound multipliers, block by block", "Bound multipliers, block by block"),
}


@dataclass(frozen=True)
class Condition:
    """One formula of an explanation, as text and as LaTeX (math mode, no ``$``).

    Attributes
    ----------
    section
        ``model``, ``held``, ``lagrangian``, ``sign``, ``complementarity``, ``stationarity``
        or ``bounds``.
    subject
        The group or variable block it is about (``""`` for the whole model).
    text, latex
        The formula.
    note
        Plain words that go with it (never mathematics).
    """

    section: str
    subject: str
    text: str
    latex: str
    note: str = ""


@dataclass(frozen=True)
class Explanation:
    """The conditions of one model under one relaxation (see :func:`kkt_conditions`)."""

    name: str
    kind: str
    sense: str
    relaxed: tuple[str, ...]
    which: str
    conditions: tuple[Condition, ...]
    notes: tuple[str, ...] = ()

    def section(self, name: str) -> list[Condition]:
        """The conditions of one section, in order."""
        return [c for c in self.conditions if c.section == name]

    def find(self, section: str, subject: str) -> Condition:
        """The condition of ``section`` about ``subject`` (a group or block name)."""
        for c in self.conditions:
            if c.section == section and c.subject == subject:
                return c
        raise ModelError(f"no {section} condition about {subject!r}")

    def to_text(self) -> str:
        """The plain-text document of ``ortools-lag explain``."""
        lines = [f"Model {self.name} ({self.kind}), relaxed: {self.which}"]
        for key, (title, _) in _SECTIONS.items():
            rows = self.section(key)
            if not rows:
                continue
            lines += ["", title + ":"]
            for c in rows:
                label = f"{c.subject}: " if c.subject and key not in ("held",) else ""
                lines.append(f"    {label}{c.text}" + (f"   ({c.note})" if c.note else ""))
        lines += ["", *self.notes] if self.notes else []
        return "\n".join(lines)

    def to_latex(self) -> str:
        """A LaTeX fragment (``amsmath``): one ``align*`` block per section, words outside."""
        out = [f"% ortools-lag explain: {_esc(self.name)} ({_esc(self.kind)})"]
        out.append(f"Relaxed: {_esc(self.which)}.")
        for key, (_, title) in _SECTIONS.items():
            rows = self.section(key)
            if not rows:
                continue
            out += [f"\\paragraph{{{title}.}}", "\\begin{align*}"]
            body = []
            for c in rows:
                tag = f" && \\text{{{_esc(c.note)}}}" if c.note else ""
                body.append(f"  & {c.latex}{tag}")
            out.append(" \\\\\n".join(body))
            out.append("\\end{align*}")
        out += [_esc(n) for n in self.notes]
        return "\n".join(out)


def _esc(text: str) -> str:
    """Text for LaTeX outside math mode (and inside ``\\text``)."""
    swaps = {"_": "\\_", "%": "\\%", "&": "\\&", "#": "\\#", "$": "\\$", "{": "\\{", "}": "\\}"}
    return "".join(swaps.get(ch, ch) for ch in text)
