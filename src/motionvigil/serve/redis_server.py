"""A private ``redis-server`` process for tests and benchmarks: free port, temporary folder.

Starts Debian's ``redis-server`` binary (or ``$MOTIONVIGIL_REDIS_SERVER``) on 127.0.0.1 with
append-only persistence fsynced on every write (``appendfsync always``), so that a
restart keeps every committed entry; :meth:`restart` stops it (``SHUTDOWN``) and starts
it again on the same port and folder, :meth:`stop` ends it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path


def redis_server_binary() -> str | None:
    """The ``redis-server`` to run, or None when there is none."""
    env = os.environ.get("MOTIONVIGIL_REDIS_SERVER")
    if env:
        return env if Path(env).is_file() else None
    return shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server", "/usr/local/bin/redis-server") if Path(p).is_file()), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """One ``redis-server`` on a free loopback port, data in ``folder``."""

    def __init__(self, folder: str | Path, port: int | None = None, fsync: str = "always"):
        binary = redis_server_binary()
        if binary is None:
            raise FileNotFoundError("no redis-server binary (apt-get install redis-server)")
        self.binary, self.folder, self.fsync = binary, Path(folder), fsync
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        cmd = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
               "--appendonly", "yes", "--appendfsync", self.fsync, "--save", "", "--daemonize", "no",
               "--protected-mode", "yes", "--logfile", str(self.folder / "redis.log")]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # bounded wait for the port
            if self.proc.poll() is not None:
                log = (self.folder / "redis.log").read_text()[-500:] if (self.folder / "redis.log").exists() else ""
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}: {log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port} within 20 s")

    def stop(self) -> None:
        """``SHUTDOWN`` (data kept on disk), or kill it if it does not go."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"SHUTDOWN\r\n")
        except OSError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def restart(self, down_s: float = 0.0) -> None:
        """Stop, stay down ``down_s`` seconds, start again on the same port with the same data."""
        self.stop()
        time.sleep(down_s)
        self.start()

    def __enter__(self) -> "RedisServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
