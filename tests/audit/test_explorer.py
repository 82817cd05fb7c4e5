"""The audit explorer (/audit/) and the events API: auditors and staff read everything,
filtered and paginated, and export any filtered view as a streamed CSV that still verifies."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from audit.canonical import leaf_data
from audit.models import AuditEvent, AuditTreeNode
from audit.services import audit_record


def record(action: str, *, actor=None, target=None, payload=None) -> AuditEvent:
    with transaction.atomic():
        return audit_record(actor=actor, action=action, target=target, payload=payload or {})


@pytest.fixture
def log(people):
    """A small log: two requests by Rita, one decision by the auditor, a system job."""
    rita, ada = people["requester"], people["auditor"]
    return [
        record("request.created", actor=rita, target=rita, payload={"title": "Study A"}),
        record("request.submitted", actor=rita, target=rita),
        record("permit.issued", actor=ada, payload={"number": "P-1"}),
        record("audit.chain_verified"),
    ]


def shown_seqs(response) -> list[int]:
    return [event.seq for event, _url, _payload in response.context["rows"]]


def read_csv(response) -> list[dict]:
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


# --- who may look --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/audit/", "/audit/events.csv"])
def test_the_explorer_does_not_exist_for_anyone_else(client, people, log, path):
    anonymous = client.get(path)
    assert anonymous.status_code == 302
    assert anonymous["Location"] == f"/accounts/login/?next={path}"
    client.force_login(people["requester"])
    assert client.get(path).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["auditor", "staff"])
def test_auditors_and_staff_see_every_event_newest_first(client, people, log, role):
    client.force_login(people[role])

    response = client.get("/audit/")

    assert response.status_code == 200
    assert shown_seqs(response) == [4, 3, 2, 1]
    page = response.content.decode()
    assert 'href="/api/v1/audit/events/0/proof"' in page  # the oldest event, leaf 0
    assert "request.created" in page
    assert "&quot;title&quot;: &quot;Study A&quot;" in page


@pytest.mark.django_db
def test_the_nav_links_auditors_to_the_explorer(client, people):
    client.force_login(people["auditor"])

    assert 'href="/audit/"' in client.get("/").content.decode()


# --- filters -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"action": "request."}, [2, 1]),
        ({"action": "permit.issued"}, [3]),
        ({"actor": "REQUESTER@"}, [2, 1]),
        ({"actor_type": "system"}, [4]),
        ({"object_type": "accounts.user"}, [2, 1]),
        ({"object_type": "ACCOUNTS.User", "object_id": "999"}, []),
        ({"seq_from": "2", "seq_to": "3"}, [3, 2]),
        ({"action": "request.", "seq_from": "2"}, [2]),
    ],
)
def test_filters(client, people, log, query, expected):
    client.force_login(people["auditor"])

    response = client.get("/audit/", query)

    assert response.status_code == 200
    assert shown_seqs(response) == expected


@pytest.mark.django_db
def test_filter_by_actor_id_and_time_range(client, people, log):
    client.force_login(people["auditor"])
    rita = people["requester"]
    second = log[1].occurred_at

    by_id = client.get("/audit/", {"actor": str(rita.pk)})
    window = client.get(
        "/audit/",
        {
            "occurred_from": (second - timedelta(microseconds=1)).isoformat(),
            "occurred_to": (log[2].occurred_at).isoformat(),
        },
    )

    assert shown_seqs(by_id) == [2, 1]
    assert shown_seqs(window) == [3, 2]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"occurred_from": "yesterday"}, "occurred_from"),
        ({"seq_from": "-1"}, "seq_from"),
        ({"seq_from": "99999999999999999999999"}, "seq_from"),
        ({"seq_from": "5", "seq_to": "2"}, "seq_to"),
        ({"occurred_from": "2026-02-01", "occurred_to": "2026-01-01"}, "occurred_to"),
        ({"object_type": "not a type"}, "object_type"),
        ({"actor_type": "robot"}, "actor_type"),
        ({"action": "x" * 65}, "action"),
    ],
)
def test_bad_filters_are_field_errors_never_500(client, people, log, query, field):
    client.force_login(people["auditor"])

    for path in ("/audit/", "/audit/events.csv"):
        response = client.get(path, query)
        assert response.status_code == 400
        assert field in response.context["form"].errors
        assert 'class="error"' in response.content.decode()


@pytest.mark.django_db
def test_pagination(client, people):
    for i in range(55):
        record("test.bulk", payload={"i": i})
    client.force_login(people["auditor"])

    first = client.get("/audit/", {"action": "test."})
    second = client.get("/audit/", {"action": "test.", "page": "2"})
    nonsense = client.get("/audit/", {"action": "test.", "page": "nonsense"})

    assert shown_seqs(first) == list(range(55, 5, -1))
    assert shown_seqs(second) == [5, 4, 3, 2, 1]
    assert shown_seqs(nonsense) == shown_seqs(first)
    assert "action=test.&amp;page=2" in first.content.decode()


@pytest.mark.django_db
def test_objects_with_a_page_are_linked(client, people, log, monkeypatch):
    from accounts.models import User

    monkeypatch.setattr(User, "get_absolute_url", lambda self: f"/people/{self.pk}/", raising=False)
    client.force_login(people["auditor"])

    page = client.get("/audit/").content.decode()

    rita = people["requester"]
    assert f'<a href="/people/{rita.pk}/">accounts.user:{rita.pk}</a>' in page


@pytest.mark.django_db
def test_objects_without_a_page_are_not_linked(client, people, log):
    client.force_login(people["auditor"])

    response = client.get("/audit/")

    assert all(url is None for _event, url, _payload in response.context["rows"])


# --- CSV ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_csv_export_streams_the_filtered_view_and_still_verifies(client, people, log):
    client.force_login(people["auditor"])

    response = client.get("/audit/events.csv", {"actor": "requester"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-events-')
    rows = read_csv(response)
    assert [int(row["seq"]) for row in rows] == [1, 2]  # oldest first
    for row in rows:
        # each row gives back its leaf: the hash the tree stores at leaf index seq - 1
        data = leaf_data(
            datetime.fromisoformat(row["occurred_at"]),
            row["actor_type"],
            row["actor_id"],
            row["action"],
            row["object_type"],
            row["object_id"],
            json.loads(row["payload"]),
        )
        stored = AuditTreeNode.objects.get(level=0, index=int(row["seq"]) - 1)
        assert row["leaf_hash"] == hashlib.sha256(b"\x00" + data).hexdigest()
        assert row["leaf_hash"] == bytes(stored.hash).hex()


@pytest.mark.django_db
def test_csv_export_is_chunked_and_complete(client, people):
    for i in range(4500):
        AuditEvent.objects.create(
            seq=i + 1,
            occurred_at=timezone.now(),
            actor_type="system",
            action="test.bulk",
            payload={"i": i},
        )
    client.force_login(people["auditor"])

    response = client.get("/audit/events.csv")

    chunks = list(response.streaming_content)
    assert len(chunks) == 1 + 3  # the header, then chunks of 2000 rows
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode())))
    assert [int(row["seq"]) for row in rows] == list(range(1, 4501))


@pytest.mark.django_db
def test_csv_does_not_let_a_name_run_as_a_formula(client, people):
    from accounts.models import User

    mallory = User.objects.create_user("=2+3@example.test")
    record("test.formula", actor=mallory)
    client.force_login(people["auditor"])

    [row] = read_csv(client.get("/audit/events.csv"))

    assert row["actor_label"] == "'=2+3@example.test"


# --- API ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_lists_filtered_events_for_auditors(token_client, people, log):
    client = token_client(people["auditor"])

    response = client.get("/api/v1/audit/events", {"action": "request.", "page_size": 1})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    [item] = body["results"]
    event = log[1]
    assert item == {
        "seq": 2,
        "occurred_at": item["occurred_at"],
        "actor_type": "user",
        "actor_id": str(people["requester"].pk),
        "actor_label": "requester@example.test",
        "action": "request.submitted",
        "object_type": "accounts.user",
        "object_id": str(people["requester"].pk),
        "payload": {},
    }
    assert event.seq == 2
    assert "page=2" in body["next"]


@pytest.mark.django_db
def test_api_refuses_everyone_else(token_client, api_client, people, log):
    response = token_client(people["requester"]).get("/api/v1/audit/events")
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Only auditors and staff read the audit log.",
        "code": "permission_denied",
    }
    assert api_client.get("/api/v1/audit/events").status_code == 401
    assert token_client(people["requester"]).get("/api/v1/audit/events.csv").status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/audit/events", "/api/v1/audit/events.csv"])
def test_api_bad_filters_are_400_json(token_client, people, log, path):
    client = token_client(people["auditor"])

    accept = "text/csv" if path.endswith(".csv") else "application/json"
    response = client.get(path, {"seq_from": "x", "occurred_to": "soon"}, HTTP_ACCEPT=accept)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["errors"]) == {"seq_from", "occurred_to"}


@pytest.mark.django_db
def test_api_csv_streams(token_client, people, log):
    client = token_client(people["auditor"])

    response = client.get("/api/v1/audit/events.csv", {"action": "permit."}, HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    [row] = read_csv(response)
    assert (row["seq"], row["action"], row["payload"]) == ("3", "permit.issued", '{"number":"P-1"}')
