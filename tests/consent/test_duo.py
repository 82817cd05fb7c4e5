"""consent.duo, the one home of the DUO codes, checked against the shipped DUO release."""

from consent import duo
from consent import vocabulary as vocab


def test_every_code_and_shorthand_is_the_one_duo_gives() -> None:
    # The shipped duo.json is built from EBISPOT/DUO's release, not from this module.
    for code, shorthand in duo.ABBREVIATIONS.items():
        assert vocab.duo_term(code).shorthand == shorthand, code


def test_the_groups_sit_where_duo_puts_them() -> None:
    assert {vocab.duo_term(code).kind for code in duo.PERMISSIONS} == {"permission"}
    assert {vocab.duo_term(code).kind for code in duo.MODIFIERS} == {"modifier"}
    assert {vocab.duo_term(code).kind for code in duo.RESEARCH_TYPES} == {"research_type"}
    assert duo.PRIMARY_PURPOSES == duo.PERMISSIONS - {duo.NRES}
    assert duo.DUTY_CODES | duo.REVIEW_CODES <= duo.MODIFIERS
    assert set(duo.VALUE_CODES) <= duo.MODIFIERS
    assert duo.RESEARCH_TYPES_IN_ORDER == tuple(sorted(duo.RESEARCH_TYPES))
    assert len(duo.RESEARCH_TYPES_IN_ORDER) == 10


def test_the_module_names_each_code_once() -> None:
    codes = [
        value for name, value in vars(duo).items() if name.isupper() and isinstance(value, str)
    ]
    assert len(codes) == len(set(codes)) == 5 + 18 + 10
    assert set(duo.ABBREVIATIONS) == duo.PERMISSIONS | duo.MODIFIERS
