"""The console in a real browser (headless Chromium): after a scripted session (a sign-up, a
document, an email, an upload, a recorded turn) each view shows it, an edit made in the page is
what the client reads, updates arrive without a reload, nothing stored runs as script, and no
request leaves the machine. Screenshots go to build/test-artifacts/console/.

The emulator is the pytest plugin's (``lumi_emulator``), so the plugin's emulator serves the
console too.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import png
import pytest

from lumi.emulator import Emulator
from lumi.events import Tracker

from .browser import collect, console_errors, drain, screenshot

XSS_MARK = "__lumi_xss"
SCRIPT = f"<script>window.{XSS_MARK}=1</script>"
IMG = f'<img src="x" onerror="window.{XSS_MARK}=2">'
PROJECT = "p_test"


def wait_for(check: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def png_bytes() -> bytes:
    """An 8x8 RGB PNG."""
    out = io.BytesIO()
    rows = [[v for x in range(8) for v in ((x * 32) % 256, (y * 32) % 256, 128)] for y in range(8)]
    png.Writer(8, 8, greyscale=False).write(out, rows)
    return out.getvalue()


def scripted_session(emu: Emulator, client: Any, tmp_path: Path) -> dict[str, Any]:
    """What an app does: users sign up, documents, mail, an upload and a recorded turn."""
    client.auth.send_otp(email="ann@example.com", type="register")
    client.auth.sign_up_with_password(
        email="ann@example.com",
        password="pw",
        otp=emu.latest_otp("ann@example.com"),
        user_name=SCRIPT,
    )
    client.auth.send_otp(email="pending@example.com", type="register")  # a code left unused
    book = client.entities.Books.create({"title": SCRIPT + IMG, "year": 1965, "n": 1})
    other = client.entities.Books.create({"title": "Emma", "year": 1815, "n": 2})
    client.tools.email.send(
        to="ann@example.com",
        subject="Welcome " + IMG,
        html=(
            f"<h1>Hello from the outbox</h1>{SCRIPT}<p>body</p>"
            '<img src="http://203.0.113.9/pixel.png" alt="remote">'
            f"<script>parent.{XSS_MARK}=3</script>"
        ),
        text="Plain text part " + SCRIPT,
    )
    upload = client.tools.file.upload(
        [("cover.png", png_bytes(), "image/png"), (IMG + ".txt", b"notes", "text/plain")]
    )
    tracker = Tracker(
        write_key="gi_console",
        endpoint=emu.url,
        sync_mode=True,
        identity_path=tmp_path / "identity.json",
    )
    try:
        session = tracker.session.start()
        with session.turn() as turn:
            turn.record_tool("search_kb", lambda: ["doc1"], {"type": "http", "target": "kb"})
            turn.add_retrieval(
                {
                    "source": "kb",
                    "query": "capital",
                    "results": [{"id": "doc1", "score": 0.9, "content": IMG}],
                }
            )
            answer = turn.wrap_llm(lambda: "Paris", {"model": "gpt-test", "prompt_id": "geo-v1"})
            turn.set_messages(
                [
                    {"role": "user", "content": "Capital? " + SCRIPT},
                    {"role": "assistant", "content": answer},
                ]
            )
            turn.annotate({"tokens": 42, "note": IMG})
        failing = session.turn()
        with contextlib.suppress(RuntimeError):
            failing.wrap_llm(_fail, model="gpt-test")
        failing.finish()
        assert tracker.flush(timeout=10)
    finally:
        tracker.shutdown(timeout=5)
    return {"book": book, "other": other, "session": session.session_id, "upload": upload}


def _fail() -> str:
    raise RuntimeError("model unavailable " + SCRIPT)


def open_view(driver: Any, name: str) -> None:
    """Go to a view through the navigation bar, by its visible name."""
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, "header nav").find_element(By.LINK_TEXT, name).click()
    wait_for(lambda: driver.find_element(By.TAG_NAME, "h1").text == name, f"the {name} view")


def assert_no_script_ran(driver: Any) -> None:
    from selenium.webdriver.common.by import By

    assert driver.execute_script(f"return window.{XSS_MARK} === undefined")
    assert driver.find_elements(By.CSS_SELECTOR, 'img[src="x"]') == []
    assert driver.find_elements(By.CSS_SELECTOR, "main script") == []


def assert_labelled(driver: Any) -> None:
    """Every visible form control has a label or an aria-label."""
    unlabelled = driver.execute_script(
        """
        return Array.from(document.querySelectorAll('input, select, textarea'))
          .filter(el => el.type !== 'hidden')
          .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
          .map(el => el.outerHTML);
        """
    )
    assert unlabelled == []


def test_console_in_a_browser(
    browser: Any, lumi_emulator: Emulator, lumi_client: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    driver = browser
    drain(driver)
    emu = lumi_emulator
    made = scripted_session(emu, lumi_client, tmp_path)
    book, session_id = made["book"], made["session"]

    driver.get(emu.console_url)  # sets the cookie, then /_emulator/ui/ -> Entities
    wait_for(lambda: driver.find_element(By.TAG_NAME, "h1").text == "Entities", "the console")
    assert "token" not in driver.current_url  # the login URL is left behind
    assert driver.get_cookies() and all(c["httpOnly"] for c in driver.get_cookies())

    # Keyboard: the first Tab reaches the skip link, then the navigation bar.
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert driver.switch_to.active_element.text == "Skip to content"
    driver.switch_to.active_element.send_keys(Keys.TAB)
    assert driver.switch_to.active_element.text == "Entities"

    # Entities: project and entity, a filtered table, the document's page, an edit.
    main = driver.find_element(By.TAG_NAME, "main")
    assert PROJECT in main.text and "Books" in main.text
    main.find_element(By.LINK_TEXT, "Books").click()
    wait_for(lambda: "Documents 1 to 2 of 2" in driver.page_source, "the Books table")
    assert SCRIPT + IMG in driver.find_element(By.TAG_NAME, "table").text  # shown as text
    assert_no_script_ran(driver)
    assert_labelled(driver)
    screenshot(driver, "entities")
    filter_box = driver.find_element(By.ID, "filter")
    filter_box.send_keys('{"year": {"$gt": 1900}}')
    driver.find_element(By.ID, "sort").send_keys("-year")
    filter_box.submit()
    wait_for(lambda: "Documents 1 to 1 of 1" in driver.page_source, "the filtered table")
    driver.find_element(By.LINK_TEXT, book.id).click()
    editor = wait_for(lambda: driver.find_elements(By.ID, "document-editor"), "the editor")[0]
    document = json.loads(editor.get_attribute("value"))
    assert document["title"] == SCRIPT + IMG
    document["title"] = "Dune, edited in the console"
    document["rating"] = 4.5
    del document["n"]
    editor.clear()
    editor.send_keys(json.dumps(document))
    driver.find_element(By.XPATH, "//button[text()='Save']").click()
    wait_for(lambda: "Saved." in driver.page_source, "the save")
    again = lumi_client.entities.Books.get(book.id)
    assert again.title == "Dune, edited in the console" and again.rating == 4.5
    assert "n" not in again
    screenshot(driver, "document")
    # Delete (the page asks first), then the table no longer lists it.
    driver.find_element(By.XPATH, "//button[text()='Delete this document']").click()
    driver.switch_to.alert.accept()
    wait_for(lambda: f"Deleted document {book.id}." in driver.page_source, "the delete")
    assert [b.id for b in lumi_client.entities.Books.list().list] == [made["other"].id]

    # Users: the user and role, a role change, the pending code.
    open_view(driver, "Users")
    table = driver.find_element(By.ID, "users-table")
    assert "ann@example.com" in table.text and SCRIPT in table.text
    codes = driver.find_element(By.ID, "codes-table").text
    assert "pending@example.com" in codes and emu.latest_otp("pending@example.com") in codes
    assert_labelled(driver)
    select = Select(driver.find_element(By.CSS_SELECTOR, "#users-table select"))
    assert select.first_selected_option.text == "ADMIN"
    select.select_by_visible_text("USER")
    driver.find_element(By.CSS_SELECTOR, "#users-table button").click()
    wait_for(lambda: "ann@example.com is now USER." in driver.page_source, "the role change")
    assert [u["userRole"] for u in emu.users(PROJECT) if u["email"] == "ann@example.com"] == [
        "USER"
    ]
    screenshot(driver, "users")

    # Outbox: the list, then the message: recipients, text, the HTML in its sandboxed frame.
    open_view(driver, "Outbox")
    assert "Welcome " + IMG in driver.find_element(By.ID, "outbox-table").text
    assert_no_script_ran(driver)
    screenshot(driver, "outbox")
    driver.find_element(By.PARTIAL_LINK_TEXT, "Welcome").click()
    wait_for(lambda: driver.find_elements(By.ID, "mail-html"), "the message")
    assert driver.find_element(By.ID, "message-to").text == "ann@example.com"
    assert driver.find_element(By.ID, "mail-text").text == "Plain text part " + SCRIPT
    frame = driver.find_element(By.ID, "mail-html")
    assert frame.get_attribute("sandbox") == ""
    driver.switch_to.frame(frame)
    assert "Hello from the outbox" in driver.find_element(By.TAG_NAME, "body").text
    assert driver.execute_script(f"return window.{XSS_MARK} === undefined")
    driver.switch_to.default_content()
    assert_no_script_ran(driver)
    screenshot(driver, "message")

    # Files: both uploads, sizes and types, the image's preview.
    open_view(driver, "Files")
    files_text = driver.find_element(By.ID, "files-table").text
    assert "cover.png" in files_text and "image/png" in files_text and "text/plain" in files_text
    preview = driver.find_element(By.CSS_SELECTOR, "#files-table img")
    wait_for(
        lambda: driver.execute_script("return arguments[0].naturalWidth", preview) == 8,
        "the preview",
    )
    screenshot(driver, "files")

    # Events: the session, the charts, then the session's timeline.
    open_view(driver, "Events")
    sessions = driver.find_element(By.ID, "sessions-table")
    assert session_id in sessions.text
    for chart in ("latency", "distribution", "errors", "rate"):
        figure = driver.find_element(By.ID, f"chart-{chart}")
        assert figure.find_elements(By.CSS_SELECTOR, "svg circle, svg rect"), chart
    assert "1 of 2 turns failed (50%)" in driver.page_source
    screenshot(driver, "events")
    sessions.find_element(By.LINK_TEXT, session_id).click()
    wait_for(lambda: "Session" in driver.find_element(By.TAG_NAME, "h1").text, "the session")
    timeline = driver.find_element(By.CSS_SELECTOR, "ol.timeline").text
    for shown in (
        "Turn 1",
        "Turn 2",
        "Capital? " + SCRIPT,
        "Paris",
        "search_kb",
        "kb",
        "geo-v1",
        '"tokens": 42',
        "RuntimeError",
    ):
        assert shown in timeline, shown
    assert driver.find_elements(By.CSS_SELECTOR, "svg.gantt rect.llm")
    assert_no_script_ran(driver)
    screenshot(driver, "session")

    # Live: a new email appears in the open Outbox view without a reload.
    open_view(driver, "Outbox")
    driver.execute_script("window.__same_page = true")
    lumi_client.tools.email.send(to="bob@example.com", subject="Arrives live", text="hi")
    wait_for(
        lambda: "Arrives live" in driver.find_element(By.TAG_NAME, "main").text, "the live update"
    )
    assert driver.execute_script("return window.__same_page === true")  # no reload happened

    # Nothing left the machine, and no page broke its policy or logged an error.
    traffic = collect(driver)
    assert traffic.made(), "the performance log recorded no request"
    assert traffic.off_machine() == []
    assert console_errors(driver) == []


def test_the_console_refuses_a_browser_without_the_cookie(
    browser: Any, lumi_emulator: Emulator
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(lumi_emulator.console_url)  # signed in ...
    driver.delete_all_cookies()  # ... and out again (from a page under the cookie's path)
    assert driver.get_cookies() == []
    driver.get(lumi_emulator.url + "/_emulator/ui/entities")
    body = driver.find_element(By.TAG_NAME, "body").text
    assert "private emulator route" in body and "Entities" not in body
    driver.get(lumi_emulator.login_url("/_emulator/ui/").replace("token=", "token=wrong"))
    assert "wrong for this run" in driver.find_element(By.TAG_NAME, "body").text
    assert driver.get_cookies() == []
    screenshot(driver, "refused")


@pytest.mark.parametrize("view", ["entities", "users", "outbox", "files", "events"])
def test_every_view_renders_empty(browser: Any, lumi_emulator: Emulator, view: str) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    drain(driver)
    driver.get(lumi_emulator.console_url)
    driver.get(lumi_emulator.url + f"/_emulator/ui/{view}")
    main = driver.find_element(By.TAG_NAME, "main")
    assert main.find_elements(By.CSS_SELECTOR, ".empty"), view
    assert_labelled(driver)
    assert console_errors(driver) == []
    assert collect(driver).off_machine() == []
