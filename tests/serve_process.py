"""``motionvigil serve`` in a subprocess on a free loopback port (shared by the serve and
console tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


def _env() -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[2] / "src")
    path = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH", "")) if p)
    return dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=path)


class Server:
    """``motionvigil serve`` in a subprocess on a free loopback port."""

    def __init__(self, det: Path, *args: str):
        self.proc = subprocess.Popen([sys.executable, "-m", "motionvigil.cli", "serve", str(det), "--port", "0",
                                      "--threads", "1", *args], env=_env(), stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()  # "listening on http://127.0.0.1:PORT ..."
        assert "listening on" in line, line + self.proc.stdout.read()
        self.port = int(line.split("http://127.0.0.1:")[1].split(" ")[0])
        self.url = f"ws://127.0.0.1:{self.port}"

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            out, _ = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return self.proc.returncode, out
