"""``lifes-node``: verify a permit, run an algorithm under one (and upload its results),
manage the node key.

Exit codes: 0 success; 1 refusal (the reason code is the first word on stderr); 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from lifes_node.config import load_config
from lifes_node.errors import (
    NOT_LOGGED,
    STALE_REVOCATIONS,
    UNKNOWN_KEY,
    ConfigError,
    NodeError,
    VerificationError,
)
from lifes_node.execute import UsageError, run_permit
from lifes_node.files import read_token_arg, write_atomic
from lifes_node.hub import HubClient, parse_revocations_body
from lifes_node.keys import (
    JWKSError,
    KeySet,
    generate_private_key,
    load_jwks,
    load_private_key,
    public_jwk,
    write_private_key,
)
from lifes_node.logproof import verify_logged
from lifes_node.results import UPLOAD_REFUSED, upload_output
from lifes_node.transport import TransportError, read_source
from lifes_node.verify import DEFAULT_LEEWAY, DEFAULT_MAX_REVOCATION_AGE, verify_permit
from lifes_node.version import __version__
from lifes_node.witness import witness_once


def _refuse(reason: str, message: str) -> int:
    print(f"{reason} - {message}", file=sys.stderr)
    return 1


def cmd_verify(args: argparse.Namespace) -> int:
    token = read_token_arg(args.token)
    jwks_problem = None
    try:
        keys = load_jwks(args.jwks)
    except (TransportError, JWKSError) as err:
        # Keep going with no keys, so a malformed or alg-confused token still gets its own
        # (earlier) reason; a well-formed one then fails with unknown_key.
        keys, jwks_problem = KeySet({}), f"cannot load JWKS {args.jwks}: {err}"

    revocations = None
    rl_problem = None
    if args.revocations:
        try:
            revocations = parse_revocations_body(read_source(args.revocations))
        except (TransportError, ValueError) as err:
            rl_problem = f"cannot load revocation list {args.revocations}: {err}"
    log_problem = None
    log = None
    if args.log_proof:
        try:
            log = json.loads(read_source(args.log_proof))
            if isinstance(log, dict) and isinstance(log.get("log"), dict):
                log = log["log"]  # a whole item of GET /api/v1/node/permits
        except (TransportError, ValueError) as err:
            log_problem = f"cannot load log proof {args.log_proof}: {err}"
    try:
        claims = verify_permit(
            token,
            jwks=keys,
            issuer=args.issuer,
            node_id=args.node,
            revocations=revocations,
            max_revocation_age=args.max_revocation_age,
            leeway=args.leeway,
        )
        if rl_problem:
            raise VerificationError(STALE_REVOCATIONS, rl_problem)
        if args.require_logged:
            if log_problem:
                raise VerificationError(NOT_LOGGED, log_problem)
            verify_logged(claims, log, keys, issuer=args.issuer)
    except VerificationError as err:
        message = err.message
        if err.reason == UNKNOWN_KEY and jwks_problem:
            message = f"{message} ({jwks_problem})"
        return _refuse(err.reason, message)
    print(json.dumps(claims, indent=2, sort_keys=True))
    return 0


def cmd_witness(args: argparse.Namespace) -> int:
    try:
        keys = load_jwks(args.jwks)
    except (TransportError, JWKSError) as err:
        return _refuse("bad_tree_head", f"cannot load JWKS {args.jwks}: {err}")
    rounds = 0
    while True:
        try:
            result = witness_once(
                hub=args.hub, keys=keys, state_path=args.state, issuer=args.issuer
            )
        except NodeError as err:
            return _refuse(err.reason, err.message)
        since = "first head" if result.previous_size is None else f"extends {result.previous_size}"
        print(f"ok: tree size {result.tree_size}, root {result.root_hash} ({since})", flush=True)
        rounds += 1
        if args.every is None or (args.rounds and rounds >= args.rounds):
            return 0
        time.sleep(args.every)


def cmd_run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as err:
        return _refuse(err.reason, err.message)
    try:
        result = run_permit(
            config,
            permit=read_token_arg(args.permit),
            algorithm=args.algorithm,
            dataset=args.dataset,
            output=args.output,
        )
    except UsageError as err:
        print(f"usage error - {err}", file=sys.stderr)
        return 2
    summary = result.summary()
    if args.receipt_out and result.receipt_token:
        write_atomic(Path(args.receipt_out), result.receipt_token.encode("ascii"), 0o644)
    upload = None
    if args.upload and result.exit_code == 0 and result.released and result.receipt_token:
        upload = upload_output(
            HubClient(config.hub_url, credential=config.credential, timeout=config.http_timeout),
            receipt=result.receipt_token,
            data=result.released,
            filename=Path(args.output).name if args.output else f"{result.permit}-output.json",
        )
        summary["upload"] = {
            "uploaded": upload.uploaded,
            "reason": upload.reason,
            "detail": upload.detail,
        }
    print(json.dumps(summary, indent=2))
    if upload is not None and not upload.uploaded:
        return _refuse(upload.reason or UPLOAD_REFUSED, f"results not uploaded: {upload.detail}")
    if result.exit_code != 0:
        print(f"{result.reason} - {result.message}", file=sys.stderr)
        if result.disclosure is not None and not result.disclosure.passed:
            for detail in result.disclosure.details:
                print(f"  {detail}", file=sys.stderr)
        if result.stderr_tail:
            print("algorithm stderr (last lines):", file=sys.stderr)
            print(result.stderr_tail.rstrip(), file=sys.stderr)
    return result.exit_code


def cmd_upload(args: argparse.Namespace) -> int:
    """Upload a released output with the receipt of its run (``run --receipt-out``)."""
    try:
        config = load_config(args.config)
    except ConfigError as err:
        return _refuse(err.reason, err.message)
    try:
        data = Path(args.output).read_bytes()
    except OSError as err:
        print(f"usage error - cannot read {args.output}: {err}", file=sys.stderr)
        return 2
    upload = upload_output(
        HubClient(config.hub_url, credential=config.credential, timeout=config.http_timeout),
        receipt=read_token_arg(args.receipt),
        data=data,
        filename=Path(args.output).name,
    )
    print(
        json.dumps(
            {"uploaded": upload.uploaded, "reason": upload.reason, "detail": upload.detail},
            indent=2,
        )
    )
    if not upload.uploaded:
        return _refuse(upload.reason or UPLOAD_REFUSED, upload.detail)
    return 0


def cmd_keygen(args: argparse.Namespace) -> int:
    key = generate_private_key()
    try:
        write_private_key(key, args.out, overwrite=args.force)
    except FileExistsError:
        print(f"usage error - {args.out} exists (use --force to replace it)", file=sys.stderr)
        return 2
    print(json.dumps(public_jwk(key), indent=2))
    return 0


def cmd_pubkey(args: argparse.Namespace) -> int:
    try:
        key = load_private_key(args.key)
    except (OSError, ValueError) as err:
        print(f"usage error - cannot load {args.key}: {err}", file=sys.stderr)
        return 2
    print(json.dumps(public_jwk(key), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lifes-node",
        description="Verify LIFES permits and run visiting algorithms under them.",
    )
    parser.add_argument("--version", action="version", version=f"lifes-node {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    verify = sub.add_parser("verify", help="verify a permit offline; print its claims")
    verify.add_argument("--jwks", required=True, help="hub JWKS: file path or URL")
    verify.add_argument("--issuer", required=True, help="hub URL expected in 'iss'")
    verify.add_argument("--node", required=True, help="this node's id (must be in 'aud')")
    verify.add_argument("--revocations", help="signed revocation list: file path or URL")
    verify.add_argument(
        "--max-revocation-age",
        type=float,
        default=DEFAULT_MAX_REVOCATION_AGE,
        metavar="SECONDS",
        help="refuse a revocation list older than this (default %(default)g)",
    )
    verify.add_argument(
        "--leeway",
        type=float,
        default=DEFAULT_LEEWAY,
        metavar="SECONDS",
        help="clock skew tolerated on nbf/exp (default %(default)g)",
    )
    verify.add_argument(
        "--require-logged",
        action="store_true",
        help="refuse (not_logged) unless --log-proof shows the permit's issue in the hub's log",
    )
    verify.add_argument(
        "--log-proof",
        metavar="PATH_OR_URL",
        help="the permit's 'log' from GET /api/v1/node/permits (or the whole item): inclusion "
        "proof of its issue event and the signed tree head",
    )
    verify.add_argument("token", metavar="TOKEN_OR_PATH", help="compact JWS, file, or - (stdin)")
    verify.set_defaults(func=cmd_verify)

    witness = sub.add_parser(
        "witness", help="check the hub's signed tree heads only ever extend (RFC 9162)"
    )
    witness.add_argument("--hub", required=True, help="hub URL")
    witness.add_argument("--jwks", required=True, help="hub JWKS: file path or URL")
    witness.add_argument("--state", required=True, help="JSON file of the heads seen (kept)")
    witness.add_argument("--issuer", help="expected 'iss' of the heads (default: --hub)")
    witness.add_argument(
        "--every", type=float, metavar="SECONDS", help="keep watching, one round every SECONDS"
    )
    witness.add_argument("--rounds", type=int, default=0, help="stop after N rounds (with --every)")
    witness.set_defaults(func=cmd_witness)

    run = sub.add_parser("run", help="run an algorithm under a permit (deny by default)")
    run.add_argument("--config", required=True, help="node.toml")
    run.add_argument("--permit", required=True, metavar="TOKEN_OR_PATH")
    run.add_argument("--algorithm", required=True, metavar="PATH_TO_SCRIPT")
    run.add_argument("--dataset", metavar="DATASET_ID", help="needed if several are held here")
    run.add_argument("--output", metavar="OUT.json", help="write the released output here")
    run.add_argument(
        "--upload",
        action="store_true",
        help="upload the released output with the run's receipt to the hub (the permit "
        "holder's team downloads it from the permit page)",
    )
    run.add_argument(
        "--receipt-out", metavar="RECEIPT.jwt", help="write the run's signed receipt here"
    )
    run.set_defaults(func=cmd_run)

    upload = sub.add_parser(
        "upload", help="upload a released output with the signed receipt of its run"
    )
    upload.add_argument("--config", required=True, help="node.toml")
    upload.add_argument(
        "--receipt", required=True, metavar="TOKEN_OR_PATH", help="from run --receipt-out"
    )
    upload.add_argument("output", metavar="OUT.json", help="the output the run released")
    upload.set_defaults(func=cmd_upload)

    keygen = sub.add_parser("keygen", help="create the node's Ed25519 receipt-signing key")
    keygen.add_argument("--out", required=True, help="PEM file to write (PKCS#8, mode 600)")
    keygen.add_argument("--force", action="store_true", help="replace an existing file")
    keygen.set_defaults(func=cmd_keygen)

    pubkey = sub.add_parser("pubkey", help="print the public JWK of a node key")
    pubkey.add_argument("--key", required=True)
    pubkey.set_defaults(func=cmd_pubkey)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
