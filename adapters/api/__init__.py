"""The public contract's endpoints under ``/v1``: who may call them (``access``), the
shared route defaults (``routing``), what they answer (``answers``), the writes (the
case work's in ``casework``), the reads, the API keys (``keys``), and errors as problem
details (``problems``).
``huikuan.adapters.http`` serves them.
"""

from __future__ import annotations

from litestar import Router

from huikuan.adapters.api.casework import CASEWORK
from huikuan.adapters.api.documents import DOCUMENTS
from huikuan.adapters.api.keys import KEYS
from huikuan.adapters.api.reads import READS
from huikuan.adapters.api.writes import WRITES


def v1_router() -> Router:
    """Every operation of the contract under ``/v1``, each behind the role matrix.

    The guard is on each operation, not on the router: the ``OPTIONS`` answers Litestar
    adds for every path need no key."""
    return Router("/v1", route_handlers=[*WRITES, *CASEWORK, *DOCUMENTS, *READS,
                                          *KEYS])
