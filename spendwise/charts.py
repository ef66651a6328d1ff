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

Names in other scripts need a font that has their glyphs. Matplotlib only
knows the fonts of its cache, built once, so a font installed later (Debian's
``fonts-noto-cjk``, say) would be missed: :func:`cjk_font_files` looks for one
on the system itself and :func:`register_cjk_font` adds it to matplotlib's font
manager. SVG charts keep their text as ``<text>`` elements, which a browser
draws in any script with its own fonts.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import threading
import warnings
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

#: Held while a chart is built or saved; shared by the attribution and optimizer charts.
CHART_LOCK = threading.RLock()
#: Salt of the ids in SVG files, constant so that the same chart gives the same bytes.
SVG_SALT = "spendwise"
#: Fonts tried, in order, for channel names outside Latin script.
FALLBACK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "WenQuanYi Zen Hei",
                  "Droid Sans Fallback", "Source Han Sans SC")
#: Files of fonts for Chinese, Japanese and Korean, best first, as Linux distributions,
#: macOS and Windows name them.
CJK_FONT_FILES = (
    "NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansSC-Regular.otf",
    "SourceHanSansSC-Regular.otf", "SourceHanSans-Regular.ttc", "wqy-zenhei.ttc",
    "wqy-microhei.ttc", "DroidSansFallbackFull.ttf", "DroidSansFallback.ttf",
    "PingFang.ttc", "Hiragino Sans GB.ttc", "STHeiti Medium.ttc", "STHeiti Light.ttc",
    "Arial Unicode.ttf", "msyh.ttc", "msyh.ttf", "simhei.ttf", "simsun.ttc", "YuGothR.ttc",
    "meiryo.ttc", "malgun.ttf",
)
#: Kinds of font file matplotlib draws with.
FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
#: The family of the CJK font each font manager was given (None: the system has none).
_CJK_FAMILIES: weakref.WeakKeyDictionary[Any, str | None] = weakref.WeakKeyDictionary()
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


def font_dirs() -> list[Path]:
    """The folders where Linux, macOS and Windows keep installed fonts (not all exist)."""
    home = Path(os.path.expanduser("~"))
    folders = [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"),
               home / ".local/share/fonts", home / ".fonts", Path("/System/Library/Fonts"),
               Path("/Library/Fonts"), home / "Library/Fonts"]
    for variable, below in (("WINDIR", "Fonts"), ("LOCALAPPDATA", "Microsoft/Windows/Fonts")):
        if root := os.environ.get(variable):
            folders.append(Path(root) / below)
    return folders


def _fontconfig_cjk_files() -> list[Path]:
    # fontconfig knows every font it was told of, wherever it lies, and which cover Chinese.
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return []
    try:
        done = subprocess.run([fc_list, ":lang=zh", "--format=%{file}\n"], capture_output=True,
                              text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    lines = done.stdout.splitlines() if done.returncode == 0 else []
    return [Path(line) for line in lines if line.lower().endswith(FONT_SUFFIXES)]


@cache
def cjk_font_files() -> tuple[Path, ...]:
    """Font files on this system that draw Chinese, Japanese or Korean, best first.

    Found without matplotlib's font cache, once per process: first the files
    of :data:`CJK_FONT_FILES` in the :func:`font_dirs`, in that order, then
    the other files fontconfig lists for Chinese (``fc-list :lang=zh``),
    regular sans-serif faces first.
    """
    rank = {name.lower(): index for index, name in enumerate(CJK_FONT_FILES)}
    known: dict[Path, int] = {}
    for folder in font_dirs():
        for root, _dirs, files in os.walk(folder):
            for name in files:
                if name.lower() in rank:
                    known.setdefault(Path(root, name), rank[name.lower()])
    best = sorted(known, key=lambda path: (known[path], str(path)))
    seen = {os.path.realpath(path) for path in best}
    others = {os.path.realpath(path): path for path in _fontconfig_cjk_files()}
    rest = sorted((path for real, path in others.items() if real not in seen),
                  key=lambda path: ("regular" not in path.name.lower(),
                                    "sans" not in path.name.lower(), str(path)))
    return (*best, *rest)


def register_cjk_font(manager: Any = None) -> str | None:
    """The family of the best CJK font of the system, added to ``manager`` if it lacks it.

    Parameters
    ----------
    manager
        A :class:`matplotlib.font_manager.FontManager`; default: matplotlib's own.

    Returns
    -------
    str or None
        The family name of the first of :func:`cjk_font_files` that the manager
        lists or could add (with ``addfont``), or None when there is none. Each
        manager is given a font once; that is done under :data:`CHART_LOCK`.
    """
    from matplotlib import font_manager

    manager = font_manager.fontManager if manager is None else manager
    with CHART_LOCK:
        if manager not in _CJK_FAMILIES:
            _CJK_FAMILIES[manager] = _add_first_font(manager, cjk_font_files())
        return _CJK_FAMILIES[manager]


def _add_first_font(manager: Any, paths: Sequence[Path]) -> str | None:
    listed: dict[str, str] = {}
    for entry in manager.ttflist:  # the first face of a collection comes first
        listed.setdefault(os.path.realpath(entry.fname), entry.name)
    for path in paths:
        if (name := listed.get(os.path.realpath(path))) is not None:
            return name
        start = len(manager.ttflist)
        try:
            manager.addfont(path)
        except (OSError, RuntimeError, ValueError):
            continue  # not a font FreeType can read
        if len(manager.ttflist) > start:
            family: str = manager.ttflist[start].name
            return family
    return None


def chart_fonts(labels: Sequence[str]) -> list[str]:
    """Font families for a chart: DejaVu Sans, installed fallbacks for other scripts, then
    the generic ``sans-serif``.

    A CJK font of the system missing from matplotlib's cache is added first
    (:func:`register_cjk_font`). Warns once when a label needs a script no
    installed font covers.
    """
    from matplotlib import font_manager

    found = register_cjk_font()
    installed = {f.name for f in font_manager.fontManager.ttflist}
    fallbacks = [f for f in dict.fromkeys([*FALLBACK_FONTS, *([found] if found else [])])
                 if f in installed]
    if not fallbacks and any(ord(ch) > 0x2E7F for label in labels for ch in label):
        warnings.warn(
            "no font for some channel names is installed (for Chinese, Japanese or Korean "
            "install e.g. fonts-noto-cjk); they are drawn as boxes in the chart",
            stacklevel=2,
        )
    return ["DejaVu Sans", *fallbacks, "sans-serif"]


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
    with a constant, so the same chart gives the same bytes. SVG text stays
    text (``svg.fonttype: none``), drawn by the browser in any script.
    """
    import matplotlib

    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    rc: Any = {"svg.hashsalt": SVG_SALT}
    if fmt == "svg":
        rc["svg.fonttype"] = "none"
    with CHART_LOCK, matplotlib.rc_context(rc), _quiet_glyphs():
        fig.savefig(buffer, format=fmt, metadata=metadata, dpi=dpi)
    return buffer.getvalue()

