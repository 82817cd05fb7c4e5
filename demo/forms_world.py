"""The demo's custodian form: the LUMC asks its own questions about the Leiden Population
Health Study, on top of the Five Safes form. One question is conditional (the return plan, only
when derived variables return to the study) and one private (the cost centre for the study's
fees). The demo request for the study ("Healthy ageing and lifestyle", returned for changes)
answers them."""

from __future__ import annotations

from typing import Any

from accounts.models import Organisation
from catalogue.models import Dataset
from requests_app import services
from requests_app.application_form import form_for_request
from requests_app.models import AccessRequest, FormTemplate

KEY = "lumc-population-study"
DATASET = "leiden-population-health-study"

SECTIONS = [
    {
        "key": "population-study",
        "title_en": "Population study",
        "title_nl": "Populatiestudie",
        "intro_en": "The LUMC asks these questions for the Leiden Population Health Study.",
        "intro_nl": "Het LUMC stelt deze vragen voor de Leiden Population Health Study.",
    }
]

QUESTIONS = [
    {
        "section": "population-study",
        "key": "study_variables",
        "type": "multi_choice",
        "label_en": "Which parts of the study do you need?",
        "label_nl": "Welke delen van de studie hebt u nodig?",
        "help_en": "Ask for the parts your analysis uses, nothing more.",
        "help_nl": "Vraag alleen de delen die uw analyse gebruikt.",
        "required": True,
        "required_message_en": "Choose the parts of the study you need.",
        "required_message_nl": "Kies de delen van de studie die u nodig hebt.",
        "choices": [
            ["questionnaires", "Questionnaires", "Vragenlijsten"],
            ["physical_exam", "Physical examination", "Lichamelijk onderzoek"],
            ["linked_records", "Linked health records", "Gekoppelde zorggegevens"],
        ],
    },
    {
        "section": "population-study",
        "key": "returns_results",
        "type": "yes_no",
        "label_en": "Will you return derived variables to the study?",
        "label_nl": "Levert u afgeleide variabelen terug aan de studie?",
        "help_en": "The study enriches its data with what researchers derive.",
        "help_nl": "De studie verrijkt haar gegevens met wat onderzoekers afleiden.",
    },
    {
        "section": "population-study",
        "key": "return_plan",
        "type": "long_text",
        "label_en": "How and when will you return them?",
        "label_nl": "Hoe en wanneer levert u ze terug?",
        "help_en": "Name the variables, their format and the date.",
        "help_nl": "Noem de variabelen, hun formaat en de datum.",
        "required": True,
        "required_message_en": "Describe how you will return the derived variables.",
        "required_message_nl": "Beschrijf hoe u de afgeleide variabelen teruglevert.",
        "show_when": {"question": "returns_results", "equals": True},
        "max_length": 1000,
    },
    {
        "section": "population-study",
        "key": "cost_centre",
        "type": "text",
        "label_en": "Cost centre for the study's fees",
        "label_nl": "Kostenplaats voor de vergoeding aan de studie",
        "help_en": "Private: seen by your team and by board members who declared no conflict.",
        "help_nl": "Privé: te zien voor uw team en voor commissieleden zonder belangenconflict.",
        "required": True,
        "required_message_en": "Give the cost centre for the study's fees.",
        "required_message_nl": "Geef de kostenplaats voor de vergoeding aan de studie.",
        "is_private": True,
        "max_length": 60,
    },
]


# What the demo requests answer where their form asks the LUMC's questions.
DEMO_ANSWERS = {
    "study_variables": ["questionnaires", "physical_exam"],
    "returns_results": True,
    "return_plan": "A frailty index per participant, as CSV, within six months of the end.",
    "cost_centre": "LUMC-GER-0420",
}


def custodian_answers(request: AccessRequest) -> dict[str, Any]:
    """The demo answers to the questions the request's form asks (none without the template)."""
    asked = form_for_request(request).by_key
    return {key: value for key, value in DEMO_ANSWERS.items() if key in asked}


def seed_forms(report: Any) -> FormTemplate:
    existing = FormTemplate.objects.filter(key=KEY).order_by("-version").first()
    if existing is not None:
        return existing
    template = services.form_template_create(
        actor=None,
        key=KEY,
        title="Leiden Population Health Study: LUMC questions",
        organisation=Organisation.objects.get(name="Leiden University Medical Center"),
        sections=SECTIONS,
        questions=QUESTIONS,
        datasets=list(Dataset.objects.filter(slug=DATASET)),
    )
    report.created.append(f"form template {KEY} (on {DATASET})")
    return template
