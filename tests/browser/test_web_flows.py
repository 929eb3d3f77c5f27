"""End-to-end flows in a real browser: the call console, the portal form, the desk, and the refusals."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Dialog, FilePayload, Page, expect

from tests.browser.conftest import LiveApp
from tests.support.web_app import AGENT_NAME, AGENT_PASSWORD, PORTAL_TOKEN, as_json, portal_link, submission

pytestmark = pytest.mark.system
REFERENCE = re.compile(r"HZ-\d{4}-\d{6}")
XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
TIMEOUT_MS = 10_000


async def log_in(page: Page, app: LiveApp, password: str = AGENT_PASSWORD) -> None:
    await page.goto(f"{app.base_url}/agent/login")
    await page.fill("#name", AGENT_NAME)
    await page.fill("#password", password)
    await page.click("button[type=submit]")


async def test_call_portal_desk_and_first_contact(browser: Browser, live_app: LiveApp, artifacts: Path) -> None:
    agent = await (await browser.new_context(locale="pl-PL")).new_page()
    await agent.goto(f"{live_app.base_url}/agent/login")
    await agent.screenshot(path=artifacts / "login.png", full_page=True)
    await log_in(agent, live_app)
    await expect(agent).to_have_url(re.compile(r"/desk/$"), timeout=TIMEOUT_MS)

    await agent.click("text=Nowa rozmowa")
    await agent.fill("#caller_number", "0-12 345 67 89")
    await agent.fill("#caller_name", "Piotr Zieliński")
    await agent.fill("#notes", "Przełącznik w szafie B restartuje się, S/N: 2214g-00417")
    # Recognised while typing, before anything is submitted.
    await expect(agent.locator("#recognised-serials")).to_have_text("2214G-00417", timeout=TIMEOUT_MS)
    await expect(agent.locator("#recognised-phone")).to_have_text("+48123456789", timeout=TIMEOUT_MS)
    await agent.screenshot(path=artifacts / "call-console.png", full_page=True)
    await agent.click("text=Zapisz rozmowę")
    call_reference = await agent.locator("#reference").text_content(timeout=TIMEOUT_MS)
    assert call_reference and REFERENCE.fullmatch(call_reference)
    await agent.screenshot(path=artifacts / "call-logged.png", full_page=True)

    reporter = await (await browser.new_context(locale="pl-PL")).new_page()
    await reporter.goto(live_app.base_url + portal_link())
    await expect(reporter).to_have_url(re.compile(r"/portal/$"), timeout=TIMEOUT_MS)
    await reporter.fill("#subject", "Awaria zasilacza")
    await reporter.fill("#description", "Zasilacz PSU2 nie działa od rana.")
    await reporter.fill("#contract_number", "40027719")
    show_tech: FilePayload = {"name": "show_tech.txt", "mimeType": "text/plain", "buffer": b"Serial: 2214G-00999\n"}
    await reporter.set_input_files("#attachments", files=[show_tech])
    await reporter.screenshot(path=artifacts / "portal-form.png", full_page=True)
    await reporter.click("text=Wyślij zgłoszenie")
    portal_reference = await reporter.locator("#reference").text_content(timeout=TIMEOUT_MS)
    assert portal_reference and REFERENCE.fullmatch(portal_reference)
    await reporter.screenshot(path=artifacts / "portal-done.png", full_page=True)

    await agent.goto(f"{live_app.base_url}/desk/")
    table = agent.locator("#desk-table")
    await expect(table).to_contain_text(call_reference, timeout=TIMEOUT_MS)
    await expect(table).to_contain_text(portal_reference, timeout=TIMEOUT_MS)
    await expect(agent.locator(f"tr[data-reference='{portal_reference}'] td.countdown")).to_have_text(
        re.compile(r"^\d+:\d\d(:\d\d)?$"), timeout=TIMEOUT_MS
    )
    await agent.screenshot(path=artifacts / "desk.png", full_page=True)

    await agent.click(f"text={portal_reference}")
    await expect(agent.get_by_role("link", name="show_tech.txt")).to_be_visible(timeout=TIMEOUT_MS)
    await agent.click("#first-contact-button")
    await expect(agent.locator("#first-contact")).to_have_text(
        re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d"), timeout=TIMEOUT_MS
    )
    await agent.screenshot(path=artifacts / "request.png", full_page=True)


async def test_wrong_password_and_missing_csrf_are_refused(
    browser: Browser, live_app: LiveApp, artifacts: Path
) -> None:
    page = await (await browser.new_context()).new_page()
    await log_in(page, live_app, password="not the password")
    await expect(page.locator("#login-error")).to_be_visible(timeout=TIMEOUT_MS)
    await page.screenshot(path=artifacts / "login-wrong-password.png", full_page=True)

    await page.fill("#name", AGENT_NAME)
    await page.fill("#password", AGENT_PASSWORD)
    await page.locator("input[name=csrf_token]").evaluate("input => input.remove()")
    await page.click("button[type=submit]")
    await expect(page.locator("p.error")).to_contain_text("Formularz wygasł", timeout=TIMEOUT_MS)
    await page.screenshot(path=artifacts / "csrf-missing.png", full_page=True)
    await page.goto(f"{live_app.base_url}/desk/")
    await expect(page).to_have_url(re.compile(r"/agent/login\?next=/desk/$"), timeout=TIMEOUT_MS)


async def test_a_script_in_a_description_is_shown_as_text(browser: Browser, live_app: LiveApp, artifacts: Path) -> None:
    context = await browser.new_context()
    response = await context.request.post(
        f"{live_app.base_url}/api/v1/portal/submissions",
        data=as_json(submission("P-xss", description=XSS, subject=XSS)),
        headers={"Authorization": f"Bearer {PORTAL_TOKEN}", "Content-Type": "application/json"},
    )
    assert response.status == 202
    reference = (await response.json())["reference"]
    page = await context.new_page()
    dialogs: list[str] = []

    async def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", dismiss)
    await log_in(page, live_app)
    await expect(page.locator("#desk-table")).to_contain_text(XSS, timeout=TIMEOUT_MS)
    await page.goto(f"{live_app.base_url}/desk/requests/{reference}")
    await expect(page.locator("#description")).to_have_text(XSS, timeout=TIMEOUT_MS)
    assert await page.locator("main img").count() == 0
    await page.screenshot(path=artifacts / "xss-as-text.png", full_page=True)
    assert dialogs == []


async def test_a_visitor_opening_the_desk_gets_the_login(browser: Browser, live_app: LiveApp, artifacts: Path) -> None:
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{live_app.base_url}/desk/?lang=en")
    await expect(page).to_have_url(re.compile(r"/agent/login\?next=/desk/&lang=en$"), timeout=TIMEOUT_MS)
    await expect(page.locator("h1")).to_have_text("Agent login", timeout=TIMEOUT_MS)
    await page.goto(f"{live_app.base_url}/portal/")
    await expect(page.locator("p.error")).to_contain_text("myHEZO.pl", timeout=TIMEOUT_MS)
    await page.screenshot(path=artifacts / "portal-without-link.png", full_page=True)
