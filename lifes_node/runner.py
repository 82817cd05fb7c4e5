"""Running the visiting algorithm: ``python ALGORITHM INPUT_CSV OUTPUT_JSON`` with a time limit.

Two runners share one interface:

* :class:`SubprocessRunner` (default) starts ``sys.executable`` in a fresh session with a minimal
  environment (no node credentials, no proxies, ``HOME`` = the scratch dir) and kills the whole
  process group on timeout, so children the algorithm spawned die with it. It does not sandbox
  file or network access; use it where the host itself is the trust boundary.
* :class:`ContainerRunner` runs the same command in a throw-away docker/podman container with no
  network, a read-only root, all capabilities dropped, and only the scratch dir mounted. It is
  used only when an engine is installed *and* its daemon answers (:func:`container_engine`).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

TAIL_BYTES = 4000


@dataclass
class RunOutcome:
    returncode: int | None
    timed_out: bool
    duration: float
    stderr_tail: str = ""

    @property
    def succeeded(self) -> bool:
        return not self.timed_out and self.returncode == 0


class Runner(Protocol):
    name: str

    def run(
        self, *, script: Path, input_path: Path, output_path: Path, workdir: Path, timeout: float
    ) -> RunOutcome: ...


def minimal_env(workdir: Path) -> dict[str, str]:
    """Only what Python needs; nothing from the node's own environment leaks in."""
    return {
        "PATH": os.defpath,
        "HOME": str(workdir),
        "TMPDIR": str(workdir),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONHASHSEED": "0",
    }


def _tail(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - TAIL_BYTES))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass


def _run(
    argv: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    timeout: float,
    on_timeout: Callable[[], None] | None = None,
) -> RunOutcome:
    stdout_path, stderr_path = cwd / ".stdout", cwd / ".stderr"
    started = time.monotonic()
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        proc = subprocess.Popen(  # noqa: S603 - argv is fixed; no shell
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            close_fds=True,
            start_new_session=True,
        )
        try:
            returncode: int | None = proc.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
            if on_timeout is not None:
                on_timeout()
            _kill_group(proc)
            proc.wait()
            returncode = None
    duration = time.monotonic() - started
    stderr_tail = _tail(stderr_path)
    for path in (stdout_path, stderr_path):
        path.unlink(missing_ok=True)
    return RunOutcome(returncode, timed_out, duration, stderr_tail)


class SubprocessRunner:
    name = "subprocess"

    def __init__(self, python: str | None = None) -> None:
        self.python = python or sys.executable

    def argv(self, script: Path, input_path: Path, output_path: Path) -> list[str]:
        return [self.python, str(script), str(input_path), str(output_path)]

    def run(
        self, *, script: Path, input_path: Path, output_path: Path, workdir: Path, timeout: float
    ) -> RunOutcome:
        argv = self.argv(script, input_path, output_path)
        return _run(argv, cwd=workdir, env=minimal_env(workdir), timeout=timeout)


def container_engine(preferred: str | None = None) -> str | None:
    """Full path of a docker/podman whose daemon answers, else ``None`` (then: no containers)."""
    for name in [preferred] if preferred else ["podman", "docker"]:
        path = shutil.which(name)
        if path is None:
            continue
        try:
            probe = subprocess.run(  # noqa: S603 - fixed argv
                [path, "info"], capture_output=True, timeout=15, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return path
    return None


class ContainerRunner:
    name = "container"

    def __init__(
        self,
        engine: str,
        image: str,
        *,
        memory: str = "2g",
        cpus: str = "1",
        pids_limit: int = 256,
    ) -> None:
        self.engine = engine
        self.image = image
        self.memory = memory
        self.cpus = cpus
        self.pids_limit = pids_limit

    def argv(
        self, name: str, workdir: Path, script: Path, input_path: Path, output_path: Path
    ) -> list[str]:
        """The container command; inside, the scratch dir is ``/work`` and nothing else is."""
        uid_gid = f"{os.getuid()}:{os.getgid()}" if hasattr(os, "getuid") else "65534:65534"
        inside = [f"/work/{p.relative_to(workdir)}" for p in (script, input_path, output_path)]
        return [
            self.engine, "run", "--rm", "--name", name,
            "--network", "none", "--read-only", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges",
            "--pids-limit", str(self.pids_limit), "--memory", self.memory, "--cpus", self.cpus,
            "--user", uid_gid, "--tmpfs", "/tmp:rw,size=64m",  # noqa: S108 - inside the container
            "-v", f"{workdir}:/work:rw", "-w", "/work",
            "-e", "HOME=/work", "-e", "PYTHONDONTWRITEBYTECODE=1",
            self.image, "python", *inside,
        ]  # fmt: skip

    def run(
        self, *, script: Path, input_path: Path, output_path: Path, workdir: Path, timeout: float
    ) -> RunOutcome:
        name = f"lifes-node-{uuid.uuid4().hex[:12]}"
        argv = self.argv(name, workdir, script, input_path, output_path)

        def kill_container() -> None:
            subprocess.run(  # noqa: S603 - fixed argv
                [self.engine, "kill", name], capture_output=True, timeout=30, check=False
            )

        # The engine CLI needs the operator's environment (DOCKER_HOST...); the container does not
        # inherit it.
        env = dict(os.environ)
        return _run(argv, cwd=workdir, env=env, timeout=timeout, on_timeout=kill_container)
