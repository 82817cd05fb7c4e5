"""The Dutch catalogue is complete: no untranslated and no fuzzy message."""

from __future__ import annotations

import re
import shutil
import subprocess

import polib
import pytest

from tests.e2e.helpers import PO


def test_dutch_catalogue_has_every_message_translated():
    catalogue = polib.pofile(str(PO))

    assert [e.msgid for e in catalogue.untranslated_entries()] == []
    assert [e.msgid for e in catalogue.fuzzy_entries()] == []
    assert len(catalogue.translated_entries()) == len(catalogue) > 700


def test_compiled_catalogue_is_in_step_with_the_po_file():
    compiled = polib.mofile(str(PO.with_suffix(".mo")))

    assert {e.msgid for e in compiled if e.msgid} == {e.msgid for e in polib.pofile(str(PO))}


@pytest.mark.skipif(not shutil.which("msgfmt"), reason="gettext's msgfmt is not installed")
def test_msgfmt_reports_nothing_untranslated_or_fuzzy():
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(PO)],  # noqa: S603,S607
        capture_output=True,
        text=True,
        check=True,
    )

    assert re.fullmatch(r"\d+ translated messages\.", result.stderr.strip()), result.stderr
