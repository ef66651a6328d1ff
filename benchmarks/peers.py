"""Run peer packages on aggregated paths, for benchmarks and golden comparisons.

Only ChannelAttribution (https://channelattribution.io, GPL-3.0-or-later; the
optional ``peers`` dependency group) for now. It is imported inside the
functions, so this module imports without it.

What ChannelAttribution 2.2.5 does, read from its source (``cypack/functions.cpp``):

* **Input.** ``sep`` must be one character. Blanks around channel names are
  trimmed, blanks inside kept; names are handled as UTF-8 bytes, so CJK names
  work. Conversion and null counts are C++ ``unsigned long``: fractional counts
  are silently truncated (3.5 becomes 3), so :func:`to_channelattribution`
  rejects them.
* **Repeated channels.** ``markov_model`` collapses consecutive repeats of a
  state (``a > a > b`` is ``a > b``; at order ``k`` repeats of a ``k``-tuple), so
  there are no self-transitions. ``heuristic_models`` counts every touch:
  linear gives ``a > a > b`` 2/3 to ``a``.
* **Markov removal effects are simulated, not solved.** Per fold, it draws
  ``nsim_start / nfold`` paths from the fitted chain. A path longer than
  ``max_step`` transitions (default: the longest path in the data) counts as
  not converting. The removal effect of ``c`` is the share of simulated
  conversions whose path visited ``c``, i.e. ``1 - P(conv | c removed) /
  P(conv)``. Conversions are these removal effects scaled to sum to the total
  conversions. The reported numbers come from one fold, the one nearest the
  per-channel median over folds, not from all folds pooled. If the folds
  disagree by more than ``conv_par`` (sum of absolute deviations over total
  conversions), ``nsim_start`` is multiplied by ``rate_step_sim`` and the
  simulation repeated. The counters are not reset between rounds and each
  fold restarts its generator from ``seed + fold``, so later rounds count the
  earlier rounds' paths again. Results are deterministic for a seed, also
  with ``ncore > 1``.
* **Value.** Each simulated conversion gets a value drawn from the observed
  per-conversion values (path value / path conversions) of paths ending in the
  same state. The value removal effect is that value's share on paths visiting ``c``.
* **Output names.** With ``out_more=True`` the removal effects column is
  ``removal_effect`` without ``var_value``, and ``removal_effects_conversion`` and
  ``removal_effects_conversion_value`` with it. The transition matrix names
  states by number (order of first appearance), with ``(start)``,
  ``(conversion)`` and ``(null)``.
* **Side effects.** Importing prints a banner and imports ``matplotlib.pyplot``;
  progress is printed through Python's ``print``. Both are captured here and
  kept in :attr:`PeerResult.log`.
"""

from __future__ import annotations

import contextlib
import io
import re
import time
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from attribution.paths import DEFAULT_SEPARATOR, PathTable

#: Candidate one-character separators for ChannelAttribution, first unused one wins.
CA_SEPARATORS = (">", "|", "\x1f")
#: ChannelAttribution heuristic columns per spendwise model name.
CA_HEURISTICS = {"first_touch": "first_touch", "last_touch": "last_touch",
                 "linear": "linear_touch"}


@dataclass(frozen=True)
class PeerResult:
    """Per-channel numbers from a peer package.

    Parameters
    ----------
    peer
        Package and version, e.g. ``"ChannelAttribution 2.2.5"``.
    model
        Spendwise name of the model (``markov``, ``first_touch``, ...).
    conversions
        Conversions attributed to each channel.
    value
        Conversion value attributed to each channel, if the input had value.
    seconds
        Wall time of the peer's call, excluding import and input conversion.
    settings
        Arguments passed to the peer.
    removal_effects
        Removal effect of each channel, as the peer reports it (Markov only).
    diagnostics
        Numbers read from the peer's progress output (Markov only).
    log
        Everything the peer printed.
    """

    peer: str
    model: str
    conversions: dict[str, float]
    value: dict[str, float] | None
    seconds: float
    settings: dict[str, Any]
    removal_effects: dict[str, float] | None = None
    diagnostics: dict[str, float] = field(default_factory=dict)
    log: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data."""
        return asdict(self)


def to_channelattribution(
    frame: pd.DataFrame, *, separator: str = DEFAULT_SEPARATOR
) -> tuple[pd.DataFrame, str]:
    """Aggregated paths in ChannelAttribution's input form, and its separator.

    The frame is validated by :meth:`PathTable.from_frame` (so the same column
    aliases and name stripping apply as for spendwise's models), then written
    back with columns ``path``, ``conversions``, ``nulls`` (int64) and ``value``,
    the channels joined by the first of :data:`CA_SEPARATORS` that no channel
    name contains. Raises ``ValueError`` for fractional counts.
    """
    table = PathTable.from_frame(frame, separator=separator)
    for name, counts in (("conversions", table.conversions), ("nulls", table.nulls)):
        if np.any(counts != np.round(counts)):
            raise ValueError(f"{name}: ChannelAttribution needs whole numbers of journeys")
    sep = next((s for s in CA_SEPARATORS if not any(s in c for c in table.channels)), None)
    if sep is None:
        raise ValueError("every candidate separator occurs in a channel name")
    data = pd.DataFrame({
        "path": [sep.join(table.path(r)) for r in range(table.n_rows)],
        "conversions": table.conversions.astype(np.int64),
        "nulls": table.nulls.astype(np.int64),
        "value": table.value,
    })
    return data, sep


def channelattribution_markov(
    frame: pd.DataFrame,
    order: int = 1,
    nsim: float | None = None,
    seed: int = 0,
    *,
    separator: str = DEFAULT_SEPARATOR,
    **options: Any,
) -> PeerResult:
    """ChannelAttribution's ``markov_model`` on aggregated paths.

    ``nsim`` is its ``nsim_start`` (``None``: its default, 1e5); the reported
    fold simulates ``nsim / nfold`` paths per round. ``options`` go
    to ``markov_model`` unchanged (``ncore``, ``nfold``, ``conv_par``,
    ``max_step``, ``rate_step_sim``). Value is attributed when any path has value.
    """
    ca = _import_channelattribution()
    data, sep = to_channelattribution(frame, separator=separator)
    with_value = bool((data["value"] != 0).any())
    settings: dict[str, Any] = {"order": order, "seed": seed, "sep": sep, **options}
    if nsim is not None:
        settings["nsim_start"] = nsim
    log = io.StringIO()
    with contextlib.redirect_stdout(log):
        start = time.perf_counter()
        out = ca.markov_model(
            data, "path", "conversions", var_value="value" if with_value else None,
            var_null="nulls", out_more=True, verbose=True, flg_pro=False, **settings,
        )
        seconds = time.perf_counter() - start
    result, effects = out["result"], out["removal_effects"]
    effect_column = "removal_effects_conversion" if with_value else "removal_effect"
    return PeerResult(
        peer=_peer_name(),
        model="markov",
        conversions=_by_channel(result, "total_conversions"),
        value=_by_channel(result, "total_conversion_value") if with_value else None,
        seconds=seconds,
        settings=settings,
        removal_effects=_by_channel(effects, effect_column),
        diagnostics=_markov_diagnostics(log.getvalue()),
        log=log.getvalue(),
    )


def channelattribution_heuristics(
    frame: pd.DataFrame, *, separator: str = DEFAULT_SEPARATOR
) -> dict[str, PeerResult]:
    """ChannelAttribution's first-touch, last-touch and linear models.

    One call computes all three; each result carries that call's wall time.
    Keys are spendwise model names (``first_touch``, ``last_touch``, ``linear``).
    """
    ca = _import_channelattribution()
    data, sep = to_channelattribution(frame, separator=separator)
    with_value = bool((data["value"] != 0).any())
    log = io.StringIO()
    with contextlib.redirect_stdout(log):
        start = time.perf_counter()
        out = ca.heuristic_models(
            data, "path", "conversions", var_value="value" if with_value else None,
            sep=sep, flg_pro=False,
        )
        seconds = time.perf_counter() - start
    results = {}
    for model, column in CA_HEURISTICS.items():
        conv_column = f"{column}_conversions" if with_value else column
        results[model] = PeerResult(
            peer=_peer_name(),
            model=model,
            conversions=_by_channel(out, conv_column),
            value=_by_channel(out, f"{column}_value") if with_value else None,
            seconds=seconds,
            settings={"sep": sep},
            log=log.getvalue(),
        )
    return results


def _import_channelattribution() -> ModuleType:
    """Import ChannelAttribution without its banner on stdout."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            import ChannelAttribution
    except ImportError as exc:
        raise ImportError(
            "ChannelAttribution is not installed; install the peers extra: "
            "pip install 'spendwise[peers]'"
        ) from exc
    return ChannelAttribution


def _peer_name() -> str:
    return f"ChannelAttribution {version('ChannelAttribution')}"


def _by_channel(frame: pd.DataFrame, column: str) -> dict[str, float]:
    return {str(c): float(v) for c, v in zip(frame["channel_name"], frame[column], strict=True)}


def _markov_diagnostics(log: str) -> dict[str, float]:
    """Simulations used and share of simulated paths that ended within ``max_step``."""
    found: dict[str, float] = {}
    runs = re.findall(r"Number of simulations: (\d+)", log)
    if runs:
        found["simulations"] = float(runs[-1])
        found["simulation_rounds"] = float(len(runs))
    ended = re.search(r"before maximum number of steps \((\d+)\) is reached: ([\d.]+)%", log)
    if ended:
        found["max_step"] = float(ended.group(1))
        found["completed_share"] = float(ended.group(2)) / 100.0
    return found
