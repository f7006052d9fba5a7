"""Static PNG copies of a report's figures (kaleido, driving a local Chromium or Chrome).

Kaleido 1.x renders with a headless browser through choreographer. We hand it the browser path
explicitly: ``$BROWSER_PATH`` (choreographer's own override) if set, else ``chromium``,
``chromium-browser``, ``google-chrome`` or ``chrome`` on ``PATH`` (Debian: /usr/bin/chromium).
The page kaleido renders in loads plotly.js from the installed plotly package and no MathJax,
so export works offline.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from scsim.report.figures import Figure

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
WIDTH = 1000


def browser_path() -> str | None:
    """The Chromium/Chrome executable kaleido should drive, or None."""
    explicit = os.environ.get("BROWSER_PATH")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def export_pngs(figures: list[tuple[str, Figure]], directory: Path) -> str | None:
    """Write every figure to ``directory/<name>.png``, replacing the directory only when all
    are written; return None on success, else why PNG export was skipped."""
    if not figures:
        return None
    browser = browser_path()
    if browser is None:
        return "no Chromium or Chrome found (install one or set BROWSER_PATH)"
    directory = Path(directory)
    tmp = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}-"))
    try:
        import kaleido

        jobs = [
            {
                "fig": fig,
                "path": str(tmp / f"{name}.png"),
                "opts": {
                    "width": WIDTH,
                    "height": fig["layout"].get("height") or 450,
                    "format": "png",
                },
            }
            for name, fig in figures
        ]
        kaleido.write_fig_from_object_sync(jobs, kopts={"path": browser, "mathjax": False})
        missing = [name for name, _ in figures if not (tmp / f"{name}.png").is_file()]
        if missing:
            raise RuntimeError(f"kaleido wrote no {missing[0]}.png")
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; plots are meant to be shared
        old = directory.with_name(f".{directory.name}-old")
        shutil.rmtree(old, ignore_errors=True)
        if directory.exists():
            os.replace(directory, old)
        os.replace(tmp, directory)
        shutil.rmtree(old, ignore_errors=True)
    except Exception as err:  # any browser or kaleido failure: the HTML report still renders
        shutil.rmtree(tmp, ignore_errors=True)
        return f"PNG export failed: {type(err).__name__}: {err}".strip()
    return None
