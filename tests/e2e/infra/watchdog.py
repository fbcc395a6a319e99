"""A watchdog process that cleans up after a test process that died without running finalizers.

Fixture finalizers stop everything they started, also when a test fails. They cannot run when the
pytest process itself is killed (a Pants timeout, Ctrl-C twice, an OOM kill). For that case each
fixture starts one watchdog: a tiny Python process, in its own session, that polls the pytest PID
and, once it is gone, kills every process carrying the fixture's owner mark (see procs.py). A
normal stop terminates the watchdog after the fixture has cleaned up itself.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

# Standalone (stdlib only) so that it runs with any interpreter, outside Pex.
_WATCHDOG = r"""
import os, signal, sys, time
parent, owner = int(sys.argv[1]), sys.argv[2]
needle = ("NEXFLOW_E2E_OWNER=" + owner).encode() + b"\0"

def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False

def marked():
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open("/proc/%s/environ" % name, "rb") as f:
                env = b"\0" + f.read() + b"\0"
        except OSError:
            continue
        if b"\0" + needle in env:
            out.append(int(name))
    return out

signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while alive(parent):
    time.sleep(1.0)
pids = marked()
for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 0.0)):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass
    deadline = time.time() + wait
    while time.time() < deadline and any(alive(p) for p in pids):
        time.sleep(0.2)
"""


def start_watchdog(
    parent_pid: int, owner: str, env: Mapping[str, str], log: Path
) -> subprocess.Popen:
    clean_env = {k: v for k, v in env.items() if k != "NEXFLOW_E2E_OWNER"}
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(parent_pid), owner],
            env=clean_env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
