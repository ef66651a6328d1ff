"""``python -m api``: the spendwise command line."""

from api.cli import entry

entry()
