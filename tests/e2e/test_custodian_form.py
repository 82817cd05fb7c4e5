"""A custodian's questions in the wizard: the conditional one appears as the requester answers
the question it depends on, in the browser, and the answers are saved as they type."""

from __future__ import annotations

DATASET = "leiden-population-health-study"


def test_a_conditional_question_appears_when_its_condition_holds(people):
    from accounts.models import User
    from catalogue.models import Dataset
    from requests_app import services
    from requests_app.models import AccessRequest
    from tests.conftest import wait_for

    user = User.objects.get(email="requester@demo.lifes.test")
    draft = services.request_create(actor=user, title="Custodian questions")
    services.request_update(
        actor=user,
        request_id=draft.pk,
        changes={},
        datasets=list(Dataset.objects.filter(slug=DATASET)),
    )
    requester = people("en")
    requester.sign_in("requester@demo.lifes.test")
    requester.goto(f"/requests/{draft.reference}/edit/population-study/")
    page = requester.page
    plan = page.locator("[data-question=return_plan]")

    assert plan.is_hidden()
    requester.step("custodian-section")
    page.check("input[name=returns_results]")
    assert plan.is_visible()
    page.fill("textarea[name=return_plan]", "Frailty index, CSV, June 2027.")
    page.fill("input[name=cost_centre]", "4711")
    # autosave: the answers reach the database without pressing a button
    wait_for(
        lambda: (
            AccessRequest.objects.get(pk=draft.pk).extra_answers
            == {
                "returns_results": True,
                "return_plan": "Frailty index, CSV, June 2027.",
                "cost_centre": "4711",
                "study_variables": [],
            }
        )
    )
    requester.step("custodian-section-answered")
    page.uncheck("input[name=returns_results]")
    assert plan.is_hidden()
    assert not requester.problems
