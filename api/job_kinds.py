"""Every kind of background job, in one registry.

==================  ===============================  =============================
kind                handler                          target marked failed by
==================  ===============================  =============================
``attribution``     :func:`api.reports.run_job`      :func:`api.reports.mark_failed`
``fit``             :func:`api.fits.run_fit`         :func:`api.fits.fit_failed`
``plan``            :func:`api.plans.run_plan`       :func:`api.plans.plan_failed`
==================  ===============================  =============================

The server, the stand-alone worker and the app import :data:`KINDS` from
here; none of them needs a web view to know how a job runs.
"""

from __future__ import annotations

from api import fits, plans, reports
from api.jobs import JobKind

KINDS: dict[str, JobKind] = {kind.name: kind for kind in (
    JobKind(reports.JOB_KIND, reports.run_job, reports.mark_failed),
    JobKind(fits.JOB_KIND, fits.run_fit, fits.fit_failed),
    JobKind(plans.JOB_KIND, plans.run_plan, plans.plan_failed),
)}
