"""Private files (attachments, reports): served only by access-checked views, never from a
public media URL.

The view decides who may read a file and then hands it over in one of three ways, chosen by
``PRIVATE_FILES_SERVER``:

- ``django`` (the default): Django streams it (``FileResponse``);
- ``nginx``: an ``X-Accel-Redirect`` to ``PRIVATE_FILES_URL`` + the file's path under
  ``MEDIA_ROOT``; nginx serves that prefix from ``MEDIA_ROOT`` as an ``internal`` location, so it
  is reachable only through this header;
- ``sendfile``: an ``X-Sendfile`` header with the absolute path (Apache mod_xsendfile,
  lighttpd).

Written here rather than taken from django-sendfile2: its pure-Django backend reads the whole
file into memory instead of streaming it, and each header variant is a single line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.http import content_disposition_header

SERVERS = ("django", "nginx", "sendfile")


def _path(file: Any) -> Path:
    """The file's absolute path, refused unless it lies under MEDIA_ROOT."""
    root = Path(settings.MEDIA_ROOT).resolve()
    try:
        path = Path(file.path).resolve()
    except (ValueError, NotImplementedError):
        raise Http404("No such file.") from None
    if not path.is_relative_to(root) or not path.is_file():
        raise Http404("No such file.")
    return path


def private_file_response(
    request: HttpRequest, file: Any, *, filename: str, content_type: str
) -> HttpResponse:
    """The response that delivers ``file`` (a ``FieldFile``) as a download named ``filename``.

    Always ``attachment`` with ``nosniff``: an uploaded file is never rendered by the browser
    in the hub's origin, whatever its declared type.
    """
    path = _path(file)
    server = settings.PRIVATE_FILES_SERVER
    if server == "django":
        response: HttpResponse = FileResponse(
            path.open("rb"), as_attachment=True, filename=filename, content_type=content_type
        )
    else:
        response = HttpResponse(content_type=content_type)
        response["Content-Disposition"] = content_disposition_header(True, filename)
        if server == "nginx":
            relative = path.relative_to(Path(settings.MEDIA_ROOT).resolve()).as_posix()
            response["X-Accel-Redirect"] = (
                settings.PRIVATE_FILES_URL.rstrip("/") + "/" + quote(relative)
            )
        else:
            response["X-Sendfile"] = str(path)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
