"""The pages' store of drawn charts: kept by key, least recently used first out."""

from __future__ import annotations

from api.web.drawn import Drawn


def test_an_item_is_drawn_once_and_the_oldest_goes_first() -> None:
    """A kept key is not drawn again; past the size the least recently used is dropped."""
    calls: list[str] = []

    def draw(name: str) -> object:
        return lambda: calls.append(name) or name.upper()

    drawn = Drawn(size=2)
    assert drawn.get("a", draw("a")) == "A" and drawn.get("a", draw("a")) == "A"
    drawn.get("b", draw("b"))
    drawn.get("a", draw("a"))  # a is now the most recently used
    drawn.get("c", draw("c"))  # b goes
    drawn.get("a", draw("a"))
    drawn.get("b", draw("b"))
    assert calls == ["a", "b", "c", "b"]
    drawn.clear()
    drawn.get("a", draw("a"))
    assert calls[-1] == "a"
