"""``GET /v1/jobs/{id}``: state, progress, timings and the error of a background job.

Progress is the fraction ``progress``, the counts ``progress_done`` of
``progress_total`` in the job's own units (draws of a fit, bootstrap
replicates or models of a report, steps of a plan; see ``docs/progress.md``),
a short ``progress_note`` and ``seconds_left``, estimated from ``started_at``
and the fraction.
"""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from api.context import auth, owned, principal
from api.jobs import job_dict
from api.schemas import JobOut
from api.tables import Job

blueprint = APIBlueprint("jobs", __name__, url_prefix="/v1", tag="jobs")


@blueprint.get("/jobs/<job_id>")
@blueprint.auth_required(auth)
@blueprint.output(JobOut)
@blueprint.doc(responses={404: "no such job in this workspace"})
def get_job(job_id: str) -> dict[str, Any]:
    """One job of this workspace: its state, progress (done of total units, a note and the
    seconds left), timings and error."""
    principal().require("job.read")
    return job_dict(owned(Job, job_id))
