"""English as written in Europe: day before month, 24-hour clock, the time zone with every time
("1 Dec 2026, 14:05 CET"). US-style "12/01/2026" reads as 12 January here (#18 point 12)."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i T"
TIME_FORMAT = "H:i T"
YEAR_MONTH_FORMAT = "F Y"
# A month in a table or chart label ("Dec 2026"); Django has no short year-month format of its
# own, and ``get_format`` reads any name these modules define.
SHORT_YEAR_MONTH_FORMAT = "M Y"
MONTH_DAY_FORMAT = "j F"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i T"
FIRST_DAY_OF_WEEK = 1  # Monday
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d %b %Y", "%d %B %Y"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d-%m-%Y %H:%M", "%d/%m/%Y %H:%M"]
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
