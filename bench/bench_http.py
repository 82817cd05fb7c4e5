"""The hub under HTTP load, against a bare Django view on the same server and middleware.

    python bench/bench_http.py            # BENCH_HTTP_SECONDS=10 per target (the full run)
    BENCH_HTTP_SECONDS=2 python bench/bench_http.py   # a quick look while developing

Production shape: PostgreSQL (a database of its own, ``lifes_bench_http_<pid>``, dropped at the
end), DEBUG off, gunicorn with 2 sync workers, the demo world (``seed_demo``). Load: 8
concurrent connections (8 client processes, each one keep-alive ``http.client`` connection,
re-opened when gunicorn closes it), each target for BENCH_HTTP_SECONDS after a short warm-up,
one target at a time. Requests carry ``X-Forwarded-Proto: https`` as behind the TLS proxy.

Printed per target: requests/s, p50 and p95 latency, and the ratio of its requests/s to the bare
view's measured in the same run (``/bench/bare``: a view that returns "ok", behind every
middleware). Goals (issue #16): node polls that find nothing new (304) >= 50% of the bare view,
API lists >= 20%, HTML pages >= 10% with p95 <= 100 ms. The load generator runs on the same
two cores as the server, so every figure (the baseline included) is lower than on a machine of
its own; the ratios are what compare.

Environment: BENCH_HTTP_SECONDS (10), BENCH_HTTP_CONNECTIONS (8), BENCH_HTTP_WORKERS (2),
BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres: where the bench database is
created), BENCH_HTTP_DATABASE (its name), BENCH_HTTP_ONLY (comma-separated target names, for a
quick look at a few).
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
SECONDS = float(os.environ.get("BENCH_HTTP_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_HTTP_CONNECTIONS", "8"))
WORKERS = int(os.environ.get("BENCH_HTTP_WORKERS", "2"))
ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
ONLY = {n for n in os.environ.get("BENCH_HTTP_ONLY", "").split(",") if n}
WARMUP = min(1.0, SECONDS / 4)
GOALS = {"bare": None, "poll 304": 0.50, "API list": 0.20, "HTML": 0.10}
HTML_P95_GOAL_MS = 100.0


@dataclass
class Target:
    name: str
    kind: str  # a key of GOALS
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200


@dataclass
class Result:
    target: Target
    requests: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


# --- the server --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _psql(sql: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True) as db:
        db.execute(sql)


def _database_url(name: str) -> str:
    parts = urlsplit(ADMIN_URL)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))


def environment(database: str, port: int, scratch: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "_http_settings",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT)]),
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(60),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": _database_url(database),
            "HUB_URL": f"http://127.0.0.1:{port}",
            "SIGNING_KEY_DIR": str(scratch / "keys"),
            "MEDIA_ROOT": str(scratch / "media"),
            "STATIC_ROOT": str(scratch / "static"),
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(  # noqa: S603 - our own commands, fixed arguments
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done.stdout


def _wait_for(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/bench/bare", headers={"X-Forwarded-Proto": "https"})
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("gunicorn did not answer in time")


# --- the load ----------------------------------------------------------------------------------


def _client(args: tuple[int, Target, float, float]) -> tuple[int, int, list[float]]:
    """One connection: requests back to back until ``stop``; latencies after ``start``."""
    port, target, start, stop = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"X-Forwarded-Proto": "https", "Accept-Encoding": "identity", **target.headers}
    done = errors = 0
    latencies: list[float] = []
    while True:
        began = time.monotonic()
        if began >= stop:
            break
        try:
            conn.request("GET", target.path, headers=headers)
            response = conn.getresponse()
            response.read()
            ok = response.status == target.status
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
        except (OSError, http.client.HTTPException):
            conn.close()
            ok = False
        ended = time.monotonic()
        if began >= start:
            if ok:
                done += 1
                latencies.append(ended - began)
            else:
                errors += 1
    conn.close()
    return done, errors, latencies


def load(pool, port: int, target: Target) -> Result:
    start = time.monotonic() + 0.2 + WARMUP
    stop = start + SECONDS
    parts = pool.map(_client, [(port, target, start, stop)] * CONNECTIONS)
    latencies = [x for _d, _e, lat in parts for x in lat]
    return Result(target, sum(p[0] for p in parts), SECONDS, latencies, sum(p[1] for p in parts))


def probe(port: int, target: Target) -> tuple[int, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", target.path, headers={"X-Forwarded-Proto": "https", **target.headers})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}


def targets(facts: dict) -> list[Target]:
    node = {"Authorization": f"Token {facts['node_token']}"}
    api = {"Authorization": f"Token {facts['requester_token']}", "Accept": "application/json"}

    def session(name: str) -> dict[str, str]:
        return {"Cookie": f"sessionid={facts['sessions'][name]}"}

    cohort = f"/api/v1/node/permits/{facts['permit']}/cohorts/{facts['dataset']}"
    return [
        Target("bare view", "bare", "/bench/bare"),
        Target("node permits (304)", "poll 304", "/api/v1/node/permits", node, 304),
        Target(
            "revocations (304)",
            "poll 304",
            "/api/v1/permits/revocations",
            {"Accept": "application/jwt"},
            304,
        ),
        Target("cohort (304)", "poll 304", cohort, node, 304),
        Target("jwks (304)", "poll 304", "/.well-known/jwks.json", {}, 304),
        Target("API requests list", "API list", "/api/v1/requests/", api),
        Target("API permits list", "API list", "/api/v1/permits/", api),
        Target("API node permits (200)", "API list", "/api/v1/node/permits", node),
        Target("API register", "API list", "/api/v1/register/", {"Accept": "application/json"}),
        Target("request page", "HTML", f"/requests/{facts['request']}/", session("requester")),
        Target("dashboard requester", "HTML", "/requests/", session("requester")),
        Target("dashboard owner", "HTML", "/requests/", session("owner")),
        Target("dashboard chair", "HTML", "/requests/", session("chair")),
        Target("catalogue", "HTML", "/catalogue/"),
        Target("register", "HTML", "/register/"),
    ]


def main() -> int:
    database = os.environ.get("BENCH_HTTP_DATABASE", f"lifes_bench_http_{os.getpid()}")
    port = _free_port()
    scratch = Path(tempfile.mkdtemp(prefix="lifes-bench-http-"))
    env = environment(database, port, scratch)
    server = None
    _psql(f'CREATE DATABASE "{database}"')
    try:
        began = time.monotonic()
        _run(["manage.py", "migrate", "--noinput", "-v", "0"], env)
        _run(["manage.py", "collectstatic", "--noinput", "-v", "0"], env)
        _run(["manage.py", "seed_demo"], env)
        facts = json.loads(_run(["bench/_http_setup.py"], env).strip().splitlines()[-1])
        print(f"prepared {database} in {time.monotonic() - began:.0f} s", flush=True)
        server = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
            [sys.executable, "-m", "gunicorn", "lifes.wsgi:application", "--bind",
             f"127.0.0.1:{port}", "--workers", str(WORKERS), "--preload", "--timeout", "60",
             "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        _wait_for(port, time.monotonic() + 90)
        chosen = [t for t in targets(facts) if not ONLY or t.name in ONLY or t.kind == "bare"]
        for target in chosen:  # conditional polls send the tag the node already holds
            if target.status == 304:
                _status, headers = probe(port, Target(target.name, "", target.path, target.headers))
                target.headers = {**target.headers, "If-None-Match": headers.get("etag", "")}
            status, _headers = probe(port, target)
            if status != target.status:
                raise SystemExit(
                    f"{target.name}: {target.path} answered {status}, not {target.status}"
                )
        results = []
        with multiprocessing.get_context("fork").Pool(CONNECTIONS) as pool:
            for target in chosen:
                results.append(load(pool, port, target))
            # the baseline once more at the end: on a shared machine the load of others drifts,
            # and the ratios use the mean of the two baseline runs
            results.append(load(pool, port, chosen[0]))
        report(results)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        _psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


def report(results: list[Result]) -> None:
    baselines = [r.rps for r in results if r.target.kind == "bare"]
    bare = statistics.mean(baselines)
    print(
        f"\nbench_http: gunicorn {WORKERS} sync workers, PostgreSQL, DEBUG off, "
        f"{CONNECTIONS} connections, {SECONDS:g} s per target"
    )
    print(f"{'target':26} {'kind':9} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'ratio':>6}  goal")
    print(
        f"baseline: bare view {' and '.join(f'{b:.1f}' for b in baselines)} req/s "
        f"(first and last run; ratios against their mean, {bare:.1f})"
    )
    for r in results:
        ratio = r.rps / bare if bare else 0.0
        goal = GOALS[r.target.kind]
        verdict = ""
        if goal is not None:
            met = ratio >= goal
            if r.target.kind == "HTML":
                met = met and r.percentile(0.95) <= HTML_P95_GOAL_MS
                verdict = f">= {goal:.0%}, p95 <= {HTML_P95_GOAL_MS:.0f} ms: "
            else:
                verdict = f">= {goal:.0%}: "
            verdict += "met" if met else "NOT met"
        errors = f"  ({r.errors} errors)" if r.errors else ""
        print(
            f"{r.target.name:26} {r.target.kind:9} {r.rps:8.1f} {r.percentile(0.5):7.1f} "
            f"{r.percentile(0.95):7.1f} {ratio:6.1%}  {verdict}{errors}"
        )
    median = statistics.median
    for kind in ("poll 304", "API list", "HTML"):
        ratios = [r.rps / bare for r in results if r.target.kind == kind and bare]
        if ratios:
            print(f"median ratio, {kind}: {median(ratios):.1%} (goal {GOALS[kind]:.0%})")


if __name__ == "__main__":
    sys.exit(main())
