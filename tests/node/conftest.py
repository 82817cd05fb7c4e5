"""Fixtures for the node suite: a real hub signing key, real permits, and a real HTTP "hub".

No Django here: permits are signed with a fresh Ed25519 key through PyJWT exactly as the hub
signs them, and the fake hub is an ``http.server`` on 127.0.0.1 serving the node API.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lifes_node.cohort import cohort_digest
from lifes_node.config import NodeConfig, load_config
from lifes_node.execute import RunResult, run_permit
from lifes_node.keys import generate_private_key, public_jwk, write_private_key

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demo" / "node"
DEMO_DATA = DEMO / "data" / "leiden-diabetes-cohort.csv"
DEMO_ALGORITHM = DEMO / "algorithms" / "mean_bmi_by_sex.py"
NODE_ID = "node-leiden"
DATASET_ID = "leiden-diabetes"
CREDENTIAL = "node-token-0123456789abcdef"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(doc: object) -> str:
    return _b64(json.dumps(doc).encode())


def sha256_file(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class HubSigner:
    """Signs permits and revocation lists the way the hub does (PyJWT, EdDSA, kid, typ)."""

    issuer: str
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    kid: str = "hub-2026-01"

    def jwks(self, *extra: dict[str, Any]) -> dict[str, Any]:
        return {"keys": [{**public_jwk(self.key), "kid": self.kid}, *extra]}

    def sign(
        self,
        claims: dict[str, Any],
        *,
        typ: str,
        key: Ed25519PrivateKey | None = None,
        kid: str | None = None,
    ) -> str:
        """Compact JWS by hand, so tests can also sign claims PyJWT would refuse to encode."""
        header = {"alg": "EdDSA", "kid": kid or self.kid, "typ": typ}
        signing_input = f"{_segment(header)}.{_segment(claims)}"
        signature = (key or self.key).sign(signing_input.encode())
        return f"{signing_input}.{_b64(signature)}"

    def permit_claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        permit = {
            "number": "LIFES-2026-0007",
            "request": "REQ-2026-0042",
            "purpose": {"codes": ["DUO:0000007"], "diseases": ["MONDO:0005148"]},
            "datasets": [{"id": DATASET_ID, "node": NODE_ID, "cohort_version": 1}],
            "algorithms": [
                {"name": "mean_bmi_by_sex", "version": "1.0", "digest": sha256_file(DEMO_ALGORITHM)}
            ],
            "outputs": {"aggregate_only": True, "min_cell_count": 5},
            "conditions": {"codes": ["DUO:0000021"]},
        }
        extra = overrides.pop("permit", {})
        permit = {**permit, **extra} if isinstance(extra, dict) else extra
        claims = {
            "iss": self.issuer,
            "sub": "org:leiden-university",
            "aud": [NODE_ID, "node-utrecht"],
            "jti": str(uuid.uuid4()),
            "iat": now - 60,
            "nbf": now - 60,
            "exp": now + 86400,
            "permit": permit,
        }
        claims.update(overrides)
        return claims

    def permit(
        self,
        *,
        key: Ed25519PrivateKey | None = None,
        kid: str | None = None,
        typ: str = "lifes-permit+jwt",
        **overrides: Any,
    ) -> str:
        return self.sign(self.permit_claims(**overrides), typ=typ, key=key, kid=kid)

    def revocations(
        self,
        revoked: list[str] = (),
        *,
        iat: float | None = None,
        exp: float | None = None,
        **overrides: Any,
    ) -> str:
        now = int(time.time())
        iat = now if iat is None else iat
        typ = overrides.pop("typ", "lifes-revocations+jwt")
        claims = {
            "iss": self.issuer,
            "iat": int(iat),
            "exp": int(iat + 3600 if exp is None else exp),
            "revoked": [
                {"jti": jti, "revoked_at": "2026-01-02T10:00:00Z", "reason": "owner request"}
                for jti in revoked or ()
            ],
        }
        claims.update(overrides)
        return self.sign(claims, typ=typ)


ISSUER = "https://hub.lifes.test"


@pytest.fixture
def signer() -> HubSigner:
    return HubSigner(issuer=ISSUER)


# --- a real HTTP hub -----------------------------------------------------------------------------


class FakeHub:
    """The hub's node API on 127.0.0.1: JWKS, revocations, cohorts (ETag/304), receipts."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.signer = HubSigner(issuer=self.url)
        self.jwks: dict[str, Any] | None = self.signer.jwks()
        self.jwks_status = 200
        self.revocation_token: str | None = self.signer.revocations()
        self.revocations_as_json = False
        self.cohorts: dict[tuple[str, str], dict[str, Any]] = {}
        self.cohort_status: int | None = None
        self.receipt_status = 201
        self.receipts: list[str] = []
        self.requests: list[dict[str, Any]] = []
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def set_cohort(
        self,
        participants: list[str],
        *,
        permit: str = "LIFES-2026-0007",
        dataset: str = DATASET_ID,
        version: int = 1,
        digest: str | None = None,
    ) -> None:
        self.cohorts[(permit, dataset)] = {
            "permit": permit,
            "dataset": dataset,
            "version": version,
            "digest": digest or cohort_digest(participants),
            "count": len(participants),
            "participants": sorted(participants),
        }

    def start(self) -> FakeHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(
                self,
                status: int,
                body: bytes = b"",
                ctype: str = "application/json",
                headers: dict[str, str] | None = None,
            ) -> None:
                self.send_response(status)
                if status != 304:
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)

            def _json(self, status: int, doc: Any, **kw: Any) -> None:
                self._send(status, json.dumps(doc).encode(), **kw)

            def _log(self, status: int) -> None:
                hub.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "status": status,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                    }
                )

            def _authorised(self) -> bool:
                if self.headers.get("Authorization") == f"Token {CREDENTIAL}":
                    return True
                self._log(401)
                self._json(401, {"detail": "bad token", "code": "not_authenticated"})
                return False

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                path = self.path
                if path == "/.well-known/jwks.json":
                    self._log(hub.jwks_status)
                    return self._json(hub.jwks_status, hub.jwks or {"detail": "down"})
                if path == "/api/v1/permits/revocations":
                    if hub.revocation_token is None:
                        self._log(503)
                        return self._json(503, {"detail": "unavailable", "code": "down"})
                    self._log(200)
                    if hub.revocations_as_json:
                        return self._json(200, {"token": hub.revocation_token})
                    return self._send(200, hub.revocation_token.encode(), "application/jwt")
                parts = path.strip("/").split("/")
                if parts[:4] == ["api", "v1", "node", "permits"] and parts[5:6] == ["cohorts"]:
                    if not self._authorised():
                        return None
                    if hub.cohort_status is not None:
                        self._log(hub.cohort_status)
                        return self._json(hub.cohort_status, {"detail": "no", "code": "denied"})
                    doc = hub.cohorts.get((parts[4], parts[6]))
                    if doc is None:
                        self._log(404)
                        return self._json(404, {"detail": "no cohort", "code": "not_found"})
                    etag = '"' + doc["digest"].split(":")[1][:16] + '"'
                    if self.headers.get("If-None-Match") == etag:
                        self._log(304)
                        return self._send(304, headers={"ETag": etag})
                    self._log(200)
                    return self._json(200, doc, headers={"ETag": etag})
                self._log(404)
                return self._json(404, {"detail": "not found", "code": "not_found"})

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if self.path != "/api/v1/node/receipts":
                    self._log(404)
                    return self._json(404, {"detail": "not found"})
                if not self._authorised():
                    return None
                self._log(hub.receipt_status)
                if 200 <= hub.receipt_status < 300:
                    hub.receipts.append(json.loads(body)["receipt"])
                return self._json(hub.receipt_status, {"status": "ok"})

        return Handler


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    server = FakeHub().start()
    yield server
    server.stop()


# --- a configured node ---------------------------------------------------------------------------


@dataclass
class Node:
    root: Path
    config_path: Path
    key_path: Path
    data_path: Path
    hub: FakeHub

    @property
    def config(self) -> NodeConfig:
        return load_config(self.config_path)

    @property
    def jwk(self) -> dict[str, str]:
        from lifes_node.keys import load_private_key

        return public_jwk(load_private_key(self.key_path))

    def write_config(self, **settings: Any) -> None:
        lines = []
        datasets = settings.pop("datasets", {DATASET_ID: str(self.data_path)})
        for key, value in settings.items():
            lines.append(f"{key} = {json.dumps(value)}")
        lines.append("[datasets]")
        lines += [f"{json.dumps(k)} = {json.dumps(str(v))}" for k, v in datasets.items()]
        self.config_path.write_text("\n".join(lines) + "\n")

    def configure(self, **overrides: Any) -> None:
        settings = {
            "hub_url": self.hub.url,
            "node_id": NODE_ID,
            "credential": CREDENTIAL,
            "signing_key": "node.key",
            "cache_dir": "cache",
            "timeout": 30,
            "max_cohort_age": 0,
        }
        settings.update(overrides)
        self.write_config(**{k: v for k, v in settings.items() if v is not None})

    def algorithm(self, source: str, name: str = "algorithm.py") -> Path:
        path = self.root / "algorithms" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(source)
        return path

    def permit_for(self, algorithm: Path, **overrides: Any) -> str:
        permit = overrides.pop("permit", {})
        permit.setdefault(
            "algorithms",
            [{"name": algorithm.stem, "version": "1", "digest": sha256_file(algorithm)}],
        )
        return self.hub.signer.permit(permit=permit, **overrides)

    def run(self, permit: str, algorithm: Path, **kwargs: Any) -> RunResult:
        return run_permit(self.config, permit=permit, algorithm=algorithm, **kwargs)

    def write_data(self, header: list[str], rows: list[list[Any]]) -> None:
        lines = [",".join(header)] + [",".join(str(v) for v in row) for row in rows]
        self.data_path.write_text("\n".join(lines) + "\n")


COHORT = [f"P{i:04d}" for i in range(1, 61) if i % 4 != 0]  # 45 of the 60 demo participants


@pytest.fixture
def node(tmp_path: Path, hub: FakeHub) -> Node:
    root = tmp_path / "node"
    root.mkdir()
    key_path = root / "node.key"
    write_private_key(generate_private_key(), key_path)
    data_path = root / "data.csv"
    shutil.copyfile(DEMO_DATA, data_path)
    result = Node(root, root / "node.toml", key_path, data_path, hub)
    result.configure()
    hub.set_cohort(COHORT)
    return result
