"""A person in a browser: signs in, switches language, checks each page with axe-core."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import polib

from tests.e2e.conftest import AXE, PASSWORD, ROOT

PO = ROOT / "locale" / "nl" / "LC_MESSAGES" / "django.po"
SERIOUS = ("serious", "critical")
#: A shot of every step, kept when the test fails: ``LIFES_E2E_STEP_SHOTS=1`` (while chasing a
#: failure). Without it a failing test keeps each person's last page, in full (conftest.py);
#: the step shots cost a tenth of the browser tests' time.
STEP_SHOTS = bool(os.environ.get("LIFES_E2E_STEP_SHOTS"))


#: English that may stand on a Dutch page although the catalogue translates it, each for a
#: reason that holds in both languages. Keep it short; a new entry needs its reason.
SAME_IN_DUTCH: frozenset[str] = frozenset()


def _english_parts() -> list[str]:
    """The English text of every msgid the Dutch catalogue translates differently, cut at its
    placeholders and tags (``%(name)s``, ``{x}``, ``<em>``): the words a page shows. What a
    msgid quotes as ``<code>`` (a command, a path) is the same in every language: left out."""
    parts = []
    for entry in polib.pofile(str(PO)):
        if entry.msgid_plural or not entry.msgstr or entry.msgstr == entry.msgid:
            continue
        msgid = re.sub(r"<code>.*?</code>", "<code/>", entry.msgid, flags=re.S)
        for part in re.split(r"%\(\w+\)[sd]|%[sd]|<[^>]+>|\{[^}]*\}", msgid):
            part = " ".join(part.split()).strip(" .:,;—?!()")
            if len(part.split()) >= 2 and part not in SAME_IN_DUTCH:
                parts.append(part)
    return parts


@cache
def english_sentences() -> frozenset[str]:
    """English msgid text of three words or more that Dutch translates differently: found
    anywhere in a Dutch page's text (as whole words), a string escaped translation."""
    return frozenset(p for p in _english_parts() if len(p.split()) >= 3)


@cache
def english_labels() -> frozenset[str]:
    """English msgid text of two words ("Request access", "Signed in") that Dutch translates
    differently. Two words are common inside longer English that people typed, so a label
    counts only when it is the whole text of an element, a text node or a label attribute."""
    return frozenset(p for p in _english_parts() if len(p.split()) == 2)


@cache
def _sentence_pattern() -> re.Pattern:
    words = sorted(english_sentences(), key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)")


#: Regions of the hub's pages that show what people typed, in the language they typed it (the
#: demo's and the tests' are English): request titles and answers, comments and the boards'
#: reasons, data-use terms and dataset descriptions, which templates mark ``data-typed``; and
#: form fields, whose values are the person's own. The Dutch check leaves them out.
USER_TEXT = "[data-typed], textarea, input"


#: Every text a person reads on the page: each text node, each element's rendered text (but of
#: an element holding a skipped region), the labels read aloud or shown in fields, and button
#: values; nothing inside ``skip`` (a CSS selector for regions of text people typed, which may
#: be English on a Dutch page).
PAGE_TEXTS_JS = """skip => {
  const texts = new Set();
  const add = t => { t = (t || '').replace(/\\s+/g, ' ').trim(); if (t) texts.add(t); };
  const ignored = e => e.closest('script, style, template, noscript')
    || (skip && e.closest(skip));
  for (const e of document.body.querySelectorAll('*')) {
    if (ignored(e)) continue;
    if (!(skip && e.querySelector(skip))) add(e.innerText);
    for (const n of e.childNodes) if (n.nodeType === 3) add(n.textContent);
    for (const a of ['aria-label', 'placeholder', 'title', 'alt']) add(e.getAttribute(a));
    if (e.matches('input[type=submit], input[type=button]')) add(e.value);
  }
  return Array.from(texts);
}"""


def english_on_page(page, *, skip: str = USER_TEXT) -> list[str]:
    """The English msgids on ``page`` (a Playwright page shown in Dutch): sentences of three
    words or more found as whole words, and two-word labels that are an element's whole text."""
    texts = page.evaluate(PAGE_TEXTS_JS, skip or None)
    found = set()
    labels = english_labels()
    for text in texts:
        if text.strip(" .:,;—?!()*") in labels:
            found.add(text.strip(" .:,;—?!()*"))
        found.update(_sentence_pattern().findall(text))
    return sorted(found)


@dataclass
class Person:
    """One role in its own browser context (own cookies, own language)."""

    browser: object
    base: str
    lang: str
    shots: list
    email: str = ""
    problems: dict = field(default_factory=dict)
    viewport: dict = field(default_factory=lambda: {"width": 1280, "height": 900})

    def __post_init__(self):
        # bypass_csp: axe-core is injected as an inline script, which the hub's CSP forbids
        # (tests/test_headers.py checks the policy itself).
        self.context = self.browser.new_context(
            viewport=self.viewport, accept_downloads=True, locale="en-GB", bypass_csp=True
        )
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()

    def close(self):
        self.context.close()

    # -- navigation ---------------------------------------------------------------------------
    def goto(self, path: str):
        self.page.goto(self.base + path)
        self.page.wait_for_load_state("domcontentloaded")

    def step(self, name: str, *, check: bool = True, skip: str = USER_TEXT):
        """Run axe and the translation check on the page (``skip``: regions of text people
        typed, left out of the translation check), and keep a shot of it with ``STEP_SHOTS``,
        of the viewport: a full-page shot costs up to 2 s a page in Chromium, 40 times
        as much, and a failing test keeps each person's last page in full (conftest.py)."""
        self.page.wait_for_load_state("load")
        if STEP_SHOTS:
            who = self.email.split("@")[0] or "public"
            self.shots.append((f"{self.lang}-{who}-{name}", self.page.screenshot()))
        if check:
            self.check_accessible(name)
            if self.lang == "nl":
                self.check_translated(name, skip=skip)

    def switch_language(self):
        """With the selector in the header, as a visitor would (it posts to /i18n/setlang/)."""
        self.page.select_option("select#language", self.lang)
        with self.page.expect_navigation():
            self.page.click("form.lang-switch button[type=submit]")
        assert self.page.locator("html").get_attribute("lang") == self.lang

    def sign_in(self, email: str):
        """In this person's language, set as the language selector sets it (its cookie): the
        selector itself is used by the visitors of test_register_public, test_invitation and
        test_journey_polish; going through it at every sign-in cost a second each."""
        from django.conf import settings

        self.email = email
        self.context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": self.lang, "url": self.base}]
        )
        self.goto("/accounts/login/")
        assert self.page.locator("html").get_attribute("lang") == self.lang
        self.page.fill("input[name=username]", email)
        self.page.fill("input[name=password]", PASSWORD)
        with self.page.expect_navigation():
            self.page.click("main form button[type=submit]")
        assert "/accounts/login/" not in self.page.url, self.page.inner_text("main")
        if "/accounts/2fa/" in self.page.url:
            self.second_factor()

    def second_factor(self):
        """Deciders type the code of their authenticator (the demo key of seed_demo). A code is
        accepted once: signing in again within its 30 s, the phone shows the next one."""
        from demo.world import demo_totp_code

        for steps_ahead in (0, 1):
            self.page.fill("input[name=code]", demo_totp_code(steps_ahead=steps_ahead))
            with self.page.expect_navigation():
                self.page.click("main form button[type=submit]")
            if "/accounts/2fa/" not in self.page.url:
                return
        raise AssertionError(self.page.inner_text("main"))

    def submit(self, selector: str):
        """Click a submit button and wait for the page that answers."""
        with self.page.expect_navigation():
            self.page.click(selector)
        self.page.wait_for_load_state("load")

    # -- checks -------------------------------------------------------------------------------
    def check_accessible(self, name: str):
        self.page.add_script_tag(path=str(AXE))
        result = self.page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
        )
        serious = [v for v in result if v["impact"] in SERIOUS]
        if serious:
            for v in serious:
                v.pop("help", None)
            self.problems.setdefault("axe", []).append((name, self.page.url, serious))

    def check_translated(self, name: str, *, skip: str = USER_TEXT):
        """No English msgid on this Dutch page (see ``english_on_page``); ``skip`` names the
        regions of text people typed, which may well be English."""
        leaked = english_on_page(self.page, skip=skip)
        if leaked:
            self.problems.setdefault("english", []).append((name, self.page.url, leaked))


def small_pdf() -> bytes:
    """A minimal valid one-page PDF, generated here rather than kept as a binary fixture."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


#: What nodes may put in a receipt at its longest (permits/services/nodes.py): a dataset id of
#: 100 characters and a reason of 64, neither with a space to break at; digests are 71.
LONG_DATASET = "leiden-diabetes-cohort-" + "x" * 77
LONG_REASON = "disclosure_control_refused_" + "y" * 37
LONG_JTI = "receipt-" + "z" * 92


def runs_recorded(permit, folder: Path, *, count: int = 6) -> int:
    """Several signed receipts for ``permit`` from its node, through the services the node API
    calls (``receipt_record``, ``run_output_upload``): succeeded runs with their released
    output uploaded, refused and failed ones, with the longest values a receipt may carry. The
    permit page's receipts table and run results then have rows to lay out. Returns how many
    receipts were stored."""
    import hashlib
    import json
    import uuid

    from django.conf import settings

    from catalogue.models import Node
    from catalogue.services import node_public_key_set
    from lifes_node.keys import generate_private_key, public_jwk, write_private_key
    from lifes_node.receipt import NodeSigner, receipt_claims
    from permits.services import receipt_record, run_output_upload

    entry = permit.permit_datasets.select_related("dataset").order_by("pk").first()
    node = Node.objects.get(identifier=entry.node_identifier)
    key = generate_private_key()
    folder.mkdir(parents=True, exist_ok=True)
    write_private_key(key, folder / f"{node.identifier}.key")
    node_public_key_set(actor=None, node=node, jwk=public_jwk(key))
    signer = NodeSigner.from_file(folder / f"{node.identifier}.key")
    algorithm = permit.permit_algorithms.order_by("pk").first()
    for n in range(count):
        status = ("succeeded", "refused", "failed")[n % 3]
        output = json.dumps({"run": n, "tables": [{"name": "bmi_by_sex", "cells": []}]}).encode()
        claims = receipt_claims(
            node_id=node.identifier,
            hub_url=settings.HUB_URL,
            receipt={
                "permit": permit.number,
                "permit_jti": str(permit.jti),
                "dataset": entry.dataset.slug if n % 2 else LONG_DATASET,
                "algorithm_digest": algorithm.digest if algorithm else None,
                "started_at": "2026-12-01T10:00:00Z",
                "ended_at": "2026-12-01T10:00:03Z",
                "cohort_version": 1,
                "cohort_digest": "sha256:" + hashlib.sha256(b"cohort%d" % n).hexdigest(),
                "cohort_size": 60 + n,
                "output_digest": "sha256:" + hashlib.sha256(output).hexdigest()
                if status == "succeeded"
                else None,
                "disclosure": {"passed": status == "succeeded", "reason": None, "details": []},
                "status": status,
                "reason": None if status == "succeeded" else LONG_REASON,
            },
        )
        claims["jti"] = f"{LONG_JTI[:60]}-{uuid.uuid4()}"[:100]
        token = signer.sign(claims)
        if status == "succeeded":
            run_output_upload(
                actor=node.identity, token=token, data=output, content_type="application/json"
            )
        else:
            receipt_record(actor=node.identity, token=token)
    return count


def axe_file() -> Path:
    return AXE
