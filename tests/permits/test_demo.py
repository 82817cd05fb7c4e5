"""The demo world ends with an active permit that the demo node can run, as documented."""

from __future__ import annotations

import pytest

from catalogue.models import Node
from demo import permits_world
from lifes_node.config import load_config
from lifes_node.execute import run_permit
from lifes_node.keys import public_jwk
from permits.models import ExecutionReceipt, Permit, PermitStatus

from .conftest import DATASET, DEMO_ALGORITHM, NODE_ID, ROOT, DjangoClientHub


@pytest.mark.django_db
def test_seed_demo_leaves_a_permit_the_demo_node_runs(monkeypatch, tmp_path, client, settings):
    from demo.world import seed_demo

    monkeypatch.setattr(permits_world, "NODE_KEY_PATH", tmp_path / "node.key")

    report = seed_demo()
    again = seed_demo()

    permit = Permit.objects.get(
        status=PermitStatus.ACTIVE,
        permit_datasets__node_identifier=NODE_ID,
        permit_datasets__dataset__slug=DATASET,
    )
    assert not [line for line in again.created if line.startswith("permit")]
    entry = permit.permit_datasets.get(dataset__slug=DATASET)
    assert entry.cohort_count >= 50  # the seeded consents were there before the permit
    assert [(a.name, a.version) for a in permit.permit_algorithms.all()] == [
        ("mean-bmi-by-sex", "1.0.0")
    ]
    node = Node.objects.get(identifier=NODE_ID)
    assert node.public_key_jwk == public_jwk(permits_world.demo_node_key())
    assert any(permit.number in note for note in report.notes)

    # the node as node.toml.example configures it, with the hub behind Django's test client
    config = load_config(ROOT / "demo" / "node" / "node.toml.example")
    config.signing_key = tmp_path / "node.key"
    config.cache_dir = config.outbox_dir = tmp_path / "cache"
    config.hub_url = settings.HUB_URL
    result = run_permit(
        config, permit=permit.token, algorithm=DEMO_ALGORITHM, hub=DjangoClientHub(client)
    )

    assert (result.status, result.reason) == ("succeeded", None)
    assert result.cohort.size == entry.cohort_count
    assert ExecutionReceipt.objects.get().status == "succeeded"


@pytest.mark.django_db
def test_demo_node_permit_prints_only_the_token_of_the_permit_valid_now(
    monkeypatch, tmp_path, capsys
):
    import datetime as dt

    from django.core.management import CommandError, call_command
    from django.utils import timezone

    from demo.world import seed_demo

    with pytest.raises(CommandError, match="run `manage.py seed_demo` first"):
        call_command("demo_node_permit")

    monkeypatch.setattr(permits_world, "NODE_KEY_PATH", tmp_path / "node.key")
    seed_demo()
    capsys.readouterr()
    permit = permits_world.current_demo_permit()

    call_command("demo_node_permit")

    printed = capsys.readouterr()
    assert printed.out == permit.token + "\n"
    assert permit.number in printed.err

    # An active permit that starts tomorrow is not the one a node can run today.
    Permit.objects.filter(pk=permit.pk).update(valid_from=timezone.now() + dt.timedelta(days=1))
    with pytest.raises(CommandError, match="No demo permit is valid now"):
        call_command("demo_node_permit")


@pytest.mark.django_db
def test_the_demo_shows_a_renewal_and_an_appeal(monkeypatch, tmp_path):
    from demo.world import seed_demo
    from requests_app.models import Appeal, RequestState

    monkeypatch.setattr(permits_world, "NODE_KEY_PATH", tmp_path / "node.key")
    seed_demo()

    renewed = Permit.objects.get(number__endswith="-v2")
    assert renewed.status == PermitStatus.ACTIVE
    assert renewed.supersedes.status == PermitStatus.SUPERSEDED
    assert renewed.number == f"{renewed.supersedes.number}-v2"
    appeal = Appeal.objects.get()
    assert (appeal.outcome, appeal.request.state) == ("dismissed", RequestState.REJECTED)
