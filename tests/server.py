"""A real huikuan server process on loopback, for the end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from tests.receivers import free_port

REPO = Path(__file__).resolve().parent.parent


class Server:
    def __init__(self, env: dict[str, str], timeout: float = 60) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "huikuan.adapters.cli", "serve", "--port", str(self.port)],
            cwd=REPO, env={**os.environ, **env, "HUIKUAN_LOG_FORMAT": "json"},
            stderr=subprocess.PIPE, text=True)
        # Block on the server's own word that it is ready: no polling, no sleeping.
        seen = []
        assert self.process.stderr is not None
        for line in self.process.stderr:
            seen.append(line)
            if "Application startup complete" in line:
                break
        else:
            raise RuntimeError("the server did not start:\n" + "".join(seen))
        # Keep reading what it logs, or its writes block once the pipe is full.
        self.log = seen
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()
        self.client = httpx.Client(base_url=self.url, timeout=timeout)

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)

    def stop(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(timeout=60)
