"""The headline of a plan or a forecast in one sentence, in the reader's language.

:func:`summary` says the facts of a :class:`~optimizer.narrative.Story` as, for
example,

    Move 120,000 from feeds to email and short video: +861 conversions a month
    (644–1,075), 100% likely to beat today's allocation.

Its words are looked up through a ``translate(message, **fields)`` function
(English by default; the browser passes its catalogue, which holds the
Chinese of every message of :data:`MESSAGES`) and its numbers are formatted by
the caller's functions (``money``, ``number``, ``percent``), so the sentence
reads in the reader's language and units.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from optimizer.narrative import Story

#: How many channels a list names before "and N more".
LISTED = 3

Translate = Callable[..., str]
Format = Callable[[Any], str]


def english(message: str, /, **fields: Any) -> str:
    """``message`` with its ``{name}`` fields filled: a sentence in English."""
    return message.format(**fields) if fields else message


def listing(names: Sequence[str], translate: Translate = english) -> str:
    """``a``, ``a and b``, ``a, b and c``, ``a, b, c and 2 more``."""
    if len(names) > LISTED:
        return translate("{names} and {count} more", names=translate(", ").join(names[:LISTED]),
                         count=len(names) - LISTED)
    if len(names) <= 1:
        return "".join(names)
    return translate("{first} and {last}", first=translate(", ").join(names[:-1]),
                     last=names[-1])


def period_words(story: Story, translate: Translate = english, number: Format = str) -> str:
    """``a week``, ``a month``, ``a quarter`` or ``over 6 weeks``."""
    named = {"week": translate("a week"), "month": translate("a month"),
             "quarter": translate("a quarter")}
    if story.period in named:
        return named[story.period]
    return translate("over {weeks} weeks", weeks=number(story.horizon_weeks))


def action_words(story: Story, money: Format, translate: Translate = english) -> str:
    """What the proposal does with the money, e.g. ``Move 120,000 from feeds to email``."""
    sources, destinations = listing(story.sources, translate), \
        listing(story.destinations, translate)
    action, moved, extra = story.action, money(story.moved), money(abs(story.added))
    if action == "move":
        return translate("Move {amount} from {sources} to {destinations}", amount=moved,
                         sources=sources, destinations=destinations)
    if action == "move_add":
        return translate("Move {amount} from {sources} to {destinations}, and spend {extra} "
                         "more in all", amount=moved, sources=sources,
                         destinations=destinations, extra=extra)
    if action == "move_cut":
        return translate("Move {amount} from {sources} to {destinations}, and spend {extra} "
                         "less in all", amount=moved, sources=sources,
                         destinations=destinations, extra=extra)
    if action == "add":
        return translate("Add {amount} to {destinations}", amount=extra,
                         destinations=destinations)
    if action == "cut":
        return translate("Cut {amount} from {sources}", amount=extra, sources=sources)
    return translate("Keep today's allocation")


def signed(value: float, formatted: str) -> str:
    """``formatted`` with a ``+`` in front of a positive value."""
    return f"+{formatted}" if value > 0 else formatted


def summary(story: Story, *, money: Format, number: Format, percent: Format,
            translate: Translate = english) -> str:
    """The headline of a plan or forecast in one sentence (module docstring).

    ``money`` formats amounts, ``number`` counts (a KPI), ``percent`` a
    probability, ``translate(message, **fields)`` looks a message up.
    """
    action = action_words(story, money, translate)
    gain = story.gain
    if gain is None or gain.mean is None:
        return translate("{action}.", action=action)
    show = money if gain.measure in ("revenue", "profit") else number
    measure = {"conversions": translate("conversions"), "revenue": translate("revenue"),
               "profit": translate("profit")}.get(gain.measure, gain.measure)
    fields = {"action": action, "gain": signed(gain.mean, show(gain.mean)), "measure": measure,
              "period": period_words(story, translate, number),
              "low": show(gain.low), "high": show(gain.high)}
    if gain.probability is None:
        return translate("{action}: {gain} {measure} {period} ({low}–{high}).", **fields)
    return translate("{action}: {gain} {measure} {period} ({low}–{high}), {probability} likely "
                     "to beat today's allocation.", probability=percent(gain.probability),
                     **fields)


#: Every message :func:`summary` may look up, for the catalogues of its front doors.
MESSAGES = (
    "{names} and {count} more", ", ", "{first} and {last}", "a week", "a month", "a quarter",
    "over {weeks} weeks", "Move {amount} from {sources} to {destinations}",
    "Move {amount} from {sources} to {destinations}, and spend {extra} more in all",
    "Move {amount} from {sources} to {destinations}, and spend {extra} less in all",
    "Add {amount} to {destinations}", "Cut {amount} from {sources}", "Keep today's allocation",
    "{action}.", "conversions", "revenue", "profit",
    "{action}: {gain} {measure} {period} ({low}–{high}).",
    "{action}: {gain} {measure} {period} ({low}–{high}), {probability} likely to beat today's "
    "allocation.",
)
