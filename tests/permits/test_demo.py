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
        status=PermitStatus.ACTIVE, permit_datasets__node_identifier=NODE_ID
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
