"""The web UI in a real headless Chromium against a real dev server and SDK worker.

Each test starts its own server; pages are screenshotted as they are checked
(the ``screenshot`` fixture; the folder is printed at the end of the run).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest
from ui_support import QUEUE, BackgroundWorker, Server, running_server

try:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:  # the dev extra brings it; where browsers are required, its absence fails
    if os.environ.get("DW_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("selenium is not installed (pip install -e '.[dev]')", allow_module_level=True)

pytestmark = pytest.mark.timeout(120)


def wait(browser: Any, seconds: float = 15) -> WebDriverWait:
    return WebDriverWait(browser, seconds)


def css(browser: Any, selector: str) -> Any:
    return wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, selector)))


def run_url(url: str, workflow_id: str, run_id: str, ns: str = "default") -> str:
    return f"{url}/ui/workflow?ns={ns}&id={workflow_id}&run={run_id}"


def submit(browser: Any, action: str, **fields: str) -> None:
    """Fill and submit the ``data-action`` form on the page (accepting its confirm, if any)."""
    form = css(browser, f'form[data-action="{action}"]')
    for name, value in fields.items():
        box = form.find_element(By.NAME, name)
        box.clear()
        box.send_keys(value)
    asks = form.get_attribute("data-confirm")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    if asks:
        wait(browser).until(ec.alert_is_present()).accept()
    wait(browser).until(ec.staleness_of(form))


def flash(browser: Any) -> str:
    return str(css(browser, "[data-flash]").text)


def sign_in(browser: Any, url: str, token: str) -> None:
    browser.get(url + "/ui/login")
    box = css(browser, "input[name=token]")
    box.send_keys(token)
    box.submit()
    # The next page replaces this one: wait for it, or a following browser.get() could
    # cut the sign-in short before its session cookie lands (a race under load).
    wait(browser).until(ec.staleness_of(box))


def test_a_started_workflow_appears_in_the_list_and_auto_refresh_can_pause(
    browser: Any, screenshot: Any
) -> None:
    with running_server() as url:
        server = Server(url, None)
        first = server.start("ui-order", "order-1001", input=["order-1001", 42])
        browser.get(url + "/")  # the root redirects to the UI
        assert browser.current_url.startswith(url + "/ui/workflows")
        row = css(browser, 'tr[data-workflow-id="order-1001"]')
        status = server.describe("order-1001")["status"]
        assert "ui-order" in row.text and status in row.text and QUEUE in row.text
        count = css(browser, f'[data-count="{status}"]')
        assert count.text == "1"
        link = row.find_element(By.TAG_NAME, "a")
        assert first["run_id"] in str(link.get_attribute("href"))
        screenshot("workflows")

        # Auto-refresh brings a workflow started after the page loaded, without a reload.
        server.start("ui-order", "order-1002", input=["order-1002", 7])
        css(browser, 'tr[data-workflow-id="order-1002"]')
        assert css(browser, '[data-count="all"]').text == "2"

        # Paused, the page stays as it is (and says so); the choice survives a reload.
        css(browser, "[data-refresh-toggle]").click()
        assert "paused" in css(browser, "[data-refresh-state]").text
        browser.refresh()
        assert "paused" in css(browser, "[data-refresh-state]").text
        server.start("ui-order", "order-1003", input=["order-1003", 1])
        time.sleep(6)  # longer than one refresh period
        assert not browser.find_elements(By.CSS_SELECTOR, 'tr[data-workflow-id="order-1003"]')
        css(browser, "[data-refresh-toggle]").click()
        css(browser, 'tr[data-workflow-id="order-1003"]')

        # Filters: by id prefix and by status.
        browser.get(url + "/ui/workflows?prefix=order-100&status=completed")
        assert "No workflows match" in css(browser, "table[data-workflows]").text
        browser.get(url + "/ui/workflows?prefix=order-1002")
        rows = browser.find_elements(By.CSS_SELECTOR, "tr[data-workflow-id]")
        assert [r.get_attribute("data-workflow-id") for r in rows] == ["order-1002"]


def test_the_run_page_shows_the_activity_on_the_timeline_after_the_worker_ran_it(
    browser: Any, screenshot: Any
) -> None:
    with running_server() as url, BackgroundWorker(url, None):
        server = Server(url, None)
        started = server.start("ui-order", "order-2001", input=["order-2001", 99])
        server.wait_for("order-2001", started["run_id"], "ConditionWaitOpened")
        browser.get(run_url(url, "order-2001", started["run_id"]))
        lane = css(browser, '[data-lane][data-kind="activity"]')
        assert "charge" in lane.find_element(By.CSS_SELECTOR, "[data-lane-label]").text
        assert lane.get_attribute("data-status") == "completed"
        attempts = lane.find_elements(By.CSS_SELECTOR, "[data-segment]")
        assert [a.get_attribute("data-segment") for a in attempts] == ["retried", "completed"]
        assert "attempt 1: card declined for order-2001" in attempts[0].text
        assert lane.find_elements(By.CSS_SELECTOR, "svg rect.seg")
        failure = css(browser, "[data-failure]")
        assert "card declined for order-2001" in failure.text and "Traceback" in failure.text
        assert '"order-2001"' in css(browser, "[data-input]").text  # the Avro input, decoded
        assert css(browser, "[data-condition-waits]")  # what the run waits on now
        # Each event's JSON is there on demand.
        event = css(browser, '[data-event-type="ActivityCompleted"]')
        assert not event.find_element(By.CSS_SELECTOR, "pre.json").is_displayed()
        event.find_element(By.TAG_NAME, "summary").click()
        raw = event.find_element(By.CSS_SELECTOR, "pre.json")
        assert json.loads(raw.text)["activity_type"] == "charge"
        assert '"charged": 99' in event.text  # the result, decoded next to the raw event
        screenshot("workflow-running")


def test_signal_query_and_update_from_the_ui_drive_the_workflow(
    browser: Any, screenshot: Any
) -> None:
    with running_server() as url, BackgroundWorker(url, None):
        server = Server(url, None)
        started = server.start("ui-order", "order-3001", input=["order-3001", 5])
        run_id = started["run_id"]
        server.wait_for("order-3001", run_id, "ConditionWaitOpened")
        browser.get(run_url(url, "order-3001", run_id))

        submit(browser, "update", name="add_note", args='["gift wrap"]')
        assert "Update add_note: update_completed" in flash(browser)
        assert css(browser, "[data-flash] pre").text == "1"

        submit(browser, "query", name="state")
        answer = json.loads(css(browser, "[data-flash] pre").text)
        assert answer == {"approved_by": None, "notes": ["gift wrap"]}
        screenshot("workflow-query")

        submit(browser, "signal", name="approve", args='["alice"]')
        assert "Signal approve" in flash(browser)
        done = server.wait_status("order-3001", "completed")
        assert done["output"]["approved_by"] == "alice"
        browser.refresh()
        assert "completed" in css(browser, "h1").text
        result = json.loads(css(browser, "[data-result] pre").text)
        assert result["approved_by"] == "alice" and result["notes"] == ["gift wrap"]
        # A closed run still answers queries; nothing else is offered.
        offered = browser.find_elements(By.CSS_SELECTOR, "form[data-action]")
        assert [f.get_attribute("data-action") for f in offered] == ["query"]
        screenshot("workflow")

        # A bad argument list is reported, not sent.
        browser.get(run_url(url, "order-3001", run_id))
        submit(browser, "query", name="state", args="[not json")
        assert "not valid JSON" in flash(browser)


def test_destructive_actions_ask_first(browser: Any) -> None:
    with running_server() as url:
        server = Server(url, None)
        started = server.start("ui-order", "order-4001", input=["order-4001", 5])
        browser.get(run_url(url, "order-4001", started["run_id"]))
        form = css(browser, 'form[data-action="terminate"]')
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait(browser).until(ec.alert_is_present()).dismiss()
        assert server.describe("order-4001")["status"] != "terminated"
        submit(browser, "terminate", reason="stuck in test")
        assert "Terminate: " in flash(browser)
        assert server.describe("order-4001")["status"] == "terminated"


def test_a_read_only_token_sees_no_actions_and_a_forged_post_is_refused(
    browser: Any, screenshot: Any
) -> None:
    tokens = {"operator_token": "op-secret", "viewer_token": "view-secret"}
    with running_server(**tokens) as url:
        server = Server(url, "op-secret")
        started = server.start("ui-order", "order-5001", input=["order-5001", 5])
        page = run_url(url, "order-5001", started["run_id"])

        browser.get(page)  # not signed in: sent to the sign-in page
        assert "/ui/login" in browser.current_url
        screenshot("login")
        sign_in(browser, url, "wrong-token")
        assert "not accepted" in css(browser, "[data-error]").text
        sign_in(browser, url, "view-secret")
        css(browser, "table[data-workflows]")
        assert "viewer (read-only)" in css(browser, ".who").text

        browser.get(page)
        css(browser, "[data-timeline]")
        assert not browser.find_elements(By.CSS_SELECTOR, "[data-actions]")
        assert not browser.find_elements(By.CSS_SELECTOR, "form[data-action]")
        screenshot("workflow-read-only")
        forged = browser.execute_async_script(
            """
            const done = arguments[arguments.length - 1];
            const csrf = document.querySelector('input[name=csrf]').value;
            const body = new URLSearchParams({csrf: csrf, ns: 'default', id: arguments[0],
                                              run: arguments[1], reason: 'forged'});
            fetch('/ui/workflow/terminate', {method: 'POST', body: body})
              .then(r => r.text().then(t => done([r.status, t])));
            """,
            "order-5001",
            started["run_id"],
        )
        assert forged[0] == 403 and "may not terminate" in forged[1]
        assert server.describe("order-5001")["status"] != "terminated"

        # Signed out and in again with the operator token, the actions are there.
        css(browser, "button.link").click()
        wait(browser).until(ec.url_contains("/ui/login"))
        sign_in(browser, url, "op-secret")
        browser.get(page)
        css(browser, 'form[data-action="terminate"]')
        assert css(browser, ".who").text == "operator"


def test_markup_from_workflows_is_shown_as_text(browser: Any, screenshot: Any) -> None:
    markup = "<script>window.__xss=1</script>"
    image = '<img src=x onerror="window.__xss=2">'
    with running_server() as url:
        server = Server(url, None)
        started = server.start(
            markup,
            "escape-1",
            task_queue=image,
            business_key=image,
            input=[markup, {"html": image}],
            memo={"note": markup},
            search_attributes={"Tag": markup},
        )
        browser.get(url + "/ui/workflows")
        row = css(browser, 'tr[data-workflow-id="escape-1"]')
        assert markup in row.text and image in row.text
        browser.get(run_url(url, "escape-1", started["run_id"]))
        assert markup in css(browser, "[data-input]").text
        assert markup in css(browser, "[data-memo]").text
        assert markup in css(browser, "[data-search-attributes]").text
        browser.get(url + "/ui/task-queues")
        assert image in css(browser, "table[data-task-queues]").text
        screenshot("escaped")
        assert browser.execute_script("return window.__xss === undefined")
        assert not browser.find_elements(By.CSS_SELECTOR, "main img")


def test_schedules_pause_resume_and_trigger(browser: Any, screenshot: Any) -> None:
    with running_server() as url:
        server = Server(url, None)
        created = server.api(
            "POST",
            "/schedules",
            json={
                "schedule_id": "nightly-report",
                "spec": {"cron_expressions": ["0 3 * * *"]},
                "action": {"workflow_type": "ui-order", "task_queue": QUEUE, "input": ["s", 1]},
                "note": "every night",
            },
        )
        assert created.status_code == 201, created.text
        browser.get(url + "/ui/schedules")
        row = css(browser, 'tr[data-schedule-id="nightly-report"]')
        assert "active" in row.text and "ui-order" in row.text
        screenshot("schedules")
        submit(browser, "pause")
        assert "paused" in css(browser, 'tr[data-schedule-id="nightly-report"]').text
        assert server.api("GET", "/schedules/nightly-report").json()["status"] == "paused"

        css(browser, 'tr[data-schedule-id="nightly-report"] a').click()
        submit(browser, "resume")
        assert "Resume: " in flash(browser)
        submit(browser, "trigger")
        assert "Trigger: " in flash(browser)
        link = css(browser, "[data-recent-runs] a")
        started = server.describe(link.text)
        assert started["workflow_type"] == "ui-order"
        screenshot("schedule")


def test_task_queues_workers_and_the_namespace_switcher(browser: Any, screenshot: Any) -> None:
    with running_server() as url, BackgroundWorker(url, None):
        server = Server(url, None)
        assert server.api("POST", "/namespaces", json={"name": "billing"}).status_code == 201
        started = server.start("ui-order", "order-6001", input=["order-6001", 3])
        server.wait_for("order-6001", started["run_id"], "ConditionWaitOpened")

        browser.get(url + "/ui/task-queues")
        row = css(browser, f'tr[data-queue="{QUEUE}"]')
        screenshot("task-queues")
        row.find_element(By.TAG_NAME, "a").click()
        pollers = css(browser, "table[data-pollers]")
        assert "ui-order" in pollers.text and "charge" in pollers.text
        screenshot("task-queue")

        browser.get(url + "/ui/workers")
        worker = css(browser, "tr[data-worker]")
        assert QUEUE in worker.text and "ui-order" in worker.text and "charge" in worker.text
        screenshot("workers")

        browser.get(url + "/ui/namespaces")
        assert css(browser, 'tr[data-namespace="billing"]')
        screenshot("namespaces")
        Select(css(browser, "select[name=ns]")).select_by_value("billing")
        wait(browser).until(lambda b: "ns=billing" in b.current_url)
        assert "in billing" in css(browser, "h1").text
        assert "No workflows match" in css(browser, "table[data-workflows]").text
