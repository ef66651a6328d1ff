"""The roles of a workspace and what each may do (no database here).

The command line names the roles in its options without loading the service,
so they live apart from the keys (:mod:`api.access`).

======================  =====  =====  =======  =======
action                  owner  buyer  auditor  finance
======================  =====  =====  =======  =======
``dataset.upload``      yes
``dataset.delete``      yes
``dataset.read``        yes    yes    yes
``report.create``       yes    yes    yes
``report.read``         yes    yes    yes
``model.create``        yes    yes
``model.read``          yes    yes             yes
``plan.create``         yes    yes
``plan.read``           yes    yes    yes      yes
``forecast.create``     yes    yes             yes
``job.read``            yes    yes    yes
``audit.read``          yes    yes    yes
``key.create``          yes
``key.read``            yes
``key.revoke``          yes
``workspace.update``    yes
======================  =====  =====  =======  =======

An owner lists and revokes the keys of its own workspace. The ``admin`` key
belongs to no workspace; it creates workspaces, and creates, lists and revokes
the keys of any workspace, and nothing else.
"""

from __future__ import annotations

ROLES = ("owner", "buyer", "auditor", "finance")
ADMIN = "admin"
_READ_ALL = {"dataset.read", "report.read", "model.read", "plan.read", "job.read", "audit.read"}
PERMISSIONS: dict[str, frozenset[str]] = {
    "owner": frozenset(_READ_ALL | {"dataset.upload", "dataset.delete", "report.create",
                                    "model.create", "plan.create", "forecast.create",
                                    "key.create", "key.read", "key.revoke",
                                    "workspace.update"}),
    "buyer": frozenset(_READ_ALL | {"report.create", "model.create", "plan.create",
                                    "forecast.create"}),
    "auditor": frozenset({"dataset.read", "report.create", "report.read", "plan.read",
                          "job.read", "audit.read"}),
    "finance": frozenset({"model.read", "plan.read", "forecast.create"}),
    ADMIN: frozenset({"workspace.create", "key.create", "key.read", "key.revoke"}),
}
