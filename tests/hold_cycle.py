"""Run the cycle in its own process and hold it in the middle until told to go on.

Used by test_one_cycle: ``python -m tests.hold_cycle DATABASE_URL ENV_JSON AS_OF``.
When the escalation plugin is first asked, the process writes ``holding`` on stdout and
waits for a line on stdin: the test acts while this cycle is under way, then lets it
finish. It writes ``done`` when the cycle has completed, or ``refused: …``.
"""

import json
import sys
from datetime import date

from huikuan.adapters.bootstrap import bootstrap
from huikuan.adapters.settings import load_settings
from huikuan.core.errors import DomainError
from huikuan.core.plugin import hookimpl
from huikuan.core.policy import PolicyHost
from tests.conftest import REPO


def main() -> None:
    url, env_json, as_of = sys.argv[1:4]
    env = json.loads(env_json)
    held = False

    class Holder:
        @hookimpl(tryfirst=True)
        def huikuan_escalation(self, account, as_of):
            nonlocal held
            if not held:
                held = True
                print("holding", flush=True)
                sys.stdin.readline()
            return None  # the shipped ladder decides

    host = PolicyHost(load_settings(REPO / "plugins.toml", env=env),
                      extra_plugins=[("holder", Holder())], load_entry_points=False)
    # As `huikuan cycle` runs: the views brought up to date, then the cycle.
    with bootstrap(env, database_url=url, host=host) as app:
        app.views.fresh()
        try:
            app.cycle.run(date.fromisoformat(as_of))
        except DomainError as error:
            print(f"refused: {error.message}", flush=True)
            return
    print("done", flush=True)


if __name__ == "__main__":
    main()
