"""The ``demo`` workspace that ``spendwise serve`` creates on an empty database.

It loads the sample data of ``fixtures/`` through the same upload code as the
API (so user ids of the touch and conversion logs are pseudonymised like any
upload), queues an attribution report (Markov, Shapley and linear with
bootstrap intervals) and a response-model fit with the fixture's lift tests,
and returns an owner key and a one-time sign-in link for the browser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, select

from api.access import issue_key
from api.database import session_factory
from api.settings import Settings
from api.store import ArtifactStore
from api.tables import Dataset, Workspace

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NAME = "demo"
#: ``kind -> file`` of the demo's uploads.
UPLOADS = {
    "paths": "sample_paths.csv",
    "touches": "sample_touches.csv",
    "conversions": "sample_conversions.csv",
    "spend": "media_spend.csv",
    "outcomes": "media_outcomes.csv",
    "controls": "media_controls.csv",
    "lift_tests": "media_lift_tests.csv",
}
REPORT_MODELS = ("markov", "shapley", "linear")
REPORT_SETTINGS = {"bootstrap": 200, "seed": 0}


@dataclass(frozen=True)
class Demo:
    """What first start created: the owner key and the ids to link to."""

    owner_key: str
    report_id: str
    model_id: str
    #: A one-time sign-in link's token for the demo owner.
    signin_token: str
    minutes: float
    datasets: dict[str, str] = field(default_factory=dict)

    def announce(self, base: str) -> str:
        """The lines ``spendwise serve`` prints about the demo."""
        return "\n".join([
            "demo workspace created, with sample data; an attribution report and a response "
            "model (about a minute) are computing in the background.",
            f"Open this link in a browser to sign in as the demo owner (it works once, within "
            f"{self.minutes:g} minutes):",
            f"  {base}/signin?token={self.signin_token}",
            f"The demo owner's API key, for the JSON API and the sign-in page (shown once, keep "
            f"it): {self.owner_key}",
        ])


def first_start(engine: Engine, settings: Settings) -> Demo | None:
    """Create the demo workspace if the database has no workspace yet; else ``None``."""
    from api import jobs, reports
    from api.datasets import store_upload
    from api.fits import create_fit
    from api.signin import issue_link
    from api.tables import Report
    from attribution.requests import AttributionRequest
    from spendwise import __version__

    store = ArtifactStore(settings.store_dir)
    with session_factory(engine).begin() as session:
        if session.scalars(select(Workspace.id).limit(1)).first() is not None:
            return None
        workspace = Workspace(name=NAME)
        session.add(workspace)
        session.flush()
        key_row, owner_key = issue_key(session, "owner", workspace.id, "demo owner")
        session.flush()
        ids = {}
        for kind, name in UPLOADS.items():
            data = (FIXTURES / name).read_bytes()
            dataset = store_upload(session, store, workspace, kind, name, data, "text/csv",
                                   key_row.id)
            ids[kind] = dataset.id
        request = AttributionRequest.build(models=tuple(REPORT_MODELS),
                                           settings=REPORT_SETTINGS)
        parameters = {"dataset": ids["paths"], **request.canonical()}
        paths = session.get(Dataset, ids["paths"])
        assert paths is not None
        report = Report(workspace_id=workspace.id, dataset_id=paths.id, parameters=parameters,
                        state=jobs.QUEUED, result=None, version=__version__,
                        fingerprint=reports.fingerprint(paths.fingerprint, request),
                        created_by=key_row.id)
        session.add(report)
        session.flush()
        report.job_id = jobs.enqueue(session, workspace.id, reports.JOB_KIND, report.id).id
        fit = create_fit(session, store, workspace.id, key_row.id,
                         {k: ids[k] for k in ("spend", "outcomes", "controls", "lift_tests")},
                         {})
        token = issue_link(session, key_row.id, "first start", settings.signin_minutes)
        return Demo(owner_key, report.id, fit.id, token, settings.signin_minutes, ids)
