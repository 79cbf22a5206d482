#!/usr/bin/env python3
"""Drives the credvault web console in a real headless Chromium: Debian's /usr/bin/chromium,
through Playwright (never a browser that Playwright downloads).

Run by tests/api/console.rs, which starts the server and sets up its users and credentials:

    console_e2e.py SCENARIO < world.json

`world.json` holds the server's base URL and what the scenario needs (API keys, ids, key file
paths). Each scenario checks one part of the console and ends with the checks every page
visit must pass: no request left the server's origin, no script error, no API key in any URL,
in localStorage or in a cookie. A scenario prints `RESULT <json>` for the Rust test to check
further (a minted token, a new API key), and exits 1 naming the first check that failed.

Screenshots go to $CONSOLE_SCREENSHOTS when it is set (the test run sets docs/console).
"""

import json
import os
import re
import sys
import urllib.request
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

CHROMIUM = os.environ.get("CREDVAULT_TEST_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium tries Google's hosts at start; the
# sandbox needs privileges the test may not have.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Chromium logs every 4xx answer to a fetch as a console error; the scenarios cause some on
# purpose (a wrong key, a bad payload). Anything else in the console is a failure.
EXPECTED_CONSOLE = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d")


class Console:
    """One browser tab on the console, recording what the checks at the end look at."""

    def __init__(self, playwright, world):
        self.world = world
        self.base = world["base"].rstrip("/")
        self.browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        self.context = self.browser.new_context(base_url=self.base, viewport={"width": 1280, "height": 860})
        self.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=self.base)
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.requests = []
        self.urls = []
        self.problems = []
        self.page.on("request", lambda r: self.requests.append((r.method, r.url)))
        self.page.on("framenavigated", lambda f: self.urls.append(f.url))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("console", self._console)
        self.page.on("dialog", lambda d: self.problems.append(f"unexpected browser dialog: {d.message}"))
        self.shots = os.environ.get("CONSOLE_SCREENSHOTS")

    def _console(self, message):
        if message.type in ("error", "warning") and not EXPECTED_CONSOLE.search(message.text):
            self.problems.append(f"console {message.type}: {message.text}")

    # -- helpers the scenarios share ---------------------------------------------------------

    def field(self, name):
        """The control whose name is the API field `name`."""
        return self.page.locator(f'[name="{name}"]:visible')

    def error_of(self, name):
        """The error shown next to the control named `name`."""
        control = self.field(name)
        return self.page.locator(f"#{control.get_attribute('id')}-error")

    def button(self, label):
        return self.page.get_by_role("button", name=label, exact=True)

    def heading(self, text):
        return self.page.get_by_role("heading", level=1, name=text)

    def sign_in(self, key):
        self.page.goto("/")
        expect(self.heading("Sign in to credvault")).to_be_visible()
        self.field("api_key").fill(key)
        self.button("Sign in").click()
        expect(self.heading("Credentials")).to_be_visible()

    def status(self):
        return self.page.locator("#status")

    def screenshot(self, name):
        if self.shots:
            Path(self.shots).mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(Path(self.shots) / f"{name}.png"), full_page=True)

    def posts_to(self, path):
        return [u for m, u in self.requests if m == "POST" and u.split("?")[0].endswith(path)]

    # -- the checks every scenario ends with ---------------------------------------------------

    def finish(self):
        off_origin = [u for _, u in self.requests if not (u == self.base or u.startswith(self.base + "/"))]
        check(not off_origin, f"requests left the server's origin: {off_origin}")
        check(not self.problems, "the console had problems:\n  " + "\n  ".join(self.problems))
        keys = [k for k in self.world.get("keys", {}).values() if k]
        for url in [u for _, u in self.requests] + self.urls:
            check(not any(k in url for k in keys), f"an API key is in a URL: {url}")
        check(self.page.evaluate("localStorage.length") == 0, "the console wrote to localStorage")
        check(self.context.cookies() == [], f"the console set cookies: {self.context.cookies()}")
        self.browser.close()


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def api_call(method, url, key):
    """A request made by the test itself, outside the browser."""
    request = urllib.request.Request(url, method=method, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request) as response:
        return response.status


def result(value):
    print("RESULT " + json.dumps(value), flush=True)


# -- scenarios ----------------------------------------------------------------------------------


def journey(c):
    """Sign in, list, create with a bad then a good payload, reload, mint, rotate, delete."""
    w = c.world
    page = c.page
    page.goto("/")
    expect(c.heading("Sign in to credvault")).to_be_visible()
    c.screenshot("sign-in")
    c.field("api_key").fill("cvk_not_a_key_of_this_server")
    c.button("Sign in").click()
    expect(c.error_of("api_key")).to_have_text("This API key is unknown or revoked.")
    check(page.evaluate("sessionStorage.length") == 0, "a refused key stayed in sessionStorage")

    c.field("api_key").fill(w["keys"]["team_admin"])
    c.button("Sign in").click()
    expect(c.heading("Credentials")).to_be_visible()
    check(page.evaluate("Object.values(sessionStorage)") == [w["keys"]["team_admin"]], "the key is not kept for the tab")

    c.button("New credential").click()
    expect(c.heading("New credential")).to_be_visible()
    check(page.url == f"{c.base}/credentials/new", page.url)
    c.field("name").fill("Payments API")
    c.field("jwt_algorithm").select_option("RS256")
    page.set_input_files("#key-file-create", w["rsa_key_file"])
    expect(c.field("jwt_private_key")).to_have_value(Path(w["rsa_key_file"]).read_text())
    c.field("jwt_payload").fill('{"sub": "payments", ')
    c.field("expires_at").fill("2031-06-30T12:00")
    c.button("Create").click()
    expect(c.error_of("jwt_payload")).to_contain_text("The payload is not valid JSON")
    check(c.posts_to("/api/v1/user_credentials") == [], "a payload that is not JSON was sent")
    c.field("jwt_payload").fill('["not", "an", "object"]')
    c.button("Create").click()
    expect(c.error_of("jwt_payload")).to_have_text('The payload must be a JSON object, like {"sub": "me"}')

    # An error only the API can find (an RSA key for ES256) is shown next to the key.
    c.field("jwt_payload").fill('{"sub": "payments", "aud": "https://pay.example.com"}')
    c.field("jwt_algorithm").select_option("ES256")
    c.button("Create").click()
    expect(c.error_of("jwt_private_key")).to_contain_text("ES256")
    expect(c.field("jwt_private_key")).to_have_attribute("aria-invalid", "true")
    check(len(c.posts_to("/api/v1/user_credentials")) == 1, "the form was not sent to the API")
    c.screenshot("create-error")

    c.field("jwt_algorithm").select_option("RS256")
    c.button("Create").click()
    expect(c.heading("Payments API")).to_be_visible()
    expect(c.status()).to_have_text("Credential “Payments API” created.")
    match = re.fullmatch(re.escape(c.base) + r"/credentials/(\d+)", page.url)
    check(match, f"not on the credential's page: {page.url}")
    credential_id = int(match.group(1))

    page.reload()
    expect(c.heading("Payments API")).to_be_visible()
    details = page.locator("dl.details").first
    expect(details).to_contain_text("payments_api")
    expect(details).to_contain_text("2031")
    issuer = page.locator("dd", has=page.get_by_role("button", name="Copy issuer URL")).locator("code")
    expect(issuer).to_have_text(re.compile(re.escape(c.base) + r"/issuers/[A-Za-z0-9_-]{22,}$"))
    key_id = page.locator("dt:text-is('Key id') + dd").inner_text()
    check(page.get_by_text("BEGIN PRIVATE KEY").count() == 0, "the private key is shown on the page")
    c.button("Copy JWKS URL").click()
    expect(c.status()).to_have_text("JWKS URL copied.")
    check(page.evaluate("navigator.clipboard.readText()") == issuer.inner_text() + "/jwks.json", "the JWKS URL was not copied")
    c.screenshot("credential")

    c.button("Mint token").click()
    claims = json.loads(page.locator("#token-claims").inner_text())
    header = json.loads(page.locator("#token-header").inner_text())
    check(claims["sub"] == "payments" and claims["aud"] == "https://pay.example.com", f"claims: {claims}")
    check(claims["exp"] - claims["iat"] == 3600, f"claims: {claims}")
    check(claims["iss"] == issuer.inner_text(), f"claims: {claims}")
    check(header == {"alg": "RS256", "typ": "JWT", "kid": key_id}, f"header: {header}")
    token = page.locator("#minted-token").input_value()
    c.screenshot("mint")

    c.button("Rotate key").click()
    expect(c.status()).to_contain_text("Key rotated")
    expect(page.locator("dt:text-is('Key id') + dd")).not_to_have_text(key_id)
    rotated_key_id = page.locator("dt:text-is('Key id') + dd").inner_text()

    c.button("Delete").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Delete the credential “Payments API”?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(c.heading("Payments API")).to_be_visible()
    c.button("Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(c.heading("Credentials")).to_be_visible()
    expect(c.status()).to_have_text("Credential “Payments API” deleted.")
    check(page.url == f"{c.base}/", page.url)
    expect(page.get_by_role("link", name="Payments API")).to_have_count(0)
    c.finish()
    result({"id": credential_id, "token": token, "key_id": key_id, "rotated_key_id": rotated_key_id})


def list_page(c):
    """The list: expiry warnings, last use, the API's filters, search, and a link per credential."""
    w = c.world
    page = c.page
    c.sign_in(w["keys"]["editor"])
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(4)
    soon = page.locator("tr", has=page.get_by_role("link", name="Expiring soon"))
    expect(soon.locator(".expires-soon")).to_contain_text("in 9 d")
    later = page.locator("tr", has=page.get_by_role("link", name="Long lived"))
    expect(later.locator(".expires-soon")).to_have_count(0)
    expect(later).to_contain_text("in 89 d")
    restricted = page.locator("tr", has=page.get_by_role("link", name="Partner webhook"))
    expect(restricted).to_contain_text("Restricted (2)")
    used = page.locator("tr", has=page.get_by_role("link", name="In use"))
    expect(used.locator("td").last).not_to_have_text("never")
    expect(later.locator("td").last).to_have_text("never")
    c.screenshot("credentials")

    c.field("filter").select_option("RESTRICTED")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Partner webhook")
    check("filter=RESTRICTED" in page.url, page.url)
    page.reload()
    expect(rows).to_have_count(1)
    c.field("filter").select_option("UNUSED_IN_ACTIONS")
    expect(rows).to_have_count(3)
    expect(page.get_by_role("link", name="In use")).to_have_count(0)
    c.field("filter").select_option("")
    expect(rows).to_have_count(4)
    c.field("q").fill("LONG")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Long lived")
    c.field("q").fill("nothing like this")
    expect(page.get_by_text("No credential matches.")).to_be_visible()
    c.field("q").fill("")
    page.get_by_role("link", name="Expiring soon").click()
    expect(c.heading("Expiring soon")).to_be_visible()
    reminders = page.locator("section", has=page.get_by_role("heading", name="Expiry notifications")).locator("tbody tr")
    expect(reminders).to_have_count(1)
    expect(reminders).to_contain_text("30 d before")
    page.go_back()
    expect(c.heading("Credentials")).to_be_visible()
    page.get_by_role("link", name="Partner webhook").click()
    expect(c.heading("Partner webhook")).to_be_visible()
    check(page.url == f"{c.base}/credentials/{w['restricted_id']}", page.url)
    c.finish()


def editor(c):
    """An editor: no admin pages, a refused delete explained, a test credential attached and
    minted from, then signing out forgets the key."""
    w = c.world
    page = c.page
    c.sign_in(w["keys"]["editor"])
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Credentials")).to_be_visible()
    expect(nav.get_by_role("link", name="Users")).to_have_count(0)
    page.goto("/users")
    expect(c.heading("Page not found")).to_be_visible()

    page.goto(f"/credentials/{w['credential_id']}")
    expect(c.heading("Signing service")).to_be_visible()
    c.button("Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(c.status()).to_contain_text("Not deleted:")
    expect(c.status()).to_contain_text("TEAM_ADMIN")

    page.get_by_text("Attach a test credential").click()
    form = page.locator("form", has=page.get_by_role("button", name="Attach test credential"))
    form.locator('[name="jwt_generate_key"]').check()
    form.locator('[name="jwt_payload"]').fill('{"sub": "signing-test"}')
    page.get_by_role("button", name="Attach test credential").click()
    expect(c.status()).to_have_text("Test credential attached.")
    c.field("test").check()
    c.button("Mint token").click()
    claims = json.loads(page.locator("#token-claims").inner_text())
    check(claims["sub"] == "signing-test", f"the test credential's claims: {claims}")
    expect(page.locator(".minted h3").first).to_contain_text("test credential")

    page.get_by_role("link", name="Edit", exact=True).click()
    expect(c.heading("Edit Signing service")).to_be_visible()
    expect(c.field("jwt_private_key")).to_have_value("")
    c.field("description").fill("Signs requests to the ledger")
    c.field("allowed_hosts").fill("ledger.example.com\n*.ledger.example.com")
    c.button("Save changes").click()
    expect(c.status()).to_have_text("Changes saved.")
    expect(page.locator("dl.details").first).to_contain_text("Signs requests to the ledger")
    expect(page.locator("dl.details").first).to_contain_text("*.ledger.example.com")
    c.button("Mint token").click()
    expect(page.locator("form.mint .form-errors")).to_contain_text("allowed")
    c.field("url").fill("https://api.ledger.example.com/v1/entries")
    c.button("Mint token").click()
    expect(page.locator("#token-claims")).to_contain_text('"sub": "signing"')

    c.button("Sign out").click()
    expect(c.heading("Sign in to credvault")).to_be_visible()
    check(page.evaluate("sessionStorage.length") == 0, "signing out left the key in sessionStorage")
    page.goto(f"/credentials/{w['credential_id']}")
    expect(c.heading("Sign in to credvault")).to_be_visible()
    c.finish()


def admin(c):
    """A tenant admin: users (with a new API key), teams and memberships, the audit log."""
    w = c.world
    page = c.page
    c.sign_in(w["keys"]["owner"])
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Users").click()
    expect(c.heading("Users")).to_be_visible()
    c.field("email").fill("not-an-email")
    c.button("Create user").click()
    expect(c.error_of("email")).to_contain_text("email")
    c.field("email").fill("new.person@example.com")
    c.field("first_name").fill("New")
    c.field("last_name").fill("Person")
    c.button("Create user").click()
    expect(c.status()).to_have_text("User new.person@example.com created.")
    c.button("Create API key for new.person@example.com").click()
    new_key = page.locator("#new-api-key").input_value()
    check(new_key.startswith("cvk_"), f"not an API key: {new_key!r}")
    c.screenshot("users")

    nav.get_by_role("link", name="Teams").click()
    expect(c.heading("Teams")).to_be_visible()
    c.field("name").fill("Platform")
    c.button("Create team").click()
    expect(c.status()).to_have_text("Team Platform created.")
    c.field("team_id").select_option(label="Platform")
    c.field("user_id").select_option(label="new.person@example.com")
    c.field("role").select_option("EDITOR")
    c.button("Invite member").click()
    expect(c.status()).to_have_text("new.person@example.com is now EDITOR of the team.")
    c.screenshot("teams")

    nav.get_by_role("link", name="Audit log").click()
    expect(c.heading("Audit log")).to_be_visible()
    rows = page.locator("tbody tr")
    expect(rows.first).to_contain_text("TeamMemberInvitation")
    expect(page.locator("tbody")).to_contain_text("UserCreation")
    c.screenshot("audit-log")
    c.field("operation_name").fill("TeamCreation")
    c.button("Filter").click()
    expect(rows).to_have_count(w["team_creations"] + 1)
    for text in rows.all_inner_texts():
        check("TeamCreation" in text, f"a row the filter should have left out: {text}")
    c.finish()
    result({"api_key": new_key})


def keyboard(c):
    """Keyboard only: tab to the key, Enter signs in, the focus is visible, every control has a
    label and a name."""
    w = c.world
    page = c.page
    page.goto("/")
    expect(c.heading("Sign in to credvault")).to_be_visible()
    for _ in range(10):
        if page.evaluate("document.activeElement.name") == "api_key":
            break
        page.keyboard.press("Tab")
    check(page.evaluate("document.activeElement.name") == "api_key", "Tab never reached the API key field")
    page.keyboard.type(w["keys"]["editor"])
    page.keyboard.press("Enter")
    expect(c.heading("Credentials")).to_be_visible()

    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    width = page.evaluate("parseFloat(getComputedStyle(document.activeElement).outlineWidth)")
    check(outline != "none" and width >= 2, f"the focused element shows no focus ring ({outline}, {width}px)")

    page.goto("/credentials/new")
    expect(c.heading("New credential")).to_be_visible()
    unlabelled = page.evaluate("""[...document.querySelectorAll('main input:not([type=hidden]), main select, main textarea')]
        .filter(el => el.labels.length === 0).map(el => el.name || el.id)""")
    check(unlabelled == [], f"controls without a label: {unlabelled}")
    names = set(page.evaluate("[...document.querySelectorAll('main [name]')].map(el => el.name)"))
    wanted = {"name", "mode", "team_id", "jwt_algorithm", "jwt_payload", "jwt_private_key", "expires_at",
              "allowed_hosts", "jwt_generate_key", "value", "description"}
    check(wanted <= names, f"fields missing or misnamed: {sorted(wanted - names)}")
    c.field("mode").select_option("TEXT")
    expect(c.field("jwt_payload")).to_have_count(0)
    c.field("name").fill("Pager token")
    c.button("Create").click()
    expect(c.error_of("value")).to_have_text("Enter the secret value.")
    c.field("value").fill(w["text_value"])
    c.button("Create").click()
    expect(c.heading("Pager token")).to_be_visible()
    expect(page.locator("dl.details").first).to_contain_text("TEXT")
    check(w["text_value"] not in page.content(), "the secret value is on the credential's page")
    expect(c.button("Mint token")).to_have_count(0)
    page.get_by_role("link", name="Edit", exact=True).click()
    expect(c.field("value")).to_have_value("")
    check(w["text_value"] not in page.content(), "the secret value is in the edit form")
    c.finish()


def revoked(c):
    """A user deactivated while signed in is sent back to sign in, and the tab forgets the key."""
    w = c.world
    page = c.page
    c.sign_in(w["keys"]["editor"])
    check(api_call("DELETE", f"{c.base}/api/v1/admin/users/{w['editor_id']}", w["keys"]["owner"]) == 204, "not deactivated")
    c.button("New credential").click()
    expect(c.heading("Sign in to credvault")).to_be_visible()
    expect(c.status()).to_have_text("Your API key is no longer accepted; sign in again.")
    check(page.evaluate("sessionStorage.length") == 0, "the refused key stayed in sessionStorage")
    # The same when the tab is reloaded with a key revoked since.
    # Signing in again goes on where the tab was.
    c.field("api_key").fill(w["keys"]["team_admin"])
    c.button("Sign in").click()
    expect(c.heading("New credential")).to_be_visible()
    check(api_call("DELETE", f"{c.base}/api/v1/admin/users/{w['team_admin_id']}", w["keys"]["owner"]) == 204, "not deactivated")
    page.reload()
    expect(c.heading("Sign in to credvault")).to_be_visible()
    expect(c.status()).to_have_text("Your API key is no longer accepted; sign in again.")
    check(page.evaluate("sessionStorage.length") == 0, "the revoked key stayed in sessionStorage")
    c.finish()


SCENARIOS = {"revoked": revoked, "journey": journey, "list": list_page, "editor": editor, "admin": admin, "keyboard": keyboard}


def main():
    scenario = SCENARIOS[sys.argv[1]]
    world = json.load(sys.stdin)
    with sync_playwright() as playwright:
        console = Console(playwright, world)
        try:
            scenario(console)
        except Exception:
            # Keep what the page showed when it failed, for the reader of the test's output.
            failed = Path(world["failure_dir"]) / f"console-{sys.argv[1]}-failure.png"
            console.page.screenshot(path=str(failed), full_page=True)
            print(f"the page when the check failed: {failed}", file=sys.stderr)
            print("problems seen:", console.problems, file=sys.stderr)
            raise


if __name__ == "__main__":
    main()
