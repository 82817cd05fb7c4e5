"""``lifes-node run``: deny by default, one gate after the other, a receipt at the end.

Order (each refusal names its reason code):

1. hub keys and revocation list (fetched, else cached) and the permit itself (``verify``)
2. the dataset is assigned to this node by the permit and held here ......... ``dataset_not_held``
3. sha256 of the algorithm file is a permitted digest ..................... ``algorithm_mismatch``
4. the current cohort (conditional GET, digest checked) ... ``cohort_unavailable`` / ``_mismatch``
5. the input is cut down to cohort participants, in a private scratch directory
6. the algorithm runs with a time limit ............... ``algorithm_timeout`` / ``algorithm_failed``
7. disclosure control on its output ........................................ ``disclosure_*``
8. a signed receipt goes to the hub (or the outbox), whatever happened after step 1 succeeded

The algorithm that runs is the copy whose bytes were hashed (it is written into the scratch
directory), so swapping the file after the check changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifes_node.cohort import Cohort, CohortCache, fetch_cohort
from lifes_node.config import NodeConfig
from lifes_node.dataio import Table, filter_rows, load_table, write_csv
from lifes_node.disclosure import DisclosureResult, DisclosureRules, check_output
from lifes_node.errors import (
    ALGORITHM_FAILED,
    ALGORITHM_MISMATCH,
    ALGORITHM_TIMEOUT,
    COHORT_MISMATCH,
    CONFIG_ERROR,
    DATASET_NOT_HELD,
    DISCLOSURE_FORMAT,
    KEYS_UNAVAILABLE,
    MALFORMED,
    STALE_REVOCATIONS,
    ConfigError,
    NodeError,
    VerificationError,
)
from lifes_node.files import write_atomic
from lifes_node.hub import HubClient, HubError, parse_revocations_body
from lifes_node.keys import JWKSError, KeySet
from lifes_node.receipt import NodeSigner, Outbox, deliver, iso_utc, receipt_claims
from lifes_node.runner import ContainerRunner, Runner, SubprocessRunner, container_engine
from lifes_node.transport import TransportError, read_source
from lifes_node.verify import RevocationList, verify_permit, verify_revocation_list

DEFAULT_MIN_CELL_COUNT = 10
DEFAULT_CONTAINER_IMAGE = "python:3.11-slim"
FAILED_REASONS = frozenset({ALGORITHM_TIMEOUT, ALGORITHM_FAILED})


class UsageError(Exception):
    """The operator must say more (e.g. which dataset); nothing was attempted."""


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class RunResult:
    """Everything the CLI prints and the receipt reports about one run attempt."""

    status: str = "refused"
    reason: str | None = None
    message: str = ""
    permit: str | None = None
    permit_jti: str | None = None
    dataset: str | None = None
    algorithm_digest: str | None = None
    cohort: Cohort | None = None
    disclosure: DisclosureResult | None = None
    output_digest: str | None = None
    output_path: str | None = None
    output: Any = None
    started_at: str = ""
    ended_at: str = ""
    runner: str | None = None
    stderr_tail: str = ""
    receipt_jti: str | None = None
    receipt_posted: bool = False
    receipt_detail: str = "no receipt: the permit could not be attributed to the hub"
    outbox: dict[str, int] = field(default_factory=dict)
    # For uploading the run's results (``lifes_node.results``); never printed.
    receipt_token: str | None = field(default=None, repr=False)
    released: bytes | None = field(default=None, repr=False)

    @property
    def exit_code(self) -> int:
        return 0 if self.status == "succeeded" else 1

    def disclosure_claim(self) -> dict[str, Any]:
        if self.disclosure is None:
            return {"passed": False, "reason": None, "details": ["not evaluated"]}
        return self.disclosure.as_claim()

    def receipt_body(self) -> dict[str, Any]:
        cohort = self.cohort
        return {
            "permit": self.permit,
            "permit_jti": self.permit_jti,
            "dataset": self.dataset,
            "algorithm_digest": self.algorithm_digest,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "cohort_version": cohort.version if cohort else None,
            "cohort_digest": cohort.digest if cohort else None,
            "cohort_size": cohort.size if cohort else None,
            "output_digest": self.output_digest,
            "disclosure": self.disclosure_claim(),
            "status": self.status,
            "reason": self.reason,
        }

    def summary(self) -> dict[str, Any]:
        cohort = self.cohort
        data = {
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
            "permit": self.permit,
            "permit_jti": self.permit_jti,
            "dataset": self.dataset,
            "algorithm_digest": self.algorithm_digest,
            "cohort": None
            if cohort is None
            else {
                "version": cohort.version,
                "digest": cohort.digest,
                "size": cohort.size,
                "source": cohort.source,
            },
            "runner": self.runner,
            "disclosure": self.disclosure_claim(),
            "output_digest": self.output_digest,
            "output_path": self.output_path,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "receipt": {
                "jti": self.receipt_jti,
                "posted": self.receipt_posted,
                "detail": self.receipt_detail,
            },
            "outbox": self.outbox,
        }
        if self.output is not None:
            data["output"] = self.output
        return data


# --- step 1: keys, revocations, permit ----------------------------------------------------------


def _hub_keys(config: NodeConfig, hub: HubClient) -> KeySet:
    """The hub JWKS, fetched fresh; the last good copy is used only if fetching fails."""
    cache = config.cache_dir / "jwks.json"
    try:
        raw = read_source(config.jwks, timeout=config.http_timeout) if config.jwks else hub.jwks()
        keys = KeySet.from_jwks(raw)
        if len(keys):
            write_atomic(cache, raw, 0o644)
            return keys
        problem = "JWKS has no Ed25519 signing key"
    except (TransportError, HubError, JWKSError) as err:
        problem = str(err)
    try:
        keys = KeySet.from_jwks(cache.read_bytes())
    except (OSError, JWKSError):
        raise NodeError(KEYS_UNAVAILABLE, f"hub JWKS unavailable ({problem}); no cache") from None
    if not len(keys):
        raise NodeError(KEYS_UNAVAILABLE, f"hub JWKS unavailable ({problem})")
    return keys


def _revocations(
    config: NodeConfig, hub: HubClient, keys: KeySet
) -> tuple[RevocationList | None, str]:
    """The newest valid revocation list we can get: fetched, else the cached copy (whose age
    ``verify_permit`` then judges). ``None`` means there is none at all - the run will fail."""
    cache = config.cache_dir / "revocations.jwt"
    problems = []
    try:
        if config.revocations:
            token = parse_revocations_body(
                read_source(config.revocations, timeout=config.http_timeout)
            )
        else:
            token = hub.revocations()
        rlist = verify_revocation_list(
            token, jwks=keys, issuer=config.hub_url, leeway=config.leeway
        )
        write_atomic(cache, rlist.token.encode("ascii"), 0o644)
        return rlist, ""
    except (TransportError, HubError, ValueError, VerificationError) as err:
        problems.append(f"fetch: {getattr(err, 'message', err)}")
    try:
        token = cache.read_text("ascii")
        return verify_revocation_list(
            token, jwks=keys, issuer=config.hub_url, leeway=config.leeway
        ), ""
    except (OSError, ValueError, VerificationError) as err:
        problems.append(f"cache: {getattr(err, 'message', err)}")
    return None, "; ".join(problems)


# --- steps 2-3: dataset and algorithm ------------------------------------------------------------


def _choose_dataset(
    permit: dict[str, Any], config: NodeConfig, requested: str | None
) -> dict[str, Any]:
    entries = permit.get("datasets")
    if not isinstance(entries, list) or not all(isinstance(d, dict) for d in entries):
        raise NodeError(MALFORMED, "permit.datasets must be a list of objects")
    if requested is not None:
        entry = next((d for d in entries if str(d.get("id")) == requested), None)
        if entry is None:
            raise NodeError(DATASET_NOT_HELD, f"the permit does not name dataset {requested!r}")
        if str(entry.get("node")) != config.node_id:
            raise NodeError(
                DATASET_NOT_HELD,
                f"the permit assigns dataset {requested!r} to node {entry.get('node')!r}, "
                f"not {config.node_id!r}",
            )
        if requested not in config.datasets:
            raise NodeError(DATASET_NOT_HELD, f"dataset {requested!r} is not configured here")
        return entry
    held = [
        d
        for d in entries
        if str(d.get("node")) == config.node_id and str(d.get("id")) in config.datasets
    ]
    if not held:
        raise NodeError(DATASET_NOT_HELD, "the permit names no dataset held by this node")
    if len(held) > 1:
        ids = ", ".join(str(d.get("id")) for d in held)
        raise UsageError(f"the permit names several datasets held here ({ids}); use --dataset")
    return held[0]


def _check_algorithm(permit: dict[str, Any], algorithm: bytes | None, digest: str | None) -> None:
    entries = permit.get("algorithms")
    if not isinstance(entries, list) or not all(isinstance(a, dict) for a in entries):
        raise NodeError(MALFORMED, "permit.algorithms must be a list of objects")
    if algorithm is None or digest is None:
        raise NodeError(ALGORITHM_MISMATCH, "the algorithm file cannot be read")
    allowed = {str(a.get("digest", "")).lower() for a in entries}
    if digest not in allowed:
        raise NodeError(ALGORITHM_MISMATCH, f"{digest} is not a permitted algorithm digest")


def _min_cell_count(permit: dict[str, Any], config: NodeConfig) -> int:
    outputs = permit.get("outputs") or {}
    if not isinstance(outputs, dict):
        raise NodeError(MALFORMED, "permit.outputs must be an object")
    value = outputs.get("min_cell_count", DEFAULT_MIN_CELL_COUNT)
    if value is None:
        value = DEFAULT_MIN_CELL_COUNT
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise NodeError(MALFORMED, "permit.outputs.min_cell_count must be a non-negative integer")
    return max(value, config.min_cell_count)


def _check_cohort_version(entry: dict[str, Any], cohort: Cohort) -> None:
    """A cohort older than the one the permit was issued with would ignore newer withdrawals."""
    wanted, got = entry.get("cohort_version"), cohort.version
    numeric = (int, float)
    if (
        isinstance(wanted, numeric)
        and isinstance(got, numeric)
        and not isinstance(wanted, bool)
        and not isinstance(got, bool)
        and got < wanted
    ):
        raise NodeError(
            COHORT_MISMATCH, f"cohort version {got} is older than the permit's {wanted}"
        )


def make_runner(config: NodeConfig) -> Runner:
    if config.runner == "subprocess":
        return SubprocessRunner()
    engine = container_engine(config.container.get("engine"))
    if engine is None:
        if config.runner == "container":
            raise ConfigError("runner = 'container' but no docker/podman daemon answers")
        return SubprocessRunner()
    return ContainerRunner(
        engine,
        config.container.get("image", DEFAULT_CONTAINER_IMAGE),
        memory=config.container.get("memory", "2g"),
        cpus=config.container.get("cpus", "1"),
    )


# --- the run ------------------------------------------------------------------------------------


def run_permit(
    config: NodeConfig,
    *,
    permit: str,
    algorithm: str | Path,
    dataset: str | None = None,
    output: str | Path | None = None,
    now: float | None = None,
    hub: HubClient | None = None,
    runner: Runner | None = None,
) -> RunResult:
    """Run ``algorithm`` under ``permit`` (a compact JWS) and return what happened.

    Never raises for a refusal: the result carries status and reason. ``now`` only shifts the
    clock used to judge permit validity (tests); receipts always carry real times.
    """
    result = RunResult(started_at=iso_utc(), dataset=dataset)
    hub = hub or HubClient(
        config.hub_url, credential=config.credential, timeout=config.http_timeout
    )
    outbox = Outbox(config.outbox_dir)
    attributable = False
    try:
        try:
            signer = NodeSigner.from_file(config.signing_key)
        except (OSError, ValueError) as err:
            raise ConfigError(f"signing_key {config.signing_key}: {err}") from None
        try:
            config.cache_dir.mkdir(parents=True, exist_ok=True)
            config.outbox_dir.mkdir(parents=True, exist_ok=True)
            result.outbox = outbox.flush(hub)
        except OSError as err:
            raise ConfigError(f"cache_dir/outbox_dir not usable: {err}") from None
        try:
            algorithm_bytes: bytes | None = Path(algorithm).read_bytes()
            result.algorithm_digest = sha256_digest(algorithm_bytes)
        except OSError:
            algorithm_bytes = None

        keys = _hub_keys(config, hub)
        rlist, rl_problem = _revocations(config, hub, keys)
        try:
            claims = verify_permit(
                permit,
                jwks=keys,
                issuer=config.hub_url,
                node_id=config.node_id,
                revocations=rlist,
                max_revocation_age=config.max_revocation_age,
                now=now,
                leeway=config.leeway,
            )
            if rlist is None:
                raise VerificationError(
                    STALE_REVOCATIONS, f"no revocation list ({rl_problem})", claims=claims
                )
        except VerificationError as err:
            if err.claims is not None:
                attributable = True
                _identify(result, err.claims)
            raise
        attributable = True
        _identify(result, claims)
        permit_body = claims["permit"]
        if result.permit is None:
            raise NodeError(MALFORMED, "permit.number is missing")

        entry = _choose_dataset(permit_body, config, dataset)
        result.dataset = str(entry.get("id"))
        _check_algorithm(permit_body, algorithm_bytes, result.algorithm_digest)
        min_cells = _min_cell_count(permit_body, config)

        cohort = fetch_cohort(
            hub,
            CohortCache(config.cache_dir),
            permit=result.permit,
            dataset=result.dataset,
            max_age=config.max_cohort_age,
        )
        result.cohort = cohort
        _check_cohort_version(entry, cohort)

        table = load_table(config.datasets[result.dataset], id_column=config.id_column)
        visible = filter_rows(table, id_column=config.id_column, keep=cohort.participants)
        rules = DisclosureRules(
            min_cell_count=min_cells, id_column=config.id_column, dominance=config.dominance
        )
        run_with = runner or make_runner(config)
        result.runner = run_with.name
        _execute(result, run_with, config, algorithm_bytes or b"", visible, table, rules, output)
        result.status = "succeeded"
        result.message = "algorithm ran; output passed disclosure control"
    except UsageError:
        raise
    except NodeError as err:
        result.reason = err.reason
        result.message = err.message
        result.status = "failed" if err.reason in FAILED_REASONS else "refused"
    result.ended_at = iso_utc()

    if attributable:
        _send_receipt(result, config, hub, outbox, signer)
    elif result.reason == CONFIG_ERROR:
        result.receipt_detail = "no receipt: node configuration error"
    return result


def _identify(result: RunResult, claims: dict[str, Any]) -> None:
    body = claims.get("permit")
    number = body.get("number") if isinstance(body, dict) else None
    result.permit = None if number is None else str(number)
    result.permit_jti = claims.get("jti") if isinstance(claims.get("jti"), str) else None


def _execute(
    result: RunResult,
    runner: Runner,
    config: NodeConfig,
    algorithm_bytes: bytes,
    visible: Table,
    table: Table,
    rules: DisclosureRules,
    output: str | Path | None,
) -> None:
    with tempfile.TemporaryDirectory(prefix="lifes-node-") as scratch:
        workdir = Path(scratch)
        os.chmod(workdir, 0o700)
        script = workdir / "algorithm.py"
        input_path = workdir / "input.csv"
        output_path = workdir / "output.json"
        script.write_bytes(algorithm_bytes)
        write_csv(visible, input_path)
        outcome = runner.run(
            script=script,
            input_path=input_path,
            output_path=output_path,
            workdir=workdir,
            timeout=config.timeout,
        )
        result.stderr_tail = outcome.stderr_tail
        if outcome.timed_out:
            raise NodeError(ALGORITHM_TIMEOUT, f"algorithm killed after {config.timeout:g} s")
        if outcome.returncode != 0:
            raise NodeError(ALGORITHM_FAILED, f"algorithm exited with code {outcome.returncode}")
        produced = _read_output(output_path, rules.max_output_bytes)

    verdict = check_output(
        produced,
        visible.rows,
        rules,
        columns=visible.columns,
        known_ids=(row[config.id_column] for row in table.rows),
    )
    result.disclosure = verdict
    if not verdict.passed:
        # Withheld: not written, not returned, and not even hashed into the receipt (a hash of
        # a small table can be brute-forced, which would leak the very cells that failed).
        raise NodeError(verdict.reason or DISCLOSURE_FORMAT, "output withheld; see details")
    result.output_digest = sha256_digest(produced)
    result.released = produced
    if output is not None:
        write_atomic(Path(output), produced, 0o644)
        result.output_path = str(output)
    else:
        result.output = json.loads(produced)


def _read_output(path: Path, max_bytes: int) -> bytes:
    """Read the algorithm's output without following links (it could point at any node file)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        raise NodeError(ALGORITHM_FAILED, "algorithm wrote no output file (or a link)") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise NodeError(ALGORITHM_FAILED, "algorithm output is not a regular file")
        produced = fh.read(max_bytes + 1)
    if len(produced) > max_bytes:
        raise NodeError(DISCLOSURE_FORMAT, f"output larger than {max_bytes} bytes")
    return produced


def _send_receipt(
    result: RunResult, config: NodeConfig, hub: HubClient, outbox: Outbox, signer: NodeSigner
) -> None:
    claims = receipt_claims(
        node_id=config.node_id, hub_url=config.hub_url, receipt=result.receipt_body()
    )
    token = signer.sign(claims)
    result.receipt_jti = claims["jti"]
    result.receipt_token = token
    delivery = deliver(hub, outbox, token, claims["jti"])
    result.receipt_posted = delivery.posted
    result.receipt_detail = delivery.detail
