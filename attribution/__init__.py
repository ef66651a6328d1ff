"""Multi-touch attribution from customer touchpoint paths.

Exact Markov-chain removal effects of order 1 to 5, Shapley values with three
value functions, and the classic rule-based models, all behind one estimator
contract (:class:`~attribution.base.AttributionModel`).
"""
