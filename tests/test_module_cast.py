"""The ``world`` cast built once per module (tests/conftest.py, ``_ModuleCast``): each reader
starts from the same rows and fresh instances whatever the one before it changed, and the
module's tests run in the order that keeps the cast's transaction open only around its readers.
The two readers run on one xdist worker, one after the other, so the second sees the first's
rollback."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.conftest import _by_database_use

together = pytest.mark.xdist_group("module-cast")


@together
@pytest.mark.django_db
def test_a_reader_changes_the_cast(world):
    from accounts.models import Organisation

    world["requester"].full_name = "Changed in memory and in the database"
    world["requester"].save()
    assert Organisation.objects.filter(name="Leiden University").update(name="Renamed") == 1


@together
@pytest.mark.django_db
def test_the_next_reader_finds_the_cast_as_built(world):
    from accounts.models import Organisation

    assert world["requester"].full_name != "Changed in memory and in the database"
    world["requester"].refresh_from_db()
    assert world["requester"].full_name != "Changed in memory and in the database"
    assert Organisation.objects.filter(name="Leiden University").exists()


def _item(module: str, name: str, fixtures: tuple[str, ...], transaction: bool = False):
    marker = SimpleNamespace(kwargs={"transaction": transaction})
    return SimpleNamespace(
        module=module,
        name=name,
        fixturenames=fixtures,
        get_closest_marker=lambda _name: marker,
    )


def test_each_module_runs_its_cast_readers_between_the_others_and_those_that_commit():
    items = [
        _item("m1", "reader", ("db", "world")),
        _item("m1", "committer", ("transactional_db", "world")),
        _item("m1", "plain", ("db",)),
        _item("m1", "second reader", ("db", "world")),
        _item("m2", "live", ("live_server",)),
        _item("m2", "plain", ("db",)),
        _item("m1", "marked", ("db", "world"), transaction=True),
    ]
    _by_database_use(items)
    assert [(item.module, item.name) for item in items] == [
        ("m1", "plain"),
        ("m1", "reader"),
        ("m1", "second reader"),
        ("m1", "committer"),
        ("m1", "marked"),
        ("m2", "plain"),
        ("m2", "live"),
    ]
