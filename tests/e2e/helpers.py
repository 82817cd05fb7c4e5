"""A person in a browser: signs in, switches language, checks each page with axe-core."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import polib

from tests.e2e.conftest import AXE, PASSWORD, ROOT

PO = ROOT / "locale" / "nl" / "LC_MESSAGES" / "django.po"
SERIOUS = ("serious", "critical")


@cache
def english_sentences() -> frozenset[str]:
    """English msgids of four words or more that Dutch translates differently: if one shows up
    verbatim on a Dutch page, a string escaped translation."""
    found = set()
    for entry in polib.pofile(str(PO)):
        if entry.msgid_plural or not entry.msgstr or entry.msgstr == entry.msgid:
            continue
        for part in re.split(r"%\(\w+\)[sd]|<[^>]+>|\{[^}]*\}", entry.msgid):
            part = part.strip(" .:,;—")
            if len(part.split()) >= 4:
                found.add(part)
    return frozenset(found)


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

    def step(self, name: str, *, check: bool = True):
        """Keep a screenshot of this step; run axe and the translation check on the page."""
        self.page.wait_for_load_state("load")
        who = self.email.split("@")[0] or "public"
        self.shots.append((f"{self.lang}-{who}-{name}", self.page.screenshot(full_page=True)))
        if check:
            self.check_accessible(name)
            if self.lang == "nl":
                self.check_translated(name)

    def switch_language(self):
        """With the selector in the header, as a visitor would (it posts to /i18n/setlang/)."""
        self.page.select_option("select#language", self.lang)
        with self.page.expect_navigation():
            self.page.click("form.lang-switch button[type=submit]")
        assert self.page.locator("html").get_attribute("lang") == self.lang

    def sign_in(self, email: str):
        self.email = email
        self.goto("/")
        self.switch_language()
        self.goto("/accounts/login/")
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

    def check_translated(self, name: str):
        text = " ".join(self.page.inner_text("body").split())
        leaked = sorted(s for s in english_sentences() if s in text)
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


def axe_file() -> Path:
    return AXE
