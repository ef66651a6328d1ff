"""What the spendwise packages share: the version, chart drawing and CSV export.

:mod:`attribution`, :mod:`optimizer` and :mod:`api` all import from here and
this package imports none of them, so the engines stay independent of each
other and of the service.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("spendwise")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"
