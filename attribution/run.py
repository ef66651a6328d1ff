"""Run an :class:`~attribution.requests.AttributionRequest` on a table of paths.

This is the one place where the models of a request are fitted and given
their bootstrap intervals; the command line, the service and its jobs all
call :func:`attribute`.
"""

from __future__ import annotations

from collections.abc import Callable

from attribution.base import AttributionModel, AttributionResult
from attribution.bootstrap import bootstrap
from attribution.paths import PathTable
from attribution.requests import AttributionRequest


def attribute(paths: PathTable, request: AttributionRequest,
              progress: Callable[[float], None] | None = None
              ) -> tuple[list[AttributionModel], list[AttributionResult]]:
    """Fit each model of ``request`` on ``paths``, with bootstrap intervals when asked.

    Parameters
    ----------
    paths
        The validated table of paths.
    request
        The models and their settings.
    progress
        Called with the fraction of models done, after each model.

    Returns
    -------
    tuple
        The fitted estimators and their results, in the order of ``request.models``.
    """
    settings = request.settings
    models = request.make_models()
    results: list[AttributionResult] = []
    for done, model in enumerate(models, start=1):
        result = model.fit(paths).result
        if settings.bootstrap:
            intervals = bootstrap(model, paths, replicates=settings.bootstrap,
                                  seed=settings.seed, method=settings.bootstrap_method,
                                  level=settings.ci_level)
            result = result.with_intervals(intervals)
        results.append(result)
        if progress is not None:
            progress(done / len(models))
    return models, results
