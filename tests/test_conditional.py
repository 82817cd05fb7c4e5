"""``lifes.conditional`` against RFC 9110's own example of entity-tag comparison (8.8.3.2) and
Django's own If-None-Match rule (``django.utils.cache``), which nobody here wrote."""

from __future__ import annotations

import pytest
from django.utils.cache import _if_none_match_passes
from django.utils.http import parse_etags

from lifes.conditional import etag_of, is_fresh

# RFC 9110, 8.8.3.2: "ETag 1, ETag 2, Strong Comparison, Weak Comparison". If-None-Match uses
# the weak comparison (13.1.2).
RFC_9110_EXAMPLE = [
    ('W/"1"', 'W/"1"', False, True),
    ('W/"1"', 'W/"2"', False, False),
    ('W/"1"', '"1"', False, True),
    ('"1"', '"1"', True, True),
]


@pytest.mark.parametrize(("first", "second", "_strong", "weak"), RFC_9110_EXAMPLE)
def test_if_none_match_uses_the_weak_comparison_of_rfc_9110(first, second, _strong, weak):
    assert is_fresh(first, second) is weak
    assert is_fresh(second, first) is weak


@pytest.mark.parametrize(
    "header",
    ['"a"', 'W/"a"', '"b", W/"a"', '"b",  "a" ', "*", '"b"', "", "a", '"b", *'],
)
def test_is_fresh_agrees_with_django_for_every_header_shape(header):
    for etag in ('"a"', 'W/"a"'):
        django_says_modified = _if_none_match_passes(etag, parse_etags(header))
        assert is_fresh(header, etag) is (bool(header) and not django_says_modified)


def test_a_weak_tag_is_marked_weak_and_follows_its_parts():
    assert etag_of("x", weak=True) == "W/" + etag_of("x")
    assert etag_of("x") != etag_of("y")
    assert etag_of(None) != etag_of("")
