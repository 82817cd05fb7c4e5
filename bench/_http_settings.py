"""Settings for bench_http.py: the production settings, plus one bare view on the same URLconf
(``_http_urls``) as the baseline. Not a bench of its own (``make bench`` runs bench_*.py)."""

from lifes.settings import *  # noqa: F403

ROOT_URLCONF = "_http_urls"
