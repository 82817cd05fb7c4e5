"""The metrics page: charts drawn on the server, with tables for screen readers."""

from __future__ import annotations

import datetime as dt

import pytest

from reports.charts import bar_chart
from reports.metrics import percentile, state_durations
from reports.selectors import metrics_snapshot


def test_the_metrics_page_shows_svg_charts_to_an_auditor(permitted, demo, client):
    client.force_login(demo["auditor"])
    response = client.get("/reports/metrics/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("<svg") == 4
    assert 'role="img"' in html
    assert "Requests per month" in html
    assert "<caption>" in html
    assert "cdn" not in html.lower()


def test_the_metrics_page_is_404_for_a_requester(permitted, demo, client):
    client.force_login(demo["requester"])
    assert client.get("/reports/metrics/").status_code == 404


def test_time_in_state_comes_from_transitions():
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    day = dt.timedelta(days=1)
    events = [
        ("1", start, {"from": "draft", "to": "submitted"}),
        ("1", start + day, {"from": "submitted", "to": "in_review"}),
        ("1", start + 2 * day, {"from": "in_review", "to": "in_review"}),  # a vote
        ("1", start + 4 * day, {"from": "in_review", "to": "approved"}),
        ("2", start, {"from": "draft", "to": "submitted"}),
        ("2", start + 3 * day, {"from": "submitted", "to": "in_review"}),
    ]
    durations = state_durations(events)
    assert durations == {"submitted": [1.0, 3.0], "in_review": [3.0]}
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9
    assert percentile([1.0, 3.0], 0.5) == 1.0
    assert percentile([], 0.5) is None


def test_bar_chart_escapes_labels():
    svg = str(bar_chart([("<b>", 2), ("ok", 1)], title="T & U"))
    assert "<b>" not in svg.replace("<svg", "")
    assert "&lt;b&gt;" in svg
    assert svg.count("<rect") == 2


def test_months_read_as_the_readers_language_writes_them():
    from django.utils import translation

    from reports.views import month_label

    with translation.override("en"):
        assert [month_label(m) for m in ("2026-12", "2027-03")] == ["Dec 2026", "Mar 2027"]
    with translation.override("nl"):
        assert [month_label(m) for m in ("2026-12", "2027-03")] == ["dec 2026", "mrt 2027"]
    assert month_label("not a month") == "not a month"


@pytest.mark.parametrize(("lang", "label"), [("en", "Dec 2026"), ("nl", "dec 2026")])
def test_the_metrics_page_names_each_month_in_words(permitted, demo, client, lang, label):
    snapshot = metrics_snapshot()
    snapshot.figures["months"] = [["2026-12", 3]]
    snapshot.save(update_fields=["figures"])
    client.force_login(demo["auditor"])

    html = client.get("/reports/metrics/", HTTP_ACCEPT_LANGUAGE=lang).content.decode()

    assert f'<th scope="row"><time datetime="2026-12">{label}</time></th><td>3</td>' in html
    assert f"{label}: 3" in html  # the chart's description
    assert ">2026-12<" not in html
