"""#18 points 16 and 18: `make run` serves with HUB_URL set to where it serves (e-mail links
work), and eager Celery (make run, seed_demo) prints no "Task ... succeeded" line among the
demo accounts."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def test_make_run_sets_hub_url_to_the_address_it_serves():
    makefile = (ROOT / "Makefile").read_text()
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "RUN_ENV := DEBUG=1 HUB_URL=http://$(HOST):$(PORT)" in makefile
    commands = [line for line in run.splitlines() if line.startswith("\t")]
    assert len(commands) == 3
    assert all(line.startswith("\t$(RUN_ENV) ") for line in commands), commands


@pytest.mark.django_db
def test_eager_tasks_log_no_success_lines(caplog):
    from audit.tasks import audit_sequence_task

    assert settings.CELERY_TASK_ALWAYS_EAGER
    with caplog.at_level(logging.DEBUG, logger="lifes"):
        audit_sequence_task.delay()
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("celery")]
    assert not [line for line in lines if re.search(r"Task .* succeeded", line)], lines
    assert logging.getLogger("celery.app.trace").getEffectiveLevel() >= logging.WARNING


def test_a_worker_with_a_broker_keeps_its_task_lines():
    # the same setting read without eager mode: the level is chosen from the broker setting
    source = (ROOT / "lifes" / "settings.py").read_text()
    assert '"celery.app.trace": {"level": "WARNING" if CELERY_TASK_ALWAYS_EAGER else "INFO"}' in (
        source
    )
