"""Processes, ports and waiting: the small toolbox the Kafka and Flink fixtures share.

Every process a fixture starts carries an owner mark in its environment (`NEXFLOW_E2E_OWNER=<id>`),
unique to that fixture instance. Stopping a fixture signals the processes it knows by PID and then
kills whatever still carries its mark — daemons that a shell script started and forgot, JVMs
whose PID file was never written. Nothing is ever found or killed by its name, so fixtures of other
sessions on the same machine (and other people's JVMs) are never touched.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Callable, Optional, TypeVar

OWNER_VAR = "NEXFLOW_E2E_OWNER"
LOOPBACK = "127.0.0.1"

T = TypeVar("T")


class InfraError(AssertionError):
    """A fixture could not provide its infrastructure; the message says what and shows logs."""


def new_owner_mark(kind: str) -> str:
    return f"{kind}-{os.getpid()}-{uuid.uuid4().hex[:12]}"


def java_home() -> Path:
    """The JDK the tests run with: `./pants test` passes NEXFLOW_JAVA_HOME (pants.toml [test])."""
    home = os.environ.get("NEXFLOW_JAVA_HOME") or os.environ.get("JAVA_HOME")
    if not home:
        raise InfraError(
            "NEXFLOW_JAVA_HOME is not set: run the e2e tests through `./pants test`, which passes "
            "the JDK 17 home that ./pants found (or export NEXFLOW_JAVA_HOME yourself)."
        )
    java = Path(home) / "bin" / "java"
    if not java.is_file():
        raise InfraError(f"NEXFLOW_JAVA_HOME={home} has no bin/java")
    return Path(home)


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports on 127.0.0.1 that were free a moment ago.

    All sockets stay open until every port is chosen, so the ports are distinct; another process
    can still take one before our server binds it (the fixtures then fail with the log that says
    so rather than silently talking to someone else's server).
    """
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            s = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            s.bind((LOOPBACK, 0))
            ports.append(s.getsockname()[1])
        return ports


def port_open(port: int, host: str = LOOPBACK, timeout: float = 0.25) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def child_env(owner: str, extra: Optional[Mapping[str, str]] = None) -> dict[str, str]:
    """The environment for a fixture's child: ours minus Pex/venv plumbing, plus the mark."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PEX_", "__PEX")) and k not in ("VIRTUAL_ENV", "PYTHONPATH")
    }
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env[OWNER_VAR] = owner
    if extra:
        env.update(extra)
    return env


def spawn(
    cmd: Sequence[str], *, env: Mapping[str, str], log: Path, cwd: Optional[Path] = None
) -> subprocess.Popen:
    """Start `cmd` in a new session (its own process group), stdout and stderr to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        return subprocess.Popen(
            list(cmd),
            env=dict(env),
            cwd=str(cwd) if cwd else None,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def marked_pids(owner: str) -> list[int]:
    """PIDs of live processes whose environment carries `NEXFLOW_E2E_OWNER=<owner>`."""
    needle = f"{OWNER_VAR}={owner}".encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes() + b"\0"
        except OSError:
            continue
        if b"\0" + needle in b"\0" + environ and pid_alive(int(entry.name)):
            found.append(int(entry.name))
    return sorted(found)


def _signal(pid: int, sig: int, group: bool) -> None:
    try:
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def terminate(pids: Iterable[int], *, grace: float = 15.0, groups: bool = False) -> list[int]:
    """SIGTERM `pids` (or their process groups), wait up to `grace` s, then SIGKILL the rest.

    Returns the PIDs that needed SIGKILL.
    """
    pids = [p for p in set(pids) if p > 1 and p != os.getpid()]
    for pid in pids:
        _signal(pid, signal.SIGTERM, groups)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(pid_alive(p) for p in pids):
        time.sleep(0.1)
    killed = [p for p in pids if pid_alive(p)]
    for pid in killed:
        _signal(pid, signal.SIGKILL, groups)
        _signal(pid, signal.SIGKILL, False)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(pid_alive(p) for p in killed):
        time.sleep(0.05)
    return killed


def kill_marked(owner: str, *, grace: float = 5.0) -> list[int]:
    """Stop every process still carrying the owner mark; returns the PIDs that were found."""
    leftovers = marked_pids(owner)
    if leftovers:
        terminate(leftovers, grace=grace)
    return leftovers


def stop_service(
    process: Optional[subprocess.Popen],
    watchdog: Optional[subprocess.Popen],
    owner: str,
    grace: float,
) -> None:
    """Stop a fixture's server process (SIGTERM, SIGKILL after `grace` s), whatever else carries
    its owner mark, then its watchdog."""
    try:
        if process is not None:
            terminate([process.pid], grace=grace, groups=True)
            process.wait(timeout=10)
    finally:
        kill_marked(owner)
        if watchdog is not None:
            terminate([watchdog.pid], grace=2)
            watchdog.wait(timeout=5)


def tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError as e:
        return f"<{path}: {e}>"
    return f"--- last {lines} lines of {path} ---\n" + "\n".join(text.splitlines()[-lines:])


def wait_until(
    probe: Callable[[], Optional[T]],
    *,
    timeout: float,
    what: str,
    interval: float = 0.2,
    diagnostics: Callable[[], str] = lambda: "",
    give_up: Callable[[], Optional[str]] = lambda: None,
) -> T:
    """Call `probe` until it returns something other than None/False, or fail after `timeout` s.

    `give_up` is asked between tries; a string from it (e.g. "the broker process exited") ends the
    wait at once. Failure messages carry `diagnostics()` (usually log tails).
    """
    deadline = time.monotonic() + timeout
    last_error: Optional[BaseException] = None
    while True:
        try:
            result = probe()
            if result is not None and result is not False:
                return result
        except Exception as e:
            last_error = e
        reason = give_up()
        if reason:
            raise InfraError(f"{what}: {reason}\n{diagnostics()}")
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise InfraError(f"{what}: not within {timeout:.0f} s{detail}\n{diagnostics()}")
        time.sleep(interval)


def listening_addresses(pids: Iterable[int]) -> dict[int, list[str]]:
    """The TCP addresses (`ip:port`) each PID listens on, from /proc (IPv4 and IPv6)."""
    sockets: dict[str, str] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A":  # LISTEN
                sockets[inode] = _decode_address(local)
    result: dict[int, list[str]] = {}
    for pid in pids:
        found = []
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inode = target[len("socket:["):-1]
                if inode in sockets:
                    found.append(sockets[inode])
        result[pid] = sorted(set(found))
    return result


def _decode_address(hex_address: str) -> str:
    host, port = hex_address.split(":")
    raw = bytes.fromhex(host)
    if len(raw) == 4:
        ip = socket.inet_ntop(socket.AF_INET, raw[::-1])
    else:
        # /proc stores IPv6 as four little-endian 32-bit words.
        words = [raw[i:i + 4][::-1] for i in range(0, 16, 4)]
        ip = socket.inet_ntop(socket.AF_INET6, b"".join(words))
        # A JVM binds IPv4 addresses through an IPv6 socket: ::ffff:127.0.0.1 is 127.0.0.1.
        if ip.startswith("::ffff:") and "." in ip:
            ip = ip[len("::ffff:"):]
    return f"{ip}:{int(port, 16)}"
