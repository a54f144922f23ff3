"""Run the projector in its own process with batches of N and die at event M (mid-batch).

``python -m tests.crash_projector DATABASE_URL BATCH_SIZE DIE_AT_EVENT``
"""

import os
import sys

from huikuan.adapters.storage import ledger_env
from huikuan.core.ledger import Ledger
from huikuan.projections.views import Projector


def main() -> None:
    url, batch_size, die_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    seen = 0

    def on_event(position: int) -> None:
        nonlocal seen
        seen += 1
        if seen == die_at:
            os._exit(3)

    ledger = Ledger(env=ledger_env(url))
    Projector(ledger, batch_size=batch_size, on_event=on_event).catch_up()


if __name__ == "__main__":
    main()
