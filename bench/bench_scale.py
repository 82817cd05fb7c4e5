"""Pages and API lists at demo size and at the size of a national access body, on PostgreSQL.

    BENCH_SCALE=1 python bench/bench_scale.py        # the full size (see README, Benchmarks)
    python bench/bench_scale.py                      # BENCH_SCALE=0.01 by default (make bench)

Builds two databases from the same demo world (``migrate`` + ``seed_demo``): the demo as it is,
and the demo grown by bulk SQL to ``BENCH_SCALE`` × (100,000 requests in every state, 3,000
requesters, 36 boards, 45 datasets with their own stewards, 25,000 permits with a receipt each,
10,000,000 audit events). The demo accounts become the heavy users of each role (the requester
owns 2% of the requests, the demo board and datasets get their share). The events form a valid
RFC 9162 log: leaf data, leaf hashes and every tree node are computed in SQL (sha256), then the
sequencer signs a head; ``BENCH_VERIFY=1`` times ``audit_verify`` on it (after the pages,
against COPY of the leaf columns + SHA-256 in the same run). The large database is built once
into a template (``<BENCH_DB_PREFIX>_tpl_<scale>``, prefix ``scale_data`` by default) that later
runs copy (``CREATE DATABASE … TEMPLATE``, or ``BENCH_IN_PLACE=1`` measures the template itself);
``BENCH_REBUILD=1`` builds it again, ``BENCH_KEEP=1`` keeps it.

Then every page and API list is requested through the Django test client as its heavy user
(DEBUG off), warm, ``BENCH_REPEAT`` times; the table gives each median at both sizes, the ratio
(goal ≤ 2×) and the query count, then EXPLAIN ANALYZE of the three slowest queries at size.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL = 2.0
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
SCALE = float(os.environ.get("BENCH_SCALE", "0.01"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "7"))
TAG = f"{SCALE:g}".replace(".", "_")
# BENCH_DB_PREFIX keeps two people's runs on one server apart (names start with it).
PREFIX = os.environ.get("BENCH_DB_PREFIX", "scale_data")
DEMO_DB = f"{PREFIX}_bench_demo"
TEMPLATE_DB = f"{PREFIX}_tpl_{TAG}"
LARGE_DB = f"{PREFIX}_bench_large"

REQUESTS = int(100_000 * SCALE)
USERS = max(60, int(3_000 * SCALE))
BOARDS, DATASETS, ORGS = 36, 45, 60
EVENTS = int(10_000_000 * SCALE)
# Share of requests per final state (sums to 100): a permit for every "permitted" one, 25%.
STATES = [
    ("draft", 8),
    ("submitted", 5),
    ("in_review", 15),
    ("changes_requested", 5),
    ("approved", 5),
    ("permitted", 25),
    ("rejected", 12),
    ("withdrawn", 10),
    ("closed", 15),
]
# The moves each final state went through: (action, from, to).
PATHS = {
    "draft": [("create", "", "draft")],
    "submitted": [("create", "", "draft"), ("submit", "draft", "submitted")],
}
PATHS["in_review"] = [*PATHS["submitted"], ("route", "submitted", "in_review")]
PATHS["changes_requested"] = [
    *PATHS["in_review"],
    ("close_round", "in_review", "changes_requested"),
]
PATHS["approved"] = [*PATHS["in_review"], ("close_round", "in_review", "approved")]
PATHS["permitted"] = [*PATHS["approved"], ("issue", "approved", "permitted")]
PATHS["closed"] = [*PATHS["permitted"], ("close", "permitted", "closed")]
PATHS["rejected"] = [*PATHS["in_review"], ("close_round", "in_review", "rejected")]
PATHS["withdrawn"] = [*PATHS["submitted"], ("withdraw", "submitted", "withdrawn")]


def url(db: str) -> str:
    return f"{PG}/{db}"


def env_for(db: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url(db),
        "DEBUG": "0",
        "SECRET_KEY": "bench-scale-not-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "testserver,localhost",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "AUDIT_SEQUENCE_INLINE": "1",
    }


def psql(sql: str, db: str = "postgres") -> None:
    import psycopg

    with psycopg.connect(url(db), autocommit=True) as conn:
        conn.execute(sql)


def exists(db: str) -> bool:
    import psycopg

    with psycopg.connect(url("postgres"), autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db]).fetchone()
    return row is not None


def manage(db: str, *args: str) -> None:
    subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env_for(db),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def fresh_demo(db: str) -> None:
    psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{db}"')
    manage(db, "migrate", "--noinput")
    manage(db, "seed_demo")
    manage(db, "audit_sequence")


# --- the bulk build (plain SQL over psycopg) ---------------------------------------------------


def _columns(cur, table: str) -> list[str]:
    cur.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "ORDER BY ordinal_position",
        [table],
    )
    return [row[0] for row in cur.fetchall()]


def _unique_text_columns(cur, table: str) -> dict[str, int]:
    """Single-column unique text columns and their length limits (a clone must vary them)."""
    cur.execute(
        """
        SELECT a.attname, COALESCE(c.character_maximum_length, 200)
        FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        JOIN information_schema.columns c ON c.table_name = %s AND c.column_name = a.attname
        WHERE i.indrelid = %s::regclass AND i.indisunique AND i.indnatts = 1
          AND c.data_type IN ('character varying', 'text')
        """,
        [table, table],
    )
    return dict(cur.fetchall())


def clone(cur, table: str, template_id: int, count: int, overrides: dict[str, str]) -> None:
    """Insert ``count`` copies of row ``template_id`` (``g`` = 1..count in the expressions);
    columns not overridden are copied, unique text columns get ``-g`` appended."""
    columns = [c for c in _columns(cur, table) if c != "id"]
    for column, limit in _unique_text_columns(cur, table).items():
        overrides.setdefault(column, f"left(t.{column}, {limit - 9}) || '-' || g")
    select = [overrides.get(c, f"t.{c}") for c in columns]
    cur.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(select)} "
        f"FROM {table} t, generate_series(1, {count}) g WHERE t.id = {template_id}"
    )


def _state_case(column: str) -> str:
    """SQL: the final state of request number ``column`` (1..REQUESTS) by the STATES shares."""
    parts, low = [], 0
    for state, share in STATES:
        parts.append(f"WHEN ({column} % 100) < {low + share} THEN '{state}'")
        low += share
    return "CASE " + " ".join(parts) + " END"


def build_large(db: str) -> None:
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(url(db), autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '512MB'; SET synchronous_commit = off")
        cur.execute("SELECT max(id) FROM accounts_user")
        (last_demo_user,) = cur.fetchone()
        cur.execute(
            "SELECT id FROM requests_app_accessrequest WHERE state = 'in_review' "
            "ORDER BY id LIMIT 1"
        )
        template_request = cur.fetchone()[0]
        cur.execute("SELECT min(id), max(id) FROM accounts_organisation")
        first_org, _ = cur.fetchone()
        # People: requesters, board members and stewards.
        clone(
            cur,
            "accounts_user",
            1,
            USERS,
            {"email": "'bulk' || g || '@scale.lifes.test'", "full_name": "'Bulk person ' || g"},
        )
        clone(cur, "accounts_organisation", first_org, ORGS, {"name": "'Organisation ' || g"})
        # Boards, each with its guardian group and six members.
        clone(cur, "auth_group", 1, BOARDS, {"name": "'scale-board-' || g"})
        cur.execute("SELECT id FROM requests_app_reviewboard ORDER BY id LIMIT 1")
        demo_board = cur.fetchone()[0]
        clone(
            cur,
            "requests_app_reviewboard",
            demo_board,
            BOARDS,
            {
                "name": "'Scale board ' || g",
                "group_id": "(SELECT id FROM auth_group WHERE name = 'scale-board-' || g)",
            },
        )
        cur.execute(
            f"""
            INSERT INTO requests_app_boardmembership (role, user_id, board_id)
            SELECT CASE WHEN k = 0 THEN 'chair' ELSE 'member' END,
                   {last_demo_user} + 1 + ((b.id * 7 + k) % {USERS}), b.id
            FROM requests_app_reviewboard b, generate_series(0, 5) k
            WHERE b.name LIKE 'Scale board %'
            ON CONFLICT DO NOTHING
            """
        )
        cur.execute(
            """
            INSERT INTO accounts_user_groups (user_id, group_id)
            SELECT m.user_id, b.group_id FROM requests_app_boardmembership m
            JOIN requests_app_reviewboard b ON b.id = m.board_id
            WHERE b.name LIKE 'Scale board %' ON CONFLICT DO NOTHING
            """
        )
        # Datasets with their own stewards.
        clone(cur, "catalogue_dataset", 1, DATASETS, {"title": "'Scale dataset ' || g"})
        cur.execute(
            f"""
            INSERT INTO catalogue_dataset_stewards (dataset_id, user_id)
            SELECT d.id, {last_demo_user} + 1 + (d.id % {USERS}) FROM catalogue_dataset d
            WHERE d.title LIKE 'Scale dataset %' ON CONFLICT DO NOTHING
            """
        )
        cur.execute("SELECT array_agg(id ORDER BY id) FROM catalogue_dataset")
        datasets = cur.fetchone()[0]
        cur.execute("SELECT array_agg(id ORDER BY id) FROM requests_app_reviewboard")
        boards = cur.fetchone()[0]
        cur.execute("SELECT array_agg(id ORDER BY id) FROM accounts_organisation")
        orgs = cur.fetchone()[0]
        print(f"  people, boards, datasets: {time.perf_counter() - started:.0f} s", flush=True)

        # Requests: every 50th is the demo requester's; the rest spread over the requesters.
        state = _state_case("g")
        # Four years of requests, one every ``step`` hours; the demo requester has every 50th.
        born = f"now() - interval '4 years' + g * interval '1 hour' * {35_000 / REQUESTS:.6f}"
        first_user = last_demo_user + 1
        org_ids = "'{" + ",".join(map(str, orgs)) + "}'::int[]"
        clone(
            cur,
            "requests_app_accessrequest",
            template_request,
            REQUESTS,
            {
                "reference": "'SC-' || g",
                "title": "'Scale request ' || g",
                "state": state,
                "round": f"CASE WHEN {state} IN ('draft') THEN 0 ELSE 1 END",
                "requester_id": f"CASE WHEN g % 50 = 0 THEN 1 ELSE {first_user} + g % {USERS} END",
                "organisation_id": f"({org_ids})[1 + g % {len(orgs)}]",
                "created_at": born,
                "updated_at": f"{born} + interval '20 days'",
                "submitted_at": f"CASE WHEN {state} = 'draft' THEN NULL "
                f"ELSE {born} + interval '2 days' END",
                "decided_at": f"CASE WHEN {state} IN ('approved','permitted','rejected','closed')"
                f" THEN {born} + interval '20 days' END",
            },
        )
        cur.execute(
            "CREATE TEMP TABLE bulk AS SELECT id, substr(reference, 4)::int AS g, state, "
            "requester_id, created_at FROM requests_app_accessrequest WHERE reference LIKE 'SC-%'"
        )
        cur.execute("CREATE INDEX ON bulk (g)")
        ds = "'{" + ",".join(map(str, datasets)) + "}'::int[]"
        bd = "'{" + ",".join(map(str, boards)) + "}'::int[]"
        cur.execute(
            f"""
            INSERT INTO requests_app_requesteddataset
                (decision, conditions, reason, decided_at, dataset_id, decided_by_id, request_id)
            SELECT CASE WHEN state IN ('approved', 'permitted', 'closed') THEN 'granted'
                        ELSE 'pending' END,
                   '', '', NULL, ({ds})[1 + g % {len(datasets)}], NULL, id
            FROM bulk WHERE state <> 'draft' OR g % 2 = 0
            """
        )
        cur.execute(
            f"""
            INSERT INTO requests_app_reviewstage (round, "order", state, opened_at, deadline,
                reminded_at, closed_at, decision_note, board_id, closed_by_id, request_id)
            SELECT 1, 1,
                   CASE state WHEN 'in_review' THEN 'open'
                              WHEN 'changes_requested' THEN 'changes_requested'
                              WHEN 'rejected' THEN 'rejected' ELSE 'approved' END,
                   created_at + interval '3 days', created_at + interval '45 days', NULL,
                   CASE WHEN state = 'in_review' THEN NULL ELSE created_at + interval '20 days' END,
                   '', ({bd})[1 + g % {len(boards)}], NULL, id
            FROM bulk WHERE state IN ('in_review', 'changes_requested', 'approved', 'permitted',
                                      'rejected', 'closed')
            """
        )
        # Visibility grants, as the services write them (django-guardian).
        cur.execute(
            "SELECT id FROM django_content_type WHERE app_label = 'requests_app' "
            "AND model = 'accessrequest'"
        )
        ct = cur.fetchone()[0]
        cur.execute(
            "SELECT id FROM auth_permission WHERE content_type_id = %s "
            "AND codename = 'view_accessrequest'",
            [ct],
        )
        perm = cur.fetchone()[0]
        cur.execute(
            f"""
            INSERT INTO guardian_userobjectpermission (object_pk, content_type_id, permission_id,
                user_id)
            SELECT id::text, {ct}, {perm}, requester_id FROM bulk
            UNION ALL
            SELECT rd.request_id::text, {ct}, {perm}, s.user_id
            FROM requests_app_requesteddataset rd JOIN bulk ON bulk.id = rd.request_id
            JOIN catalogue_dataset_stewards s ON s.dataset_id = rd.dataset_id
            ON CONFLICT DO NOTHING
            """
        )
        cur.execute(
            f"""
            INSERT INTO guardian_groupobjectpermission (object_pk, content_type_id, group_id,
                permission_id)
            SELECT st.request_id::text, {ct}, b.group_id, {perm}
            FROM requests_app_reviewstage st JOIN bulk ON bulk.id = st.request_id
            JOIN requests_app_reviewboard b ON b.id = st.board_id
            ON CONFLICT DO NOTHING
            """
        )
        print(f"  {REQUESTS} requests: {time.perf_counter() - started:.0f} s", flush=True)

        # Permits for the permitted and closed requests, one receipt each.
        cur.execute("SELECT id FROM permits_permit ORDER BY id LIMIT 1")
        demo_permit = cur.fetchone()[0]
        cur.execute(
            "CREATE TEMP TABLE bulk_permits AS SELECT row_number() OVER (ORDER BY id) AS n, id,"
            " requester_id, created_at, state FROM bulk WHERE state IN ('permitted', 'closed')"
        )
        cur.execute("CREATE UNIQUE INDEX ON bulk_permits (n)")
        cur.execute("SELECT count(*) FROM bulk_permits")
        (permits,) = cur.fetchone()
        clone(
            cur,
            "permits_permit",
            demo_permit,
            permits,
            {
                "number": "'SCP-' || g",
                "jti": "gen_random_uuid()",
                "token_sha256": "md5(g::text) || md5((g + 1)::text)",
                "request_id": "(SELECT id FROM bulk_permits WHERE n = g)",
                "holder_id": "(SELECT requester_id FROM bulk_permits WHERE n = g)",
                "status": "CASE WHEN (SELECT state FROM bulk_permits WHERE n = g) = 'closed' "
                "THEN 'expired' ELSE 'active' END",
                "supersedes_id": "NULL",
            },
        )
        columns = [c for c in _columns(cur, "permits_permitdataset") if c != "id"]
        values = {"permit_id": "p.id", "dataset_id": f"({ds})[1 + b.g % {len(datasets)}]"}
        cur.execute(
            f"""
            INSERT INTO permits_permitdataset ({", ".join(columns)})
            SELECT {", ".join(values.get(c, "t." + c) for c in columns)}
            FROM permits_permit p JOIN bulk b ON b.id = p.request_id,
                 (SELECT * FROM permits_permitdataset ORDER BY id LIMIT 1) t
            WHERE p.number LIKE 'SCP-%'
            """
        )
        cur.execute("SELECT id FROM catalogue_node ORDER BY id LIMIT 1")
        node = cur.fetchone()[0]
        cur.execute(
            f"""
            INSERT INTO permits_executionreceipt (dataset_identifier, algorithm_digest,
                started_at, ended_at, cohort_version, cohort_digest, cohort_size, output_digest,
                is_disclosure_passed, disclosure, status, reason, jti, issued_at, received_at,
                token, dataset_id, node_id, permit_id)
            SELECT 'dataset', 'sha256:' || md5(p.id::text), p.issued_at, p.issued_at, 1, '',
                   100, '', true, '{{}}', 'succeeded', '', gen_random_uuid(), p.issued_at,
                   p.issued_at, '', NULL, {node}, p.id
            FROM permits_permit p WHERE p.number LIKE 'SCP-%'
            """
        )
        print(f"  {permits} permits: {time.perf_counter() - started:.0f} s", flush=True)
        build_log(cur, started)
    cur = None
    # Spans from the log (the backfill every existing hub runs), then the sequencer's head.
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
            "'lifes.settings'); django.setup(); "
            "from requests_app.spans import log_events, replay; print(replay(log_events())); "
            "from audit.services import audit_sequence; print(audit_sequence())",
        ],
        cwd=ROOT,
        env=env_for(db),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    psql("VACUUM ANALYZE", db)
    print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)


def build_log(cur, started: float) -> None:
    """The request events (each request's path to its state, with from/to) and other events up
    to EVENTS, then leaf hashes and every tree node, all in SQL."""
    cur.execute("SELECT coalesce(max(seq), 0), coalesce(max(id), 0) FROM audit_auditevent")
    base, _ = cur.fetchone()
    cur.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'audit_auditevent' "
        "AND indexdef NOT LIKE '%UNIQUE%' AND indexname <> 'audit_event_unsequenced'"
    )
    dropped = cur.fetchall()
    for name, _definition in dropped:
        cur.execute(f'DROP INDEX "{name}"')
    steps = []
    for final, path in PATHS.items():
        for k, (action, before, after) in enumerate(path):
            steps.append((final, k, action, before, after))
    cur.execute("CREATE TEMP TABLE steps (final text, k int, action text, b text, a text)")
    cur.executemany("INSERT INTO steps VALUES (%s, %s, %s, %s, %s)", steps)
    # All events in one ordered stream: a request event at its time, filler in between.
    cur.execute(
        """
        CREATE TEMP TABLE ev AS
        SELECT bulk.created_at + s.k * ((bulk.g % 29) + 1) * interval '1 day'
                 + (bulk.g % 997) * interval '1 second' AS at,
               'user' AS actor_type, bulk.requester_id::text AS actor_id,
               'request.' || s.action AS action, 'requests_app.accessrequest' AS object_type,
               bulk.id::text AS object_id,
               jsonb_build_object('reference', 'SC-' || bulk.g, 'from', s.b, 'to', s.a,
                                  'round', CASE WHEN s.a = 'draft' THEN 0 ELSE 1 END) AS payload
        FROM bulk JOIN steps s ON s.final = bulk.state
        """
    )
    cur.execute("SELECT count(*), min(at), max(at) FROM ev")
    request_events, first, last = cur.fetchone()
    filler = max(0, EVENTS - request_events)
    # Other objects with low ids too: the same object_id under several types (the planner's
    # trap for the timeline), reads and polls that dominate a real log.
    cur.execute(
        f"""
        INSERT INTO ev
        SELECT '{first.isoformat()}'::timestamptz
                 + (g::float / {max(filler, 1)}) * ('{last.isoformat()}'::timestamptz
                                                  - '{first.isoformat()}'::timestamptz),
               CASE WHEN g % 3 = 0 THEN 'node' ELSE 'user' END, (g % 500)::text,
               (ARRAY['permit.fetched', 'cohort.fetched', 'consent.recorded',
                      'report.requested', 'dataset.viewed'])[1 + g % 5],
               (ARRAY['permits.permit', 'catalogue.dataset', 'consent.participant',
                      'reports.report', 'accounts.user'])[1 + g % 5],
               (1 + (g / 7) % 5000)::text,
               jsonb_build_object('n', g)
        FROM generate_series(1, {filler}) g
        """
    )
    print(
        f"  {request_events + filler} events staged: {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    cur.execute(
        f"""
        INSERT INTO audit_auditevent (seq, occurred_at, actor_type, actor_id, actor_label,
            action, object_type, object_id, payload, leaf_data)
        SELECT {base} + row_number() OVER (ORDER BY at), at, actor_type, actor_id, '', action,
               object_type, object_id, payload,
               convert_to(jsonb_build_object(
                   'occurred_at', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                   'actor_type', actor_type, 'actor_id', actor_id, 'action', action,
                   'object_type', object_type, 'object_id', object_id, 'payload', payload
               )::text, 'UTF8')
        FROM ev ORDER BY at
        """
    )
    cur.execute("DROP TABLE ev")
    print(f"  events inserted: {time.perf_counter() - started:.0f} s", flush=True)
    for _name, definition in dropped:
        cur.execute(definition)
    print(f"  event indexes: {time.perf_counter() - started:.0f} s", flush=True)
    build_tree(cur, base, started)


def build_tree(cur, base: int, started: float) -> None:
    """Leaves and every complete subtree the new leaves close, ids in the order appends close
    them (``audit_verify`` reads them so): leaf m closes ``1 + ctz(m + 1)`` nodes, so before it
    ``2m - popcount(m)`` nodes were closed."""
    cur.execute(
        "SELECT coalesce(max(id), 0), coalesce(max(seq), 0) FROM audit_audittreenode, "
        "(SELECT max(seq) AS seq FROM audit_auditevent) s"
    )
    last_id, size = cur.fetchone()

    def order(m: str, level: str) -> str:
        return f"(2 * ({m}) - bit_count(({m})::bit(64)) + {level})"

    offset = f"({last_id} + 1 - {order(str(base), '0')})"
    cur.execute(
        f"""
        INSERT INTO audit_audittreenode (id, level, "index", hash)
        SELECT {offset} + {order("seq - 1", "0")}, 0, seq - 1,
               sha256('\\x00'::bytea || leaf_data)
        FROM audit_auditevent WHERE seq > {base} AND seq <= {size}
        """
    )
    level = 1
    while (1 << level) <= size:
        first_index = max(0, base >> level)  # the nodes at this level the new leaves close
        cur.execute(
            f"""
            INSERT INTO audit_audittreenode (id, level, "index", hash)
            SELECT {offset} + {order(f'((("index" / 2) + 1) << {level}) - 1', str(level))},
                   {level}, "index" / 2,
                   sha256('\\x01'::bytea || string_agg(hash, ''::bytea ORDER BY "index"))
            FROM audit_audittreenode
            WHERE level = {level - 1} AND "index" >= {first_index * 2}
            GROUP BY "index" / 2 HAVING count(*) = 2
               AND ((("index" / 2) + 1) << {level}) > {base}
            """
        )
        level += 1
    cur.execute(
        "SELECT setval(pg_get_serial_sequence('audit_audittreenode', 'id'), "
        "(SELECT max(id) FROM audit_audittreenode))"
    )
    print(f"  tree of {size} leaves: {time.perf_counter() - started:.0f} s", flush=True)


# --- measuring (a child process per database: Django is configured once per process) ----------

PAGES = [
    # (label, who, path); {board}, {request}, {permit} filled in from the demo world.
    ("dashboard (requester)", "requester@demo.lifes.test", "/requests/"),
    ("dashboard (chair)", "chair@demo.lifes.test", "/requests/"),
    ("dashboard (member)", "member1@demo.lifes.test", "/requests/"),
    ("dashboard (owner)", "owner@demo.lifes.test", "/requests/"),
    ("board queue page", "chair@demo.lifes.test", "/requests/boards/{board}/"),
    ("request page + timeline", "requester@demo.lifes.test", "/requests/{request}/"),
    ("metrics page", "auditor@demo.lifes.test", "/reports/metrics/"),
    ("audit explorer", "auditor@demo.lifes.test", "/audit/"),
    (
        "audit explorer, one object",
        "auditor@demo.lifes.test",
        "/audit/?object_type=requests_app.accessrequest&object_id={request_id}",
    ),
    ("register page", None, "/register/"),
    ("catalogue page", None, "/catalogue/"),
    ("API requests", "requester@demo.lifes.test", "/api/v1/requests/"),
    ("API requests (auditor)", "auditor@demo.lifes.test", "/api/v1/requests/"),
    ("API waiting", "chair@demo.lifes.test", "/api/v1/waiting"),
    ("API board queue", "chair@demo.lifes.test", "/api/v1/boards/{board}/queue"),
    ("API permits", "requester@demo.lifes.test", "/api/v1/permits/"),
    ("API node permits", "node", "/api/v1/node/permits"),
    ("API register", None, "/api/v1/register/"),
    ("API audit events", "auditor@demo.lifes.test", "/api/v1/audit/events"),
    ("API permit receipts", "requester@demo.lifes.test", "/api/v1/permits/{permit}/receipts"),
]


PLAIN_STATIC = "django.contrib.staticfiles.storage.StaticFilesStorage"


def serve() -> None:
    """Child: answers ``<page index>`` lines with one timed request each (JSON), ``explain``
    with the plans of the three slowest queries seen, ``counts`` with the sizes, and
    ``queries <page index>`` with one request's queries, slowest first (diagnosis by hand:
    ``DATABASE_URL=… python bench/bench_scale.py --serve``)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lifes.settings")
    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User
    from demo.world import DEMO_NODE_TOKEN
    from permits.models import Permit
    from reports.services import metrics_refresh
    from requests_app.models import AccessRequest, ReviewBoard

    # Production settings but no collectstatic here: plain static URLs instead of the manifest.
    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": PLAIN_STATIC}}
    override_settings(STORAGES=storages).enable()
    metrics_refresh(force=True)  # what the beat does; the page reads its row
    board = ReviewBoard.objects.filter(memberships__user__email="chair@demo.lifes.test").first()
    demo_request = (
        AccessRequest.objects.filter(requester__email="requester@demo.lifes.test")
        .exclude(reference__startswith="SC-")
        .order_by("pk")
        .first()
    )
    permit = Permit.objects.filter(holder__email="requester@demo.lifes.test").order_by("pk").first()
    fill = {
        "board": board.pk,
        "request": demo_request.reference,
        "request_id": demo_request.pk,
        "permit": permit.number if permit else "none",
    }
    clients = []
    for _label, who, path in PAGES:
        client = Client()
        if who == "node":
            client.defaults["HTTP_AUTHORIZATION"] = f"Token {DEMO_NODE_TOKEN}"
        elif who:
            user = User.objects.get(email=who)
            client.force_login(user)
            # A finished sign-in includes the second factor (chairs, owners, auditors).
            device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
            if device is None:
                device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
        clients.append((client, path.format(**fill)))
    slow: list[tuple[float, str, str]] = []
    for line in sys.stdin:
        command = line.strip()
        if command == "explain":
            slow.sort(reverse=True)
            explains, seen = [], set()
            with connection.cursor() as cursor:
                for seconds, label, sql in slow:
                    if sql in seen or not sql.lstrip().upper().startswith("SELECT"):
                        continue
                    seen.add(sql)
                    cursor.execute("EXPLAIN (ANALYZE) " + sql)
                    plan = "\n".join(row[0] for row in cursor.fetchall()[:40])
                    explains.append(
                        {"label": label, "ms": seconds * 1000, "sql": sql, "plan": plan}
                    )
                    if len(explains) == 3:
                        break
            answer: object = explains
        elif command.startswith("queries "):  # diagnosis by hand: one page's queries, slowest first
            client, target = clients[int(command.split()[1])]
            with CaptureQueriesContext(connection) as queries:
                client.get(target, secure=True)
            answer = sorted(
                ((float(q["time"]) * 1000, q["sql"]) for q in queries.captured_queries),
                reverse=True,
            )
        elif command == "counts":
            with connection.cursor() as cursor:
                cursor.execute("SELECT max(seq) FROM audit_auditevent")
                events = cursor.fetchone()[0]
            answer = {
                "requests": AccessRequest.objects.count(),
                "permits": Permit.objects.count(),
                "users": User.objects.count(),
                "events": events,
            }
        else:
            index = int(command)
            client, target = clients[index]
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                response = client.get(target, secure=True)
                elapsed = time.perf_counter() - start
            label = PAGES[index][0]
            slow.extend((float(q["time"]), label, q["sql"]) for q in queries.captured_queries)
            slow = sorted(slow, reverse=True)[:50]
            answer = {
                "ms": elapsed * 1000,
                "queries": len(queries.captured_queries),
                "status": response.status_code,
            }
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


class Child:
    def __init__(self, db: str) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - this script
            [sys.executable, __file__, "--serve"],
            cwd=ROOT,
            env=env_for(db),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def ask(self, command: str) -> object:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit("a measuring process stopped (run it with --serve to see why)")
        return json.loads(line)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


# What audit_verify reads of each event (as bench/bench_audit.py): the baseline COPYs these.
LEAF_COLUMNS = (
    "seq, occurred_at, actor_type, actor_id, action, object_type, object_id, payload, leaf_data"
)


def verify_at_size(db: str) -> str:
    """``manage.py audit_verify`` over the whole large log (a child process, its wall time),
    against the floor any verifier must pay on the same database in the same run: COPY the
    leaf columns of every event out of PostgreSQL and SHA-256 their bytes."""
    import hashlib

    import psycopg

    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "audit_verify"],
        cwd=ROOT,
        env=env_for(db),
        capture_output=True,
        text=True,
        check=False,
    )
    verify = time.perf_counter() - started
    verdict = "accepts the log" if done.returncode == 0 else f"FAILED: {done.stderr[-300:]}"
    digest, size = hashlib.sha256(), 0
    started = time.perf_counter()
    with psycopg.connect(url(db)) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM audit_auditevent")
        events = cur.fetchone()[0]
        sql = f"COPY (SELECT {LEAF_COLUMNS} FROM audit_auditevent ORDER BY seq) TO STDOUT"
        with cur.copy(sql) as copy:
            for block in copy:
                digest.update(block)
                size += len(block)
    floor = time.perf_counter() - started
    return (
        f"audit_verify {events:,} events: {verify:.0f} s ({events / verify:,.0f} events/s, "
        f"{verdict}); baseline COPY {size / 2**20:,.0f} MiB + SHA-256: {floor:.0f} s; "
        f"ratio {verify / floor:.1f}×"
    )


def measure_both(demo: Child, large: Child) -> dict[str, dict]:
    """Each page on both databases in alternation (two warm-ups each, then REPEAT rounds), so
    the load of a shared machine falls on both sides alike; medians."""
    results = {}
    for index, (label, _who, _path) in enumerate(PAGES):
        times: dict[str, list[float]] = {"demo": [], "large": []}
        last: dict[str, dict] = {}
        for attempt in range(REPEAT + 2):
            for name, child in (("demo", demo), ("large", large)):
                answer = child.ask(str(index))
                last[name] = answer
                if attempt >= 2:
                    times[name].append(answer["ms"])
        results[label] = {
            name: {**last[name], "ms": statistics.median(times[name])} for name in times
        }
    return results


def main() -> int:
    if "--serve" in sys.argv:
        serve()
        return 0
    total = time.perf_counter()
    try:
        exists("postgres")
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means: no server
        print(f"skipped: no PostgreSQL at {PG} ({type(exc).__name__})")
        return 0
    print(f"scale {SCALE:g}: {REQUESTS} requests, {EVENTS} audit events (BENCH_SCALE)")
    build_only = os.environ.get("BENCH_BUILD_ONLY") == "1"
    if not build_only:
        fresh_demo(DEMO_DB)
    if os.environ.get("BENCH_REBUILD") == "1" or not exists(TEMPLATE_DB):
        print(f"building {TEMPLATE_DB} (once; BENCH_REBUILD=1 to redo)", flush=True)
        fresh_demo(TEMPLATE_DB)
        build_large(TEMPLATE_DB)
    if build_only:
        return 0
    # BENCH_IN_PLACE=1 measures the template itself (no copy of a 10 GB database; the run
    # adds sessions and a metrics snapshot to it).
    large_db = TEMPLATE_DB if os.environ.get("BENCH_IN_PLACE") == "1" else LARGE_DB
    if large_db == LARGE_DB:
        psql(f'DROP DATABASE IF EXISTS "{LARGE_DB}"')
        psql(f'CREATE DATABASE "{LARGE_DB}" TEMPLATE "{TEMPLATE_DB}"')
    manage(large_db, "migrate", "--noinput")  # migrations newer than the template
    psql("ANALYZE", large_db)
    demo, large = Child(DEMO_DB), Child(large_db)
    try:
        results = measure_both(demo, large)
        counts = large.ask("counts")
        explains = large.ask("explain")
        verified = verify_at_size(large_db) if os.environ.get("BENCH_VERIFY") == "1" else ""
    finally:
        demo.close()
        large.close()
        if large_db == LARGE_DB:
            psql(f'DROP DATABASE IF EXISTS "{LARGE_DB}"')
        psql(f'DROP DATABASE IF EXISTS "{DEMO_DB}"')
        if os.environ.get("BENCH_KEEP") != "1":
            psql(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}"')
    c = counts
    print(
        f"large: {c['requests']} requests, {c['permits']} permits, {c['users']} users, "
        f"{c['events']} events; median of {REPEAT} warm requests"
    )
    print(f"| page | demo ms | large ms | ratio | queries demo/large | goal ≤ {GOAL:g}× |")
    print("|---|---:|---:|---:|---:|---|")
    worst = 0.0
    for label, _who, _path in PAGES:
        d, g = results[label]["demo"], results[label]["large"]
        ratio = g["ms"] / d["ms"] if d["ms"] else float("inf")
        worst = max(worst, ratio)
        mark = "ok" if ratio <= GOAL else "SLOW"
        status = "" if g["status"] == d["status"] == 200 else f" (HTTP {d['status']}/{g['status']})"
        print(
            f"| {label}{status} | {d['ms']:.1f} | {g['ms']:.1f} | {ratio:.2f}× | "
            f"{d['queries']}/{g['queries']} | {mark} |"
        )
    print(f"worst ratio {worst:.2f}× (goal ≤ {GOAL:g}×); total {time.perf_counter() - total:.0f} s")
    if verified:
        print(verified)
    print("\nThe three slowest queries at size:")
    for item in explains:
        print(f"\n-- {item['label']}: {item['ms']:.1f} ms\n{item['sql'][:600]}\n{item['plan']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
