"""A throwaway PostgreSQL 15 server on 127.0.0.1 for the tests and the sync benchmark: initdb in a temporary folder,
`postgres` as a child process (as the postgres user when run as root: PostgreSQL refuses root), stopped and removed
when the `with` block ends. Yields the database URL (user kaodian, database kaodian, no password)."""
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from conftest import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def as_postgres(args):
    return ["runuser", "-u", "postgres", "--", *args] if os.getuid() == 0 else list(args)


class ThrowawayPostgres:
    def __enter__(self) -> str:
        self.folder = Path(tempfile.mkdtemp(prefix="kaodian-pg-"))
        if os.getuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        data = self.folder / "data"
        subprocess.run(as_postgres([PG_BIN / "initdb", "-D", data, "-A", "trust", "-U", "kaodian", "--no-sync", "-E", "UTF8",
                                    "--locale", "C"]), check=True, capture_output=True)
        port = free_port()
        self.log = open(self.folder / "server.log", "wb")
        self.server = subprocess.Popen(as_postgres([PG_BIN / "postgres", "-D", data, "-h", "127.0.0.1", "-p", str(port), "-k",
                                                    self.folder, "-c", "fsync=off"]), stdout=self.log, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 30
            while subprocess.run([PG_BIN / "pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)]).returncode != 0:
                assert time.time() < deadline and self.server.poll() is None, (self.folder / "server.log").read_text()
                time.sleep(0.1)
            subprocess.run([PG_BIN / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "kaodian", "kaodian"], check=True)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return f"postgres://kaodian@127.0.0.1:{port}/kaodian"

    def __exit__(self, *exc):
        self.server.terminate()
        try:
            self.server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.server.kill()
            self.server.wait()
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)
        return False
