"""The legal vocabularies a request declares: EHDS purposes and prohibited uses, GDPR bases.

References are to Regulation (EU) 2025/327 (European Health Data Space, "EHDS") and Regulation
(EU) 2016/679 (GDPR). The request form (``requests_app``) offers these choices; the checks in
``consent.checks`` reason over the stored values.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class EhdsCategory(models.TextChoices):
    """EHDS Art. 53(1): the purposes for which health data may be processed for secondary use.

    Art. 53(2): points (a) to (c) are reserved for public sector bodies and Union institutions,
    bodies, offices and agencies exercising tasks conferred on them by law.
    """

    PUBLIC_HEALTH = "a", _("(a) Public interest in public and occupational health")
    POLICY_MAKING = "b", _("(b) Policy making and regulatory activities of public sector bodies")
    STATISTICS = "c", _("(c) Official statistics related to the health or care sectors")
    EDUCATION = "d", _("(d) Education or teaching in health or care sectors")
    SCIENTIFIC_RESEARCH = (
        "e",
        _(
            "(e) Scientific research related to health or care sectors, including development and "
            "innovation and the training, testing and evaluation of algorithms"
        ),
    )
    CARE_IMPROVEMENT = (
        "f",
        _("(f) Improving the delivery of care, optimising treatment and providing health care"),
    )


PUBLIC_BODY_CATEGORIES: frozenset[str] = frozenset(
    {
        EhdsCategory.PUBLIC_HEALTH,
        EhdsCategory.POLICY_MAKING,
        EhdsCategory.STATISTICS,
    }
)


class ProhibitedUse(models.TextChoices):
    """EHDS Art. 54: secondary uses that are prohibited whatever the permit says."""

    DETRIMENTAL_DECISIONS = (
        "detrimental_decisions",
        _("(a) Taking decisions detrimental to a person or group based on their health data"),
    )
    INSURANCE_EMPLOYMENT = (
        "insurance_employment",
        _(
            "(b) Decisions on job offers, less favourable terms for goods or services, insurance "
            "or credit, or other discrimination based on health data"
        ),
    )
    ADVERTISING = "advertising", _("(c) Advertising or marketing activities")
    HARMFUL_PRODUCTS = (
        "harmful_products",
        _(
            "(d) Developing products or services that may harm individuals, public health or "
            "society (illicit drugs, alcohol, tobacco and nicotine, weaponry, addictive products)"
        ),
    )
    UNETHICAL = "unethical", _("(e) Activities in conflict with ethical provisions of national law")


class GdprArt6Basis(models.TextChoices):
    """GDPR Art. 6(1): the lawful basis of any processing of personal data."""

    CONSENT = "a", _("(a) Consent of the data subject")
    CONTRACT = "b", _("(b) Performance of a contract")
    LEGAL_OBLIGATION = "c", _("(c) Compliance with a legal obligation")
    VITAL_INTERESTS = "d", _("(d) Vital interests")
    PUBLIC_TASK = "e", _("(e) Task in the public interest or official authority")
    LEGITIMATE_INTERESTS = "f", _("(f) Legitimate interests")


class GdprArt9Basis(models.TextChoices):
    """GDPR Art. 9(2): the exceptions that allow processing health data (special category)."""

    EXPLICIT_CONSENT = "a", _("(a) Explicit consent")
    EMPLOYMENT = "b", _("(b) Employment and social security law")
    VITAL_INTERESTS = "c", _("(c) Vital interests of a person unable to consent")
    NOT_FOR_PROFIT_BODY = "d", _("(d) Members of a not-for-profit body")
    MADE_PUBLIC = "e", _("(e) Made manifestly public by the data subject")
    LEGAL_CLAIMS = "f", _("(f) Legal claims or courts")
    SUBSTANTIAL_PUBLIC_INTEREST = "g", _("(g) Substantial public interest, on the basis of law")
    HEALTH_CARE = "h", _("(h) Preventive or occupational medicine, health or social care")
    PUBLIC_HEALTH = "i", _("(i) Public interest in the area of public health")
    RESEARCH = "j", _("(j) Archiving, scientific or historical research or statistics (Art. 89(1))")


#: Art. 9(2) points that fit the secondary use of health data for research and statistics;
#: any other point needs a reviewer to confirm it applies.
ART9_FOR_SECONDARY_USE: frozenset[str] = frozenset(
    {
        GdprArt9Basis.EXPLICIT_CONSENT,
        GdprArt9Basis.SUBSTANTIAL_PUBLIC_INTEREST,
        GdprArt9Basis.HEALTH_CARE,
        GdprArt9Basis.PUBLIC_HEALTH,
        GdprArt9Basis.RESEARCH,
    }
)

#: The European Economic Area: the 27 EU member states and Iceland, Liechtenstein and Norway
#: (ISO 3166-1 alpha-2; Greece is GR).
EEA_COUNTRIES: frozenset[str] = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
        "IS",
        "LI",
        "NO",
    }
)
