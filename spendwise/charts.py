"""What every chart of the engines shares: one lock, literal user text, fonts and bytes.

Charts are drawn on :class:`matplotlib.figure.Figure` objects made without
pyplot, so no figure is registered in a global list. Matplotlib still reads
process-wide state while it draws: the rcParams (set here through
``rc_context``), its font caches and the warnings filters. So every chart is
built under :data:`CHART_LOCK` and saved under it, and charts may be drawn
from several threads at once (as the service does). The lock is re-entrant so
that a chart routine may call another.

Names from users' data (channels, models) pass through :func:`chart_text`:
matplotlib reads text between two ``$`` as mathtext, so ``tv $5$ deals`` would
lose its dollar signs and turn italic.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

#: Held while a chart is built or saved; shared by the attribution and optimizer charts.
CHART_LOCK = threading.RLock()
#: Salt of the ids in SVG files, constant so that the same chart gives the same bytes.
SVG_SALT = "spendwise"
#: Fonts tried, in order, for channel names outside Latin script.
FALLBACK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "WenQuanYi Zen Hei",
                  "Droid Sans Fallback", "Source Han Sans SC")
#: Suffixes of :func:`compact_number`, largest first.
SCALES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def chart_text(text: str) -> str:
    """``text`` as matplotlib draws it literally: every ``$`` escaped as ``\\$``.

    Matplotlib treats a string with an even number of unescaped ``$`` as
    mathtext and otherwise replaces each ``\\$`` by ``$``, so the escaped form
    is drawn character for character, whatever the name holds.
    """
    return text.replace("$", r"\$")


def compact_number(value: float, _position: Any = None) -> str:
    """A tick label of three significant digits with a k, M, B or T suffix.

    ``1250000`` is ``1.25M``, ``999999`` is ``1M``, ``0.5`` is ``0.5``. The
    signature is that of a :class:`matplotlib.ticker.FuncFormatter` function.
    """
    rounded = float(f"{value:.3g}")
    for scale, suffix in SCALES:
        if abs(rounded) >= scale:
            return f"{rounded / scale:g}{suffix}"
    return f"{rounded:g}"


def chart_fonts(labels: Sequence[str]) -> list[str]:
    """Font families for a chart: DejaVu Sans, then installed fallbacks for other scripts.

    Warns once when a label needs a script no installed font covers.
    """
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    families = ["DejaVu Sans", *[f for f in FALLBACK_FONTS if f in installed]]
    if len(families) == 1 and any(ord(ch) > 0x2E7F for label in labels for ch in label):
        warnings.warn(
            "no font for some channel names is installed (for Chinese, Japanese or Korean "
            "install e.g. fonts-noto-cjk); they are drawn as boxes in the chart",
            stacklevel=2,
        )
    return families


@contextmanager
def _quiet_glyphs() -> Iterator[None]:
    # Missing glyphs were reported once by chart_fonts; matplotlib would repeat it per glyph.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        yield


@contextmanager
def drawing(labels: Sequence[str], font_size: float) -> Iterator[None]:
    """Hold :data:`CHART_LOCK` with the charts' settings while a figure is built.

    Parameters
    ----------
    labels
        The user text the chart shows, to choose fonts for (:func:`chart_fonts`).
    font_size
        Base font size in points.
    """
    import matplotlib

    with CHART_LOCK:
        rc: Any = {"svg.hashsalt": SVG_SALT, "font.size": font_size,
                   "font.family": chart_fonts(labels)}
        with matplotlib.rc_context(rc), _quiet_glyphs():
            yield


def figure_bytes(fig: Any, fmt: str, dpi: int = 120) -> bytes:
    """A :class:`matplotlib.figure.Figure` as PNG or SVG bytes, saved under :data:`CHART_LOCK`.

    No creation date or software version is embedded and SVG ids are salted
    with a constant, so the same chart gives the same bytes.
    """
    import matplotlib

    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    with CHART_LOCK, matplotlib.rc_context({"svg.hashsalt": SVG_SALT}), _quiet_glyphs():
        fig.savefig(buffer, format=fmt, metadata=metadata, dpi=dpi)
    return buffer.getvalue()

