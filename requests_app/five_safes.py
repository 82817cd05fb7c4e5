"""The Five Safes form as first shipped: version 1 of the default template, with today's
question keys (the API keeps them). Staff edit it in the admin, where editing it once used makes
version 2; this module only creates version 1 where there is none: the migration calls it, and
so does ``post_migrate`` (a test database flushed between transactional tests loses the rows
the migration made, as Django's own content types and permissions do).

Pure data and one function taking the model classes, so the migration can pass its historical
models."""

from __future__ import annotations

from typing import Any

from consent.duo import DS

PERSONAL = {"personal_data": True}

# (key, order, title_en, title_nl, intro_en)
SECTIONS = [
    (
        "project",
        1,
        "Safe project",
        "Veilig project",
        "What you want to learn, and why it is in the public interest.",
    ),
    (
        "people",
        2,
        "Safe people",
        "Veilige personen",
        "Who leads the work and who will see the results.",
    ),
    ("data", 3, "Safe data", "Veilige gegevens", "The datasets your algorithms will visit."),
    (
        "settings",
        4,
        "Safe settings",
        "Veilige omgeving",
        "The algorithms that will run, and the legal and ethical basis.",
    ),
    (
        "outputs",
        5,
        "Safe outputs",
        "Veilige uitvoer",
        "What leaves the data stations, and for how long you need access.",
    ),
]


def q(section, key, type_, label_en, label_nl, **options):
    return {
        "section": section,
        "key": key,
        "type": type_,
        "label_en": label_en,
        "label_nl": label_nl,
        **options,
    }


def give(en, nl):
    return {"required": True, "required_message_en": en, "required_message_nl": nl}


QUESTIONS = [
    q(
        "project",
        "title",
        "text",
        "Title",
        "Titel",
        max_length=300,
        **give("Give a title.", "Geef een titel."),
    ),
    q(
        "project",
        "lay_summary",
        "long_text",
        "Lay summary",
        "Publiekssamenvatting",
        max_length=2000,
        help_en="In plain language, for participants and the public register.",
        **give("Give a lay summary.", "Geef een publiekssamenvatting."),
    ),
    q(
        "project",
        "scientific_abstract",
        "long_text",
        "Scientific abstract",
        "Wetenschappelijke samenvatting",
        max_length=5000,
        **give("Give a scientific abstract.", "Geef een wetenschappelijke samenvatting."),
    ),
    q(
        "project",
        "ehds_category",
        "choice",
        "EHDS purpose (Art. 53(1))",
        "EHDS-doel (art. 53, lid 1)",
        choices_from="ehds_category",
        **give("Give the EHDS purpose.", "Geef het EHDS-doel."),
    ),
    q(
        "project",
        "purpose_code",
        "duo_purpose",
        "Primary purpose (DUO)",
        "Primair doel (DUO)",
        choices_from="duo_purpose",
        **give("Give the primary research purpose.", "Geef het primaire onderzoeksdoel."),
    ),
    q(
        "project",
        "research_types",
        "multi_choice",
        "Research types (DUO)",
        "Soorten onderzoek (DUO)",
        choices_from="duo_research_types",
    ),
    q(
        "project",
        "purpose_diseases",
        "mondo_diseases",
        "Diseases studied (MONDO)",
        "Onderzochte ziekten (MONDO)",
        help_en="Needed for disease-specific research, e.g. MONDO:0005148 (type 2 diabetes).",
        required_when={"question": "purpose_code", "equals": DS},
        required_message_en="Disease-specific research needs at least one disease.",
        required_message_nl="Ziektespecifiek onderzoek vereist minstens één ziekte.",
    ),
    q("project", "is_commercial", "yes_no", "Commercial use", "Commercieel gebruik"),
    q(
        "project",
        "funding_source",
        "text",
        "Funding source",
        "Financieringsbron",
        max_length=300,
        is_private=True,
        help_en="Private: seen by the boards' chairs and members who declared no conflict.",
    ),
    q(
        "project",
        "commercial_interests",
        "long_text",
        "Commercial interests",
        "Commerciële belangen",
        max_length=2000,
        is_private=True,
    ),
    q(
        "project",
        "no_prohibited_use",
        "yes_no",
        "None of the uses prohibited by EHDS Art. 54",
        "Geen van de door EHDS art. 54 verboden vormen van gebruik",
        help_en="EHDS Art. 54 forbids, among others, decisions detrimental to a person, "
        "insurance exclusion, advertising and developing harmful products.",
        rules={
            "must_be": True,
            "message_en": "Confirm that the work involves none of the prohibited uses.",
            "message_nl": "Bevestig dat het werk geen van de verboden vormen van gebruik omvat.",
        },
    ),
    q(
        "people",
        "pi_name",
        "text",
        "Principal investigator",
        "Hoofdonderzoeker",
        max_length=200,
        **give("Give the principal investigator.", "Geef de hoofdonderzoeker."),
    ),
    q(
        "people",
        "pi_email",
        "email",
        "Principal investigator's email",
        "E-mailadres van de hoofdonderzoeker",
        max_length=254,
        is_private=True,
        **give(
            "Give the principal investigator's email.",
            "Geef het e-mailadres van de hoofdonderzoeker.",
        ),
    ),
    q(
        "people",
        "pi_orcid",
        "orcid",
        "Principal investigator's ORCID iD",
        "ORCID iD van de hoofdonderzoeker",
        max_length=19,
    ),
    q("people", "team", "team", "Team members", "Teamleden", is_private=True),
    q(
        "data",
        "datasets",
        "datasets",
        "Datasets",
        "Datasets",
        **give("Choose at least one dataset.", "Kies minstens één dataset."),
    ),
    q(
        "settings",
        "algorithms",
        "algorithms",
        "Visiting algorithms",
        "Bezoekende algoritmen",
        **give("Choose at least one visiting algorithm.", "Kies minstens één bezoekend algoritme."),
    ),
    q(
        "settings",
        "gdpr_art6_basis",
        "choice",
        "GDPR Art. 6 legal basis",
        "Rechtsgrond volgens AVG art. 6",
        choices_from="gdpr_art6",
        required_when=PERSONAL,
        required_message_en="Personal data needs a GDPR Art. 6 legal basis.",
        required_message_nl="Persoonsgegevens vereisen een rechtsgrond volgens AVG art. 6.",
    ),
    q(
        "settings",
        "gdpr_art9_basis",
        "choice",
        "GDPR Art. 9(2) condition",
        "Uitzondering volgens AVG art. 9, lid 2",
        choices_from="gdpr_art9",
        required_when=PERSONAL,
        required_message_en="Health data needs a GDPR Art. 9(2) condition.",
        required_message_nl="Gezondheidsgegevens vereisen een uitzondering volgens AVG art. 9, "
        "lid 2.",
    ),
    q(
        "settings",
        "ethics_reference",
        "text",
        "Ethics approval reference",
        "Kenmerk van de ethische goedkeuring",
        max_length=100,
        required_when=PERSONAL,
        required_message_en="Give the ethics approval reference.",
        required_message_nl="Geef het kenmerk van de ethische goedkeuring.",
    ),
    q(
        "settings",
        "ethics_committee",
        "text",
        "Approving ethics committee",
        "Goedkeurende ethische commissie",
        max_length=200,
        required_when=PERSONAL,
        required_message_en="Give the approving ethics committee.",
        required_message_nl="Geef de goedkeurende ethische commissie.",
    ),
    q(
        "settings",
        "ethics_expires_on",
        "date",
        "Ethics approval valid until",
        "Ethische goedkeuring geldig tot",
        required_when=PERSONAL,
        required_message_en="Give the date the ethics approval ends.",
        required_message_nl="Geef de datum waarop de ethische goedkeuring afloopt.",
    ),
    q(
        "settings",
        "ethics_letter",
        "attachment",
        "Ethics approval letter",
        "Goedkeuringsbrief van de ethische commissie",
        attachment_kind="ethics_letter",
        required_when=PERSONAL,
        required_message_en="Attach the ethics approval letter.",
        required_message_nl="Voeg de goedkeuringsbrief van de ethische commissie toe.",
    ),
    q("settings", "dpia_done", "yes_no", "DPIA carried out", "DPIA uitgevoerd"),
    q(
        "settings",
        "dpia_summary",
        "long_text",
        "DPIA summary",
        "Samenvatting van de DPIA",
        max_length=5000,
        is_private=True,
    ),
    q(
        "settings",
        "processing_outside_eea",
        "yes_no",
        "Processing outside the EEA",
        "Verwerking buiten de EER",
    ),
    q(
        "settings",
        "outside_eea_countries",
        "text",
        "Countries outside the EEA",
        "Landen buiten de EER",
        max_length=200,
        required_when={"question": "processing_outside_eea", "equals": True},
        required_message_en="Name the countries outside the EEA.",
        required_message_nl="Noem de landen buiten de EER.",
    ),
    q(
        "outputs",
        "expected_outputs",
        "long_text",
        "Expected outputs",
        "Verwachte resultaten",
        max_length=3000,
        **give("Give the expected outputs.", "Geef de verwachte resultaten."),
    ),
    q(
        "outputs",
        "period_start",
        "date",
        "Start of the requested period",
        "Begin van de gevraagde periode",
        **give("Give the start of the period.", "Geef het begin van de periode."),
    ),
    q(
        "outputs",
        "period_end",
        "date",
        "End of the requested period",
        "Einde van de gevraagde periode",
        rules={
            "after": "period_start",
            "message_en": "The end of the period must come after its start.",
            "message_nl": "Het einde van de periode moet na het begin liggen.",
        },
        **give("Give the end of the period.", "Geef het einde van de periode."),
    ),
]


# EHDS: the expected public benefit and the declaration against stigmatisation or harm (Recital
# 73), asked by the default form; ``ensure_ehds_questions`` adds them where version 1 was created
# before they existed.
EHDS_QUESTIONS = [
    q(
        "project",
        "public_benefit",
        "long_text",
        "Expected public benefit",
        "Verwacht maatschappelijk nut",
        max_length=3000,
        help_en="Who benefits from the results, and how (EHDS Art. 53 and 67).",
        help_nl="Wie heeft baat bij de resultaten, en hoe (EHDS art. 53 en 67).",
        **give(
            "Describe the expected public benefit.", "Beschrijf het verwachte maatschappelijk nut."
        ),
    ),
    q(
        "project",
        "no_stigmatisation",
        "yes_no",
        "The results will not be used to stigmatise or harm people or groups",
        "De resultaten worden niet gebruikt om mensen of groepen te stigmatiseren of te schaden",
        help_en="EHDS Recital 73: secondary use must not stigmatise, discriminate against or"
        " otherwise harm the persons or groups the data are about.",
        help_nl="EHDS overweging 73: secundair gebruik mag de personen of groepen over wie de"
        " gegevens gaan niet stigmatiseren, discrimineren of anderszins schaden.",
        rules={
            "must_be": True,
            "message_en": "Declare that the results will not be used to stigmatise or harm.",
            "message_nl": "Verklaar dat de resultaten niet worden gebruikt om te stigmatiseren of"
            " te schaden.",
        },
    ),
]
QUESTIONS += EHDS_QUESTIONS


def ensure_default_template(
    form_template: Any, form_section: Any, form_question: Any, submission: Any = None
) -> Any:
    """Create version 1 of the Five Safes template unless a default template exists."""
    if form_template.objects.filter(is_default=True).exists():
        return None
    template = form_template.objects.create(
        key="five-safes", version=1, title="Five Safes", is_default=True
    )
    sections = {}
    for key, order, title_en, title_nl, intro_en in SECTIONS:
        sections[key] = form_section.objects.create(
            template=template,
            key=key,
            order=order,
            title_en=title_en,
            title_nl=title_nl,
            intro_en=intro_en,
        )
    for order, spec in enumerate(QUESTIONS, start=1):
        fields = dict(spec)
        form_question.objects.create(
            template=template, section=sections[fields.pop("section")], order=order, **fields
        )
    if submission is not None:
        # rounds submitted before templates existed answered this form
        for item in submission.objects.all():
            item.templates.add(template)
    return template


def ensure_ehds_questions(form_template: Any, form_section: Any, form_question: Any) -> int:
    """Add the EHDS questions to every default template that lacks them (a database whose
    version 1 predates them); returns how many were added."""
    added = 0
    for template in form_template.objects.filter(is_default=True):
        last = template.questions.order_by("-order").values_list("order", flat=True).first() or 0
        for spec in EHDS_QUESTIONS:
            fields = dict(spec)
            section = form_section.objects.filter(
                template=template, key=fields.pop("section")
            ).first()
            if section is None or template.questions.filter(key=fields["key"]).exists():
                continue
            last += 1
            form_question.objects.create(template=template, section=section, order=last, **fields)
            added += 1
    return added
