"""The algorithm runners: time limit, process-group kill, minimal environment, containers."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from lifes_node.config import config_from_dict
from lifes_node.errors import ConfigError
from lifes_node.execute import make_runner
from lifes_node.runner import ContainerRunner, SubprocessRunner, container_engine


def run_script(tmp_path: Path, source: str, timeout: float = 20):
    script = tmp_path / "algorithm.py"
    script.write_text(source)
    (tmp_path / "input.csv").write_text("participant_id\nP1\n")
    outcome = SubprocessRunner().run(
        script=script,
        input_path=tmp_path / "input.csv",
        output_path=tmp_path / "output.json",
        workdir=tmp_path,
        timeout=timeout,
    )
    return outcome


def test_algorithm_gets_input_and_output_paths_and_a_minimal_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIFES_NODE_TOKEN", "secret-node-credential")
    outcome = run_script(
        tmp_path,
        "import json, os, sys\n"
        "json.dump({'argv': sys.argv[1:], 'env': dict(os.environ), 'cwd': os.getcwd(),\n"
        "           'input': open(sys.argv[1]).read()}, open(sys.argv[2], 'w'))\n",
    )
    seen = json.loads((tmp_path / "output.json").read_text())

    assert outcome.succeeded
    assert seen["argv"] == [str(tmp_path / "input.csv"), str(tmp_path / "output.json")]
    assert seen["input"] == "participant_id\nP1\n"
    assert Path(seen["cwd"]).resolve() == tmp_path.resolve()
    assert "LIFES_NODE_TOKEN" not in seen["env"]
    assert seen["env"]["HOME"] == str(tmp_path)


def test_timeout_kills_the_algorithm_and_its_children(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    started = time.monotonic()
    outcome = run_script(
        tmp_path,
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n",
        timeout=1.5,
    )

    assert outcome.timed_out
    assert outcome.returncode is None
    assert time.monotonic() - started < 15
    child = int(pid_file.read_text())
    for _ in range(50):  # the killed grandchild may take a moment to be reaped by init
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        if (
            Path(f"/proc/{child}/stat").exists()
            and " Z " in Path(f"/proc/{child}/stat").read_text()
        ):
            break  # a zombie is dead: it only waits for its (dead) parent to be reaped
        time.sleep(0.1)
    else:
        pytest.fail("the algorithm's child process survived the timeout")


def test_nonzero_exit_keeps_the_stderr_tail(tmp_path: Path) -> None:
    outcome = run_script(tmp_path, "import sys\nprint('x' * 10000, file=sys.stderr)\nsys.exit(4)\n")

    assert (outcome.succeeded, outcome.returncode) == (False, 4)
    assert len(outcome.stderr_tail) <= 4000


def test_container_command_isolates_the_algorithm(tmp_path: Path) -> None:
    runner = ContainerRunner("/usr/bin/docker", "python:3.11-slim", memory="1g")
    argv = runner.argv(
        "lifes-node-x",
        tmp_path,
        tmp_path / "algorithm.py",
        tmp_path / "input.csv",
        tmp_path / "output.json",
    )
    joined = " ".join(argv)

    assert argv[:3] == ["/usr/bin/docker", "run", "--rm"]
    assert "--network none" in joined
    assert "--read-only" in joined
    assert "--cap-drop ALL" in joined
    assert f"{tmp_path}:/work:rw" in joined
    assert argv[-4:] == ["python", "/work/algorithm.py", "/work/input.csv", "/work/output.json"]


def test_container_engine_detection_needs_an_answering_daemon() -> None:
    assert container_engine("no-such-container-engine") is None


def config(**overrides: object):
    base = {
        "hub_url": "https://hub.example",
        "node_id": "n",
        "credential": "t",
        "signing_key": "k",
    }
    return config_from_dict({**base, **overrides})


def test_runner_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lifes_node.execute.container_engine", lambda preferred=None: None)

    assert make_runner(config()).name == "subprocess"
    assert make_runner(config(runner="auto")).name == "subprocess"
    with pytest.raises(ConfigError):
        make_runner(config(runner="container"))

    monkeypatch.setattr(
        "lifes_node.execute.container_engine", lambda preferred=None: "/usr/bin/podman"
    )
    chosen = make_runner(config(runner="auto", container={"image": "python:3.12-slim"}))
    assert (chosen.name, chosen.engine, chosen.image) == (
        "container",
        "/usr/bin/podman",
        "python:3.12-slim",
    )
