import json
from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: dict | None, key: Any) -> Any:
    return (mapping or {}).get(key)


@register.filter
def jsonattr(value: Any) -> str:
    """A value as JSON for a data-* attribute (the template escapes it)."""
    return json.dumps(value)


@register.filter
def mondo_terms(value: Any) -> list[tuple[str, str]]:
    """A disease answer (a list, or the text of ids the form holds) as (id, label) pairs, for
    the picker to name what is chosen; unknown ids are named by themselves."""
    from consent import vocabulary

    if isinstance(value, str):
        value = value.replace(",", " ").split()
    terms = []
    for curie in value or ():
        curie = str(curie).strip().upper()
        label = vocabulary.mondo_label(curie) if vocabulary.is_mondo(curie) else ""
        terms.append((curie, label))
    return terms
