"""Small factories for test data, built with factory-boy through the services.

Each factory's ``_create`` calls the service a user's action would call (``user_create``,
``dataset_create``, ``board_create``, ``request_submit`` …) instead of saving the model, so
a test's objects carry their audit events, view grants and state exactly as in real use,
and a change to a service's rules reaches the tests. They replace ``seed_demo`` in fixtures
that do not need the whole demo world; ``demo_cast`` builds the demo's people, organisations,
node, datasets and algorithms (the ``world`` fixture) without the demo's consent imports and
requests, which few tests read and which cost most of ``seed_demo``'s time.

Django is imported inside the functions: tests/conftest.py imports nothing from Django at
module level so that the pure-Python suites run without it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import factory


class _ServiceFactory(factory.Factory):
    """A factory whose ``_create`` is a service call (``service(actor=None, **fields)``).

    The object comes from the service, so ``Meta.model`` of each factory is only the
    placeholder factory-boy requires (``dict``); use ``Factory()`` / ``create``, not ``build``."""

    class Meta:
        abstract = True

    @classmethod
    def _service(cls):  # pragma: no cover - each factory names its service
        raise NotImplementedError

    @classmethod
    def _create(cls, model_class, *args: Any, **kwargs: Any):
        kwargs.setdefault("actor", None)
        return cls._service()(*args, **kwargs)

    @classmethod
    def _build(cls, model_class, *args: Any, **kwargs: Any):
        # ``Meta.model`` is the placeholder ``dict``: building would hand back a dict that
        # looks like an object. Only the service makes one.
        raise TypeError(f"{cls.__name__} objects come from their service: use create, not build")


class OrganisationFactory(_ServiceFactory):
    class Meta:
        model = dict  # a placeholder: the service makes the object (see _ServiceFactory)

    name = factory.Sequence(lambda n: f"Organisation {n}")
    country = "NL"
    kind = "academic"
    is_for_profit = False

    @classmethod
    def _service(cls):
        from accounts.services import organisation_create

        return organisation_create


class UserFactory(_ServiceFactory):
    """A person; ``organisation`` (and ``role``) make them a member there."""

    class Meta:
        model = dict

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Sequence(lambda n: f"Person {n}")
    password = "a-long-test-password"  # noqa: S105 - a test password

    @classmethod
    def _create(cls, model_class, *args: Any, organisation=None, role="member", **kwargs: Any):
        from accounts.services import membership_add, user_create

        kwargs.setdefault("actor", None)
        user = user_create(**kwargs)
        if organisation is not None:
            membership_add(actor=None, user=user, organisation=organisation, role=role)
        return user


class MembershipFactory(_ServiceFactory):
    class Meta:
        model = dict

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = "member"

    @classmethod
    def _service(cls):
        from accounts.services import membership_add

        return membership_add


class NodeFactory(_ServiceFactory):
    """A data station with its machine identity."""

    class Meta:
        model = dict

    identifier = factory.Sequence(lambda n: f"station-{n}")
    name = factory.LazyAttribute(lambda o: f"Data station {o.identifier}")
    organisation = factory.SubFactory(OrganisationFactory, kind="hospital")
    base_url = factory.LazyAttribute(lambda o: f"https://{o.identifier}.example")
    identity = factory.SubFactory(
        UserFactory,
        email=factory.LazyAttribute(lambda u: f"{u.factory_parent.identifier}@nodes.example"),
        full_name=factory.LazyAttribute(lambda u: u.factory_parent.name),
        password=None,
        is_machine=True,
    )

    @classmethod
    def _service(cls):
        from catalogue.services import node_create

        return node_create


class DatasetFactory(_ServiceFactory):
    """A dataset held by ``owner`` on ``node``, stewarded by ``stewards``."""

    class Meta:
        model = dict

    slug = factory.Sequence(lambda n: f"dataset-{n}")
    persistent_identifier = factory.LazyAttribute(lambda o: f"https://doi.org/10.5072/{o.slug}")
    title = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    description = "A test dataset."
    owner = factory.SubFactory(OrganisationFactory, kind="hospital")
    node = factory.SubFactory(NodeFactory, organisation=factory.SelfAttribute("..owner"))
    contact_email = "data@example.org"
    duo_codes = factory.LazyFunction(lambda: ["DUO:0000042"])
    stewards = factory.LazyFunction(list)

    @classmethod
    def _service(cls):
        from catalogue.services import dataset_create

        return dataset_create


class AlgorithmFactory(_ServiceFactory):
    class Meta:
        model = dict

    name = factory.Sequence(lambda n: f"algorithm-{n}")
    version = "1.0.0"
    digest = factory.LazyAttribute(
        lambda o: "sha256:" + hashlib.sha256(o.name.encode()).hexdigest()
    )
    description = "A test algorithm."
    output_kind = "aggregate"

    @classmethod
    def _service(cls):
        from catalogue.services import algorithm_register

        return algorithm_register


class BoardFactory(_ServiceFactory):
    """A review board; ``chair`` and ``members`` join it through ``board_member_add``."""

    class Meta:
        model = dict

    name = factory.Sequence(lambda n: f"Board {n}")
    kind = "ethics_committee"
    organisation = factory.SubFactory(OrganisationFactory, kind="hospital")
    min_votes = 1

    @classmethod
    def _create(cls, model_class, *args: Any, chair=None, members=(), datasets=(), **kwargs: Any):
        from accounts.models import User
        from requests_app import services
        from requests_app.models import DatasetReviewStage

        admin = kwargs.pop("actor", None) or User.objects.filter(is_superuser=True).first()
        board = services.board_create(actor=admin, **kwargs)
        if chair is not None:
            services.board_member_add(actor=admin, board=board, user=chair, role="chair")
        for member in members:
            services.board_member_add(actor=admin, board=board, user=member)
        for dataset in datasets:  # after the boards the dataset already goes through
            earlier = DatasetReviewStage.objects.filter(dataset=dataset).order_by("order")
            services.dataset_boards_set(
                actor=admin, dataset=dataset, boards=[*(s.board for s in earlier), board]
            )
        return board


def consent_csv(rows: list[tuple[str, str, str]]) -> str:
    """A consent CSV (the importer's format) of ``(pseudonym, permitted DUO code, MONDO
    diseases)`` rows; the diseases are empty unless the code needs them."""
    header = "participant,permit,permit_diseases,deny,deny_diseases,period_start,date_signed\n"
    return header + "".join(
        f"{pseudonym},{code},{diseases},,,2024-01-01,2024-01-01\n"
        for pseudonym, code, diseases in rows
    )


def consents_import(dataset: Any, rows: list[tuple[str, str, str]], *, actor: Any = None) -> Any:
    """Consenting participants for ``dataset``, imported as a steward (or the system) would."""
    from consent.services import consent_import

    return consent_import(
        actor=actor, dataset=dataset, content=consent_csv(rows), fmt="csv", filename="test.csv"
    )


REQUEST_STATES = ("draft", "in_review", "approved", "permitted", "withdrawn")


def request_in_state(
    state: str, requester: Any, datasets: list[str], *, title: str = "Glycaemic control and BMI"
) -> Any:
    """An access request driven through the services to ``state`` (one of REQUEST_STATES): a
    complete draft; that draft submitted, checked, found complete by the access body's staff
    (``demo.ehds_world.complete_after_checks``: the statutory clock starts) and routed to its boards; approved by every
    board and owner (``demo.permits_world.approve_request``); approved with its permit issued
    (as the approval's on-commit signal issues it); or withdrawn by its requester in review.
    The datasets need boards (``BoardFactory(datasets=...)``) for anything past a draft."""
    from django.utils import timezone

    from demo.ehds_world import complete_after_checks
    from demo.permits_world import approve_request
    from permits.services import permit_issue
    from requests_app import services
    from tests.requests.conftest import fill_draft

    if state not in REQUEST_STATES:
        raise ValueError(f"state must be one of {REQUEST_STATES}, not {state!r}")
    today = timezone.localdate()
    request = fill_draft(
        requester,
        datasets,
        title=title,
        answers={"period_start": today, "period_end": today + dt.timedelta(days=365)},
    )
    if state in ("in_review", "withdrawn"):
        services.request_submit(actor=requester, request_id=request.pk)
        # The checks (if no worker ran them yet), then the access body finds it complete.
        complete_after_checks(request)
        if state == "withdrawn":
            services.request_withdraw(actor=requester, request_id=request.pk, reason="test")
    elif state in ("approved", "permitted"):
        approve_request(request)
        if state == "permitted":
            permit_issue(actor=None, request_id=request.pk)
    request.refresh_from_db()
    return request


def permitted_request(
    people: dict[str, Any], *, title: str = "HbA1c and BMI in type 2 diabetes"
) -> Any:
    """On the demo cast (``demo_cast``): 60 participants of the diabetes cohort consenting to
    diabetes research, the ethics committee reviewing it, and the demo's permitted request
    (the committee approves, the owner grants; the permit is issued after the approval commits,
    as in real use)."""
    from django.test import TestCase

    from catalogue.models import Dataset

    diabetes = Dataset.objects.get(slug="leiden-diabetes-cohort")
    consents_import(diabetes, [(f"P{i:04d}", "DUO:0000007", "MONDO:0005015") for i in range(1, 61)])
    BoardFactory(
        name="LUMC Medical Ethics Committee",
        organisation=people["owner"].memberships.get().organisation,
        chair=people["chair"],
        members=[people["member1"], people["member2"]],
        datasets=[diabetes],
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        request = request_in_state(
            "approved", people["requester"], ["leiden-diabetes-cohort"], title=title
        )
    request.refresh_from_db()
    return request


def demo_cast() -> dict[str, Any]:
    """The demo's organisations, people (with their memberships and the deciders'
    authenticators), node, datasets, algorithms and custodian form, built by the factories from
    the specs of ``demo.world`` — the data most tests read — without the consent imports and
    requests. People are keyed by the part of their email before the @, as ``world`` always was."""
    from accounts.services import api_token_create, totp_device_install
    from demo import world as demo
    from demo.forms_world import seed_forms

    organisations = {spec["name"]: OrganisationFactory(**spec) for spec in demo.ORGANISATIONS}
    users = {}
    for email, full_name, organisation, role, flags in demo.USERS:
        users[email] = UserFactory(
            email=email,
            full_name=full_name,
            password=demo.DEMO_PASSWORD,
            organisation=organisations[organisation],
            role=role,
            **flags,
        )
    for email in demo.DEMO_TOTP_PEOPLE:
        totp_device_install(
            actor=None, user=users[email], key=demo.DEMO_TOTP_KEY, name="demo authenticator"
        )
    lumc = organisations["Leiden University Medical Center"]
    node = NodeFactory(
        identifier="lumc-station-1",
        name="LUMC Data Station 1",
        organisation=lumc,
        base_url="https://station1.lumc.example",
        identity__email="lumc-station-1@nodes.lifes.test",
    )
    api_token_create(
        actor=None, user=node.identity, name="demo node credential", key=demo.DEMO_NODE_TOKEN
    )
    for spec in demo.DATASETS:
        DatasetFactory(
            owner=lumc,
            node=node,
            contact_email="data@lumc.example",
            stewards=[users["owner@demo.lifes.test"]],
            hdab=organisations["Dutch Health Data Authority"],
            **spec,
        )
    for spec in demo.ALGORITHMS:
        path = spec["file"]
        AlgorithmFactory(
            name=spec["name"],
            version=spec["version"],
            description=spec["description"],
            output_kind=spec["output_kind"],
            maintainer=organisations["Leiden University"],
            **({"digest": demo.file_digest(path)} if path is not None else {}),
        )
    # The demo's custodian form (a conditional and a private question on one dataset), as
    # seed_demo ships it: the form tests read it.
    seed_forms(demo.SeedReport())
    return {email.split("@")[0]: user for email, user in users.items()}
