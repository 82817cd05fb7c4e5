"""``lifes-node``: verify a permit, run an algorithm under one, manage the node key.

Exit codes: 0 success; 1 refusal (the reason code is the first word on stderr); 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from lifes_node.config import load_config
from lifes_node.errors import STALE_REVOCATIONS, UNKNOWN_KEY, ConfigError, VerificationError
from lifes_node.execute import UsageError, run_permit
from lifes_node.files import read_token_arg
from lifes_node.hub import parse_revocations_body
from lifes_node.keys import (
    JWKSError,
    KeySet,
    generate_private_key,
    load_jwks,
    load_private_key,
    public_jwk,
    write_private_key,
)
from lifes_node.transport import TransportError, read_source
from lifes_node.verify import DEFAULT_LEEWAY, DEFAULT_MAX_REVOCATION_AGE, verify_permit
from lifes_node.version import __version__


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
    except VerificationError as err:
        message = err.message
        if err.reason == UNKNOWN_KEY and jwks_problem:
            message = f"{message} ({jwks_problem})"
        return _refuse(err.reason, message)
    print(json.dumps(claims, indent=2, sort_keys=True))
    return 0


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
    print(json.dumps(result.summary(), indent=2))
    if result.exit_code != 0:
        print(f"{result.reason} - {result.message}", file=sys.stderr)
        if result.disclosure is not None and not result.disclosure.passed:
            for detail in result.disclosure.details:
                print(f"  {detail}", file=sys.stderr)
        if result.stderr_tail:
            print("algorithm stderr (last lines):", file=sys.stderr)
            print(result.stderr_tail.rstrip(), file=sys.stderr)
    return result.exit_code


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
    verify.add_argument("token", metavar="TOKEN_OR_PATH", help="compact JWS, file, or - (stdin)")
    verify.set_defaults(func=cmd_verify)

    run = sub.add_parser("run", help="run an algorithm under a permit (deny by default)")
    run.add_argument("--config", required=True, help="node.toml")
    run.add_argument("--permit", required=True, metavar="TOKEN_OR_PATH")
    run.add_argument("--algorithm", required=True, metavar="PATH_TO_SCRIPT")
    run.add_argument("--dataset", metavar="DATASET_ID", help="needed if several are held here")
    run.add_argument("--output", metavar="OUT.json", help="write the released output here")
    run.set_defaults(func=cmd_run)

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
