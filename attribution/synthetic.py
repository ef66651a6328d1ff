"""Synthetic customer journeys from a documented generating process.

For fixtures, tests and benchmarks: reproducible from a seed, cheap at scale
(a million journeys in about a second) and with a known ground truth. The
process, for ``C`` channels ranked ``0 .. C-1`` by popularity:

1. **Popularity.** Channel ``c`` has weight ``(c + 1) ** -s`` (Zipf-like,
   ``s = popularity_exponent``); normalised, these are the first-touch
   probabilities ``p``.
2. **Transitions.** After a touch of channel ``i`` the next touch repeats ``i``
   with probability ``r = repeat_probability``, otherwise goes to ``j != i``
   with probability ``(1 - r) * q_ij``, where ``q_ij`` is proportional to
   ``p_j * exp(a * Z_ij)``, ``Z_ij`` standard normal and ``a = affinity_scale``:
   a first-order tendency of some channels to follow others.
3. **Length.** ``L = min(G, max_length)`` with ``G`` geometric on
   ``{1, 2, ...}`` with mean ``mean_length``.
4. **Conversion.** With ``x_c = 1`` when channel ``c`` was touched at least once,
   ``P(convert) = 1 / (1 + exp(-(alpha + sum_c beta_c * x_c)))``. The lifts
   ``beta_c`` are drawn once, normal with mean ``lift_mean`` and standard
   deviation ``lift_sd``; the intercept ``alpha`` is solved so that the mean
   conversion probability of a calibration sample of journeys equals
   ``conversion_rate``. Touching a channel more than once adds nothing.
5. **Value.** Each conversion is worth a lognormal amount with mean
   ``value_mean`` and log-scale standard deviation ``value_sigma``, rounded to
   cents, independent of the path.

The parameters ``Z``, ``beta`` and ``alpha`` come from random streams of their
own spawned from ``seed``, apart from the journeys' stream, so
``simulate_paths(10_000, seed=3)`` and ``simulate_paths(1_000_000, seed=3)``
sample the same process.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import brentq
from scipy.special import expit

from attribution.errors import ParameterError
from attribution.paths import DEFAULT_SEPARATOR

#: Names of the most popular channels, in popularity order.
CHANNEL_NAMES: tuple[str, ...] = (
    "search", "feeds", "short_video", "email", "sms", "display",
    "social", "affiliate", "video", "push", "referral", "podcast",
)
#: CJK names substituted for every fifth channel from the second (ranks 2, 7, 12, 17).
UNICODE_NAMES: tuple[str, ...] = ("微信朋友圈", "抖音", "小红书", "微博")
CALIBRATION_JOURNEYS = 100_000
#: Longest journey, first touch to conversion or last touch (plus a minute per gap).
MAX_SPAN_DAYS = 28.0
#: Minimum inactivity between two journeys of a user.
PAUSE_DAYS = 30.0
_DAY = 86_400.0  # seconds


@dataclass(frozen=True)
class ProcessSettings:
    """Knobs of the generating process; see the module docstring for their roles."""

    popularity_exponent: float = 1.0
    repeat_probability: float = 0.3
    affinity_scale: float = 3.0
    mean_length: float = 3.0
    max_length: int = 12
    conversion_rate: float = 0.04
    lift_mean: float = 0.4
    lift_sd: float = 0.4
    value_mean: float = 80.0
    value_sigma: float = 0.8

    def __post_init__(self) -> None:
        checks = {
            "popularity_exponent": self.popularity_exponent >= 0,
            "repeat_probability": 0 <= self.repeat_probability < 1,
            "affinity_scale": self.affinity_scale >= 0,
            "mean_length": self.mean_length >= 1,
            "max_length": self.max_length >= 1,
            "conversion_rate": 0 < self.conversion_rate < 1,
            "lift_sd": self.lift_sd >= 0,
            "value_mean": self.value_mean > 0,
            "value_sigma": self.value_sigma >= 0,
        }
        for name in (name for name, ok in checks.items() if not ok):
            raise ParameterError(f"{name} is out of range: {getattr(self, name)!r}")


@dataclass(frozen=True, eq=False)
class JourneyProcess:
    """A fully specified generating process (the ground truth of a synthetic data set).

    Parameters
    ----------
    channels
        Channel names in popularity order.
    first_touch
        Probability that a journey starts with each channel (``p``).
    transitions
        ``transitions[i, j]``: probability that a touch of ``j`` follows one of ``i``.
    lifts
        Log-odds added to the conversion probability by touching each channel (``beta``).
    intercept
        Log-odds of converting with no channel touched (``alpha``).
    settings
        The settings it was built from (length and value distributions).
    """

    channels: tuple[str, ...]
    first_touch: NDArray[np.float64]
    transitions: NDArray[np.float64]
    lifts: NDArray[np.float64]
    intercept: float
    settings: ProcessSettings

    def to_dict(self) -> dict[str, Any]:
        """The process as JSON-ready lists and numbers."""
        fields = asdict(self)
        return {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in fields.items()}


@dataclass(frozen=True, eq=False)
class Journeys:
    """Sampled journeys, one row each.

    ``touches[k, t]`` is the channel index of touch ``t`` of journey ``k``, ``-1``
    after the journey's last touch; ``value`` is 0 for journeys that did not convert.
    """

    touches: NDArray[np.int16]
    lengths: NDArray[np.int64]
    converted: NDArray[np.bool_]
    value: NDArray[np.float64]


def channel_names(n_channels: int, *, unicode_names: bool = False) -> tuple[str, ...]:
    """Names of ``n_channels`` channels in popularity order.

    The first twelve are readable (``search``, ``feeds``, ``short_video``, ...),
    later ones ``channel_13``, ``channel_14``, ... With ``unicode_names`` the
    channels at popularity ranks 2, 7, 12 and 17 (those that exist) take the
    CJK names of :data:`UNICODE_NAMES` instead, so six channels include one.
    """
    if not 1 <= n_channels <= 32_767:
        raise ParameterError(f"n_channels must be between 1 and 32767, got {n_channels}")
    names = [
        CHANNEL_NAMES[i] if i < len(CHANNEL_NAMES) else f"channel_{i + 1:02d}"
        for i in range(n_channels)
    ]
    if unicode_names:
        for k, name in enumerate(UNICODE_NAMES):
            if 1 + 5 * k < n_channels:
                names[1 + 5 * k] = name
    return tuple(names)


def journey_process(
    n_channels: int = 12,
    seed: int = 0,
    *,
    settings: ProcessSettings | None = None,
    unicode_names: bool = False,
) -> JourneyProcess:
    """Draw the parameters of the process for ``n_channels`` channels from ``seed``.

    The affinities ``Z`` and then the lifts ``beta`` come from the first stream
    spawned from ``seed``; the intercept ``alpha`` is calibrated on
    :data:`CALIBRATION_JOURNEYS` journeys drawn from the second.
    """
    cfg = settings or ProcessSettings()
    process_seed, calibration_seed, _ = np.random.SeedSequence(seed).spawn(3)
    rng = np.random.default_rng(process_seed)
    names = channel_names(n_channels, unicode_names=unicode_names)
    weights = np.arange(1, n_channels + 1, dtype=np.float64) ** -cfg.popularity_exponent
    first_touch = weights / weights.sum()
    affinity = weights[None, :] * np.exp(
        cfg.affinity_scale * rng.standard_normal((n_channels, n_channels))
    )
    np.fill_diagonal(affinity, 0.0)
    rows = affinity.sum(axis=1, keepdims=True)
    other = np.divide(affinity, rows, out=np.zeros_like(affinity), where=rows > 0)
    repeat = cfg.repeat_probability if n_channels > 1 else 1.0  # one channel: only repeats
    transitions = (1.0 - repeat) * other + repeat * np.eye(n_channels)
    lifts = rng.normal(cfg.lift_mean, cfg.lift_sd, n_channels)
    calibration = _sample_touches(
        first_touch, transitions, cfg, CALIBRATION_JOURNEYS, np.random.default_rng(calibration_seed)
    )[0]
    log_odds = _touched_log_odds(lifts, calibration)
    intercept = brentq(
        lambda a: float(np.mean(expit(a + log_odds))) - cfg.conversion_rate, -50.0, 50.0
    )
    return JourneyProcess(names, first_touch, transitions, lifts, float(intercept), cfg)


def sample_journeys(
    process: JourneyProcess, n_journeys: int, rng: np.random.Generator
) -> Journeys:
    """Draw ``n_journeys`` journeys from ``process``.

    Draws from ``rng`` in this order: lengths, first touches, one uniform per
    later touch (position by position), one uniform per journey for the
    conversion, one lognormal per conversion.
    """
    cfg = process.settings
    touches, lengths = _sample_touches(process.first_touch, process.transitions, cfg,
                                       n_journeys, rng)
    log_odds = process.intercept + _touched_log_odds(process.lifts, touches)
    converted = rng.random(n_journeys) < expit(log_odds)
    mu = np.log(cfg.value_mean) - cfg.value_sigma**2 / 2.0
    value = np.zeros(n_journeys)
    value[converted] = np.round(rng.lognormal(mu, cfg.value_sigma, int(converted.sum())), 2)
    return Journeys(touches, lengths, converted, value)


def simulate_paths(
    n_journeys: int = 1_000_000,
    n_channels: int = 12,
    seed: int = 0,
    *,
    settings: ProcessSettings | None = None,
    unicode_names: bool = False,
    separator: str = DEFAULT_SEPARATOR,
) -> pd.DataFrame:
    """Simulate journeys from :func:`journey_process` and aggregate them by path.

    Parameters
    ----------
    n_journeys
        Number of journeys to draw.
    n_channels
        Number of channels; see :func:`channel_names` for their names.
    seed
        Seed of everything random: the process parameters and the journeys.
    settings
        Process settings; the defaults of :class:`ProcessSettings` if omitted.
    unicode_names
        Give a few channels CJK names (see :func:`channel_names`).
    separator
        Text between the channels of a path.

    Returns
    -------
    pandas.DataFrame
        The aggregated paths format, one row per distinct path, sorted by path:
        ``path`` (channels joined by ``separator``), ``conversions`` and
        ``nulls`` (int64 journey counts) and ``value`` (summed conversion value).
    """
    process = journey_process(n_channels, seed, settings=settings, unicode_names=unicode_names)
    journeys = sample_journeys(process, n_journeys, _journey_rng(seed))
    group, first = _group_paths(journeys.touches, n_channels)
    n_paths = len(first)
    total = np.bincount(group, minlength=n_paths)
    conversions = np.bincount(group, weights=journeys.converted, minlength=n_paths)
    value = np.bincount(group, weights=journeys.value, minlength=n_paths)
    names = process.channels
    frame = pd.DataFrame({
        "path": [separator.join(names[c] for c in row if c >= 0)
                 for row in journeys.touches[first].tolist()],
        "conversions": conversions.astype(np.int64),
        "nulls": total - conversions.astype(np.int64),
        "value": np.round(value, 2),
    })
    return frame.sort_values("path", ignore_index=True)


def simulate_touches(
    n_users: int = 2_000,
    n_channels: int = 6,
    seed: int = 0,
    *,
    settings: ProcessSettings | None = None,
    unicode_names: bool = False,
    start: str = "2024-01-01",
    window_days: float = 90.0,
    journeys_per_user: float = 1.2,
    mean_gap_days: float = 2.0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate raw touch and conversion events for the journey builder.

    A user draws ``1 + Poisson(journeys_per_user - 1)`` journeys from the same
    process as :func:`simulate_paths` (same ``seed`` and ``settings``) and keeps
    them up to and including the first that does not convert. Times, in whole
    seconds:

    * a user's first journey starts uniformly within ``window_days`` of ``start``;
    * the gaps between a journey's touches and, if it converts, from its last
      touch to the conversion are ``Exponential(mean_gap_days)`` each, scaled
      down together to last at most :data:`MAX_SPAN_DAYS` days, plus 60 s each;
    * the user's next journey starts :data:`PAUSE_DAYS` days plus
      ``Exponential(PAUSE_DAYS)`` after the previous one's conversion.

    So every touch lies within ``MAX_SPAN_DAYS`` days (and a minute per gap) of
    the end of its journey, and only a user's last journey can end without a
    conversion: a builder that ends journeys at conversions, with a look-back
    of 30 days, recovers the generating journeys exactly.

    Returns
    -------
    touches : pandas.DataFrame
        ``user_id`` (``u0001`` ...), ``timestamp`` (datetime64[s]), ``channel``;
        sorted by user, then time.
    conversions : pandas.DataFrame
        ``user_id``, ``timestamp``, ``value``; one row per converting journey.
    """
    if journeys_per_user < 1:
        raise ParameterError(f"journeys_per_user must be at least 1, got {journeys_per_user}")
    process = journey_process(n_channels, seed, settings=settings, unicode_names=unicode_names)
    rng = _journey_rng(seed)
    drawn = 1 + rng.poisson(journeys_per_user - 1.0, n_users)
    journeys = sample_journeys(process, int(drawn.sum()), rng)
    journeys, per_user = _until_first_null(journeys, drawn)
    touch_sec, end_sec = _journey_times(journeys, per_user, rng, window_days, mean_gap_days)
    width = len(str(n_users))
    users = np.array([f"u{i:0{width}d}" for i in range(1, n_users + 1)], dtype=object)
    users = np.repeat(users, per_user)  # one per journey
    valid, done = journeys.touches >= 0, journeys.converted
    touches = pd.DataFrame({
        "user_id": np.repeat(users, journeys.lengths),
        "timestamp": _timestamps(start, touch_sec[valid]),
        "channel": np.array(process.channels, dtype=object)[journeys.touches[valid]],
    })
    conversions = pd.DataFrame({
        "user_id": users[done],
        "timestamp": _timestamps(start, end_sec[done]),
        "value": journeys.value[done],
    })
    return touches, conversions


def _timestamps(start: str, seconds: NDArray[np.float64]) -> NDArray[np.datetime64]:
    """``start`` plus ``seconds``, rounded to whole seconds."""
    offsets = np.round(seconds).astype(np.int64).astype("timedelta64[s]")
    return np.datetime64(start, "s") + offsets


def _until_first_null(
    journeys: Journeys, drawn: NDArray[np.int64]
) -> tuple[Journeys, NDArray[np.int64]]:
    """Each user's journeys up to and including the first that does not convert,
    and how many that is per user (``drawn`` journeys each, back to back)."""
    failed = (~journeys.converted).astype(np.int64)
    earlier = np.cumsum(failed) - failed  # failures before each journey, all users
    keep = earlier - earlier[np.repeat(np.cumsum(drawn) - drawn, drawn)] == 0
    kept = Journeys(journeys.touches[keep], journeys.lengths[keep],
                    journeys.converted[keep], journeys.value[keep])
    user = np.repeat(np.arange(len(drawn)), drawn)
    return kept, np.bincount(user[keep], minlength=len(drawn))


def _journey_times(
    journeys: Journeys,
    per_user: NDArray[np.int64],
    rng: np.random.Generator,
    window_days: float,
    mean_gap_days: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Seconds from ``start`` to every touch (shaped like ``journeys.touches``)
    and to every journey's end (its conversion, or its last touch)."""
    n, width = journeys.touches.shape
    inner = journeys.touches >= 0  # touches after the first
    inner[:, 0] = False
    gaps = np.where(inner, rng.exponential(mean_gap_days * _DAY, (n, width)), 0.0)
    delay = np.where(journeys.converted, rng.exponential(mean_gap_days * _DAY, n), 0.0)
    span = gaps.sum(axis=1) + delay
    scale = np.minimum(1.0, MAX_SPAN_DAYS * _DAY / np.maximum(span, 1.0))
    offsets = np.cumsum(np.where(inner, gaps * scale[:, None] + 60.0, 0.0), axis=1)
    end = offsets[np.arange(n), journeys.lengths - 1] + np.where(
        journeys.converted, delay * scale + 60.0, 0.0
    )
    pause = (PAUSE_DAYS + rng.exponential(PAUSE_DAYS, n)) * _DAY
    first_start = rng.uniform(0.0, window_days * _DAY, len(per_user))
    # Journey j of a user starts after the user's earlier journeys and their pauses.
    elapsed = np.concatenate([[0.0], np.cumsum(end + pause)[:-1]])
    user_first = np.repeat(np.cumsum(per_user) - per_user, per_user)
    starts = np.repeat(first_start, per_user) + elapsed - elapsed[user_first]
    return starts[:, None] + offsets, starts + end


def _sample_touches(
    first_touch: NDArray[np.float64],
    transitions: NDArray[np.float64],
    cfg: ProcessSettings,
    n: int,
    rng: np.random.Generator,
) -> tuple[NDArray[np.int16], NDArray[np.int64]]:
    """Lengths, first touches, then one transition per position."""
    n_channels = len(first_touch)
    lengths = np.minimum(rng.geometric(1.0 / cfg.mean_length, n), cfg.max_length)
    touches = np.full((n, cfg.max_length), -1, dtype=np.int16)
    touches[:, 0] = rng.choice(n_channels, size=n, p=first_touch)
    cumulative = np.cumsum(transitions, axis=1)
    cumulative[:, -1] = 1.0
    # Row i of the flattened table is shifted by i, so one searchsorted samples every row.
    table = (cumulative + np.arange(n_channels)[:, None]).ravel()
    for t in range(1, cfg.max_length):
        active = np.flatnonzero(lengths > t)
        if active.size == 0:
            break
        prev = touches[active, t - 1].astype(np.int64)
        drawn = np.searchsorted(table, prev + rng.random(active.size), side="right")
        # prev + u can round up to prev + 1 when u is within 2**-53 of 1.
        touches[active, t] = np.minimum(drawn - prev * n_channels, n_channels - 1)
    return touches, lengths.astype(np.int64)


def _touched_log_odds(
    lifts: NDArray[np.float64], touches: NDArray[np.int16]
) -> NDArray[np.float64]:
    """``sum_c beta_c * x_c`` per journey, ``x_c = 1`` if channel ``c`` was touched."""
    touched = np.zeros((len(touches), len(lifts)), dtype=bool)
    rows, cols = np.nonzero(touches >= 0)
    touched[rows, touches[rows, cols]] = True
    log_odds = np.zeros(len(touches))
    for channel, lift in enumerate(lifts):
        log_odds[touched[:, channel]] += lift
    return log_odds


def _group_paths(
    touches: NDArray[np.int16], n_channels: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Group id of every journey's path and the first journey of each group.

    Paths are packed into int64 words (channel index + 1 in ``bits`` bits per
    touch, 0 for no touch) and grouped by sorting the words.
    """
    codes = touches.astype(np.int64) + 1
    bits = n_channels.bit_length()
    per_word = 63 // bits
    words = []
    for lo in range(0, codes.shape[1], per_word):
        chunk = codes[:, lo:lo + per_word]
        shifts = bits * np.arange(chunk.shape[1], dtype=np.int64)
        words.append(np.bitwise_or.reduce(chunk << shifts, axis=1))
    order = np.lexsort(words[::-1])
    keys = np.stack([w[order] for w in words], axis=1)
    change = np.concatenate([[True], np.any(keys[1:] != keys[:-1], axis=1)])
    group = np.empty(len(order), dtype=np.int64)
    group[order] = np.cumsum(change) - 1
    return group, order[change]


def _journey_rng(seed: int) -> np.random.Generator:
    """The journeys' stream: the third spawned from ``seed`` (see :func:`journey_process`)."""
    return np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[2])
