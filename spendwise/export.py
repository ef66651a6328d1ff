"""CSV export that a spreadsheet opens safely.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is run as a formula by Excel, LibreOffice and Google Sheets ("CSV injection",
OWASP). Channel names, labels and model names come from users' data, so every
CSV the project writes passes through :func:`to_csv`, which prefixes such text
cells with ``'``. Numbers are written in full precision (``%.17g``), so a CSV
reads back to the same floats.
"""

from __future__ import annotations

import pandas as pd

#: Characters that make a spreadsheet treat a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as formulas with a quote."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = [
                "'" + v if isinstance(v, str) and v.startswith(FORMULA_PREFIXES) else v
                for v in out[column]
            ]
    return out


def to_csv(frame: pd.DataFrame) -> str:
    """CSV text with formula-like cells neutralised and floats in full precision."""
    return str(neutralise_formulas(frame).to_csv(index=False, float_format="%.17g"))
