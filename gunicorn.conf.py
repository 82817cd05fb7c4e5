"""gunicorn settings for LIFES Hub; gunicorn reads this file from the working directory.

No ``Server`` banner: gunicorn writes ``Server: gunicorn`` into every response and has no
setting to leave it out, so its default header list is filtered here (a version banner only
helps someone looking for a known hole). Behind nginx also set ``server_tokens off;`` and
``proxy_hide_header Server;`` (README, "Headers and limits").
"""

import gunicorn.http.wsgi

_default_headers = gunicorn.http.wsgi.Response.default_headers


def _without_server_banner(self):
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


gunicorn.http.wsgi.Response.default_headers = _without_server_banner
