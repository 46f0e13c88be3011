"""Build the documentation: HTML with warnings as errors, then run the pages' doctests.

``python docs/build.py [OUT]`` (default ``docs/_build``) writes ``OUT/html/index.html``; both
builds share one doctree cache, so the doctest pass does not read the sources again. Exit code:
non-zero when either build fails or warns.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sphinx.cmd.build import build_main

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else HERE / "_build"
    common = ["-W", "--keep-going", "-q", "-d", str(out / "doctrees"), str(HERE)]
    for builder in ("html", "doctest"):
        code = build_main(["-b", builder, *common, str(out / builder)])
        if code:
            return code
    print(f"documentation: {out / 'html' / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
