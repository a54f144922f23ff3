"""Run the dispatcher in its own process and kill it after the Nth text is accepted.

Used by test_outbox: ``python -m tests.crash_dispatch DATABASE_URL ENV_JSON NOW N``.
The process dies with os._exit: no cleanup, no MessageSent for the message in flight.
"""

import json
import os
import sys
from datetime import datetime

from huikuan.adapters.bootstrap import bootstrap
from huikuan.adapters.settings import load_settings
from huikuan.core.plugin import hookimpl
from huikuan.core.policy import PolicyHost
from huikuan.plugins import sms
from tests.conftest import REPO


def main() -> None:
    url, env_json, now, crash_after = sys.argv[1:5]
    env = json.loads(env_json)
    sent = 0

    class Crasher:
        @hookimpl(tryfirst=True)
        def huikuan_send_message(self, message, settings):
            nonlocal sent
            if message.channel != "sms":
                return None
            receipt = sms.huikuan_send_message(message, settings)
            sent += 1
            if sent == int(crash_after):
                os._exit(3)  # killed with the message accepted but not recorded as sent
            return receipt

    host = PolicyHost(load_settings(REPO / "plugins.toml", env=env),
                      extra_plugins=[("crasher", Crasher())], load_entry_points=False)
    # As `huikuan dispatch` runs, holding the store's dispatcher lock when it dies.
    with bootstrap(env, database_url=url, host=host) as app:
        app.dispatcher.run_once(datetime.fromisoformat(now))


if __name__ == "__main__":
    main()
