"""Run an :class:`~attribution.requests.AttributionRequest` on a table of paths.

This is the one place where the models of a request are fitted and given
their bootstrap intervals; the command line, the service and its jobs all
call :func:`attribute`.
"""

from __future__ import annotations

from attribution.base import AttributionModel, AttributionResult
from attribution.bootstrap import bootstrap
from attribution.paths import PathTable
from attribution.requests import AttributionRequest
from spendwise.progress import Progress, ignore, part


def attribute(paths: PathTable, request: AttributionRequest,
              progress: Progress | None = None
              ) -> tuple[list[AttributionModel], list[AttributionResult]]:
    """Fit each model of ``request`` on ``paths``, with bootstrap intervals when asked.

    Parameters
    ----------
    paths
        The validated table of paths.
    request
        The models and their settings.
    progress
        Called as ``progress(done, total, note)`` (:mod:`spendwise.progress`). With
        bootstrap intervals the units are replicates, ``total = models x replicates``,
        reported after each batch with the note ``"<model>: bootstrap"`` (and
        ``"<model>: fitting"`` while a model is fitted); without, the units are
        models, reported after each fit.

    Returns
    -------
    tuple
        The fitted estimators and their results, in the order of ``request.models``.
    """
    report = ignore if progress is None else progress
    settings = request.settings
    models = request.make_models()
    replicates = settings.bootstrap
    total = len(models) * replicates if replicates else len(models)
    results: list[AttributionResult] = []
    for index, (name, model) in enumerate(zip(request.models, models, strict=True)):
        if replicates:
            report(index * replicates, total, f"{name}: fitting")
        result = model.fit(paths).result
        if replicates:
            intervals = bootstrap(model, paths, replicates=replicates, seed=settings.seed,
                                  method=settings.bootstrap_method, level=settings.ci_level,
                                  progress=part(report, index * replicates, replicates, total,
                                                f"{name}: "))
            result = result.with_intervals(intervals)
        else:
            report(index + 1, total, name)
        results.append(result)
    return models, results
