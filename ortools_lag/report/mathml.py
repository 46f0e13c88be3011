"""LaTeX documents (``ortools-lag explain --latex``) as HTML with MathML, no network needed.

A browser renders MathML natively (MathML Core), so a report carries its mathematics without a
script or a font download: display environments (``align*``, ``equation*``, ``\\[ ... \\]``,
``$$ ... $$``) become ``<math display="block">``, ``$...$`` inside a line of text becomes inline
``<math>``, and the rest is text. LaTeX comments (``%`` lines) are dropped; a fragment the
converter cannot read is shown as its LaTeX source in a ``<pre>`` block rather than lost.

>>> html = latex_to_html("Held as $c(x) \\\\le 0$:\\n\\\\begin{align*}\\nx &= 1\\n\\\\end{align*}")
>>> html.count("<math"), 'display="block"' in html
(2, True)
"""

from __future__ import annotations

import html as _html
import logging
import re

__all__ = ["latex_to_html", "math_to_mathml"]

_log = logging.getLogger(__name__)

_BEGIN = re.compile(r"^\s*\\begin\{([A-Za-z*]+)\}")
_DISPLAY_OPEN = {"\\[": "\\]", "$$": "$$"}
_INLINE = re.compile(r"(?<!\\)\$(.+?)(?<!\\)\$")
_TEXT_ESCAPES = re.compile(r"\\([_%&#$])")
_MATH_TEXT = re.compile(r"\\text\{([^{}]*)\}")
_TEXT_MACRO = re.compile(r"\\(?:textbf|textit|emph|text|texttt)\{([^{}]*)\}")
_HEADING = re.compile(r"^\s*\\(?:(?:sub)*section|(?:sub)?paragraph)\*?\{")


def math_to_mathml(tex: str, *, display: bool = False) -> str:
    """One formula as a ``<math>`` element; its LaTeX source in ``<code>`` if unreadable.

    Parameters
    ----------
    tex
        The formula, without delimiters (an environment such as ``align*`` included).
    display
        A block formula (``display="block"``) instead of an inline one.

    Examples
    --------
    >>> math_to_mathml("\\\\lambda \\\\ge 0").startswith("<math")
    True
    """
    from latex2mathml.converter import convert

    # spaces in \text{...} as no-break spaces: the converter drops them after a leading digit
    tex = _MATH_TEXT.sub(lambda m: "\\text{" + m.group(1).replace(" ", "\u00a0") + "}", tex)
    try:
        return str(convert(tex.strip(), display="block" if display else "inline"))
    except Exception as exc:  # the converter raises many types; keep the source visible
        _log.warning("cannot convert LaTeX to MathML (%s): %s", type(exc).__name__, tex)
        tag = "pre" if display else "code"
        return f'<{tag} class="tex">{_html.escape(tex)}</{tag}>'


def _text(line: str) -> str:
    """A line of text with inline ``$...$`` formulas."""
    out: list[str] = []
    pos = 0
    for m in _INLINE.finditer(line):
        out.append(_plain(line[pos : m.start()]))
        out.append(math_to_mathml(m.group(1)))
        pos = m.end()
    out.append(_plain(line[pos:]))
    return "".join(out)


def _plain(text: str) -> str:
    text = _TEXT_MACRO.sub(r"\1", text)
    return _html.escape(_TEXT_ESCAPES.sub(r"\1", text).replace("~", "\u00a0"))


def _heading(line: str) -> tuple[str, str] | None:
    """``\\section{T} rest`` (or ``\\paragraph``...): the title ``T`` and the rest of the line."""
    m = _HEADING.match(line)
    if m is None:
        return None
    depth = 1
    for i in range(m.end(), len(line)):
        depth += {"{": 1, "}": -1}.get(line[i], 0) if line[i - 1] != "\\" else 0
        if depth == 0:
            return line[m.end() : i], line[i + 1 :].strip()
    return None


def _display_end(line: str) -> tuple[str, str] | None:
    """For a line opening a display block: its closing delimiter and the text after the opening."""
    stripped = line.strip()
    m = _BEGIN.match(stripped)
    if m:
        return "\\end{" + m.group(1) + "}", stripped[m.end() :]
    for opening, closing in _DISPLAY_OPEN.items():
        if stripped.startswith(opening):
            return closing, stripped[len(opening) :]
    return None


def _strip_delimiters(block: str) -> str:
    text = block.strip()
    for opening, closing in _DISPLAY_OPEN.items():
        if text.startswith(opening) and text.endswith(closing) and len(text) >= 4:
            return text[len(opening) : -len(closing)]
    return text


def latex_to_html(document: str) -> str:
    """A LaTeX fragment (text lines and display blocks) as HTML with MathML.

    Parameters
    ----------
    document
        LaTeX as ``ortools-lag explain --latex`` writes it: ``%`` comments, lines of text with
        ``$...$`` and display environments, one per block of lines.

    Returns
    -------
    str
        HTML: ``<p>`` for text lines, ``<h3>`` for ``\\section`` and ``\\paragraph`` titles,
        and a ``<div class="display">`` holding a ``<math display="block">`` for each display
        block.
    """
    lines = document.splitlines()
    parts: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        opened = _display_end(line)
        if opened is not None:
            end, rest = opened
            block = [line]
            while end not in rest and i + 1 < len(lines):
                i += 1
                block.append(lines[i])
                rest = lines[i]
            body = _strip_delimiters("\n".join(block))
            parts.append(f'<div class="display">{math_to_mathml(body, display=True)}</div>')
        elif line.lstrip().startswith("%") or not line.strip():
            pass
        elif heading := _heading(line):
            title, rest = heading
            parts.append(f"<h3>{_text(title)}</h3>" + (f"<p>{_text(rest)}</p>" if rest else ""))
        else:
            parts.append(f"<p>{_text(line)}</p>")
        i += 1
    return "\n".join(parts)
