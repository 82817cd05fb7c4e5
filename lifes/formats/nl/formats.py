"""Django's Dutch formats, with the time zone after every time (as in English, lifes/formats/en)."""

from django.conf.locale.nl.formats import *  # noqa: F403

DATETIME_FORMAT = "j F Y, H:i T"
TIME_FORMAT = "H:i T"
SHORT_DATETIME_FORMAT = "j-n-Y H:i T"
# A month in a table or chart label ("dec 2026": Dutch writes month names in lower case; "M"
# would capitalise them).
SHORT_YEAR_MONTH_FORMAT = "b Y"
