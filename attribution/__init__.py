"""Multi-touch attribution from customer touchpoint paths.

Exact Markov-chain removal effects of order 1 to 5, Shapley values with three
value functions, and the classic rule-based models, all behind one estimator
contract (:class:`~attribution.base.AttributionModel`).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("spendwise")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"
