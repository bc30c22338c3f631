"""`central serve` as the end-to-end tests and the sync benchmark run it: on 127.0.0.1 with its own storage folder,
its output in test-output/, stopped (SIGTERM), killed (SIGKILL) and started again on the same port; `sql` reads its
PostgreSQL database with psql."""
import os
import signal
import subprocess
import time
from pathlib import Path

import requests

from conftest import OUTPUT, ROOT, free_port
from throwaway_postgres import PG_BIN


def central_binary() -> str:
    return os.environ.get("CENTRAL_BIN", str(ROOT / ".build" / "debug" / "central"))


class CentralProcess:
    def __init__(self, database_url: str, storage: Path, extra_args: tuple = ()):
        self.database_url = database_url
        self.storage = storage
        self.extra_args = list(extra_args)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = None
        OUTPUT.mkdir(parents=True, exist_ok=True)
        self.log_path = OUTPUT / f"central-{self.port}.log"

    def start(self):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen([central_binary(), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                                         "--database-url", self.database_url, "--storage-dir", str(self.storage),
                                         *self.extra_args], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.time() + 30
        while True:
            try:
                if requests.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            assert time.time() < deadline and self.process.poll() is None, f"central did not start; see {self.log_path}"
            time.sleep(0.1)

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def sql(self, query: str) -> list[list[str]]:
        """The rows of a query, each a list of text fields."""
        port = self.database_url.rsplit(":", 1)[1].split("/")[0]
        out = subprocess.run([str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", port, "-U", "kaodian", "-d", "kaodian", "-tA",
                              "-F", "\t", "-c", query], capture_output=True, text=True, check=True).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def one(self, query: str) -> str:
        return self.sql(query)[0][0]
