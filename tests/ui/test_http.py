"""The web UI over plain HTTP: routing, headers, cookies, CSRF, roles, escaping, filters.

These need no browser; they pin what the browser tests rely on, byte for byte.
"""

from __future__ import annotations

import contextlib
import html
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from ui_support import QUEUE, BackgroundWorker, Server, running_server

TOKENS = {"operator_token": "op-secret", "viewer_token": "view-secret", "worker_token": "wk"}


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF field on the page"
    return found.group(1)


@contextlib.contextmanager
def signed_in(url: str, token: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url, timeout=30) as client:
        form = client.get("/ui/login")
        answer = client.post("/ui/login", data={"csrf": csrf_of(form.text), "token": token})
        assert answer.status_code == 303, answer.text
        yield client


def test_the_root_and_ui_paths_redirect_to_the_workflow_list() -> None:
    with running_server() as url:
        assert httpx.get(url + "/").headers["location"] == "/ui/"
        assert httpx.get(url + "/ui").headers["location"] == "/ui/"
        assert httpx.get(url + "/ui/").headers["location"] == "/ui/workflows?ns=default"
        assert httpx.get(url + "/api/health").status_code == 200  # the API is untouched


def test_pages_carry_a_strict_policy_and_an_httponly_samesite_cookie() -> None:
    with running_server() as url:
        page = httpx.get(url + "/ui/workflows")
        assert page.status_code == 200
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert page.headers["x-frame-options"] == "DENY"
        cookie = page.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/ui" in cookie
        script = httpx.get(url + "/ui/static/ui.js")
        assert script.status_code == 200 and "data-confirm" in script.text


def test_a_post_without_the_session_csrf_token_is_refused() -> None:
    with running_server() as url:
        server = Server(url, None)
        run = server.start("ui-order", "csrf-1", input=["csrf-1", 1])["run_id"]
        with httpx.Client(base_url=url) as browser:
            page = browser.get(f"/ui/workflow?id=csrf-1&run={run}")
            form = {"ns": "default", "id": "csrf-1", "run": run}
            other_session = csrf_of(httpx.get(url + f"/ui/workflow?id=csrf-1&run={run}").text)
            for token in (None, "forged", other_session):
                data = form if token is None else {**form, "csrf": token}
                refused = browser.post("/ui/workflow/terminate", data=data)
                assert refused.status_code == 403 and "CSRF" in refused.text
            assert server.describe("csrf-1")["status"] != "terminated"
            done = browser.post("/ui/workflow/terminate", data={**form, "csrf": csrf_of(page.text)})
            assert done.status_code == 303
        assert server.describe("csrf-1")["status"] == "terminated"


def test_values_from_workflows_are_escaped_in_the_html() -> None:
    markup = "<script>alert(1)</script>"
    with running_server() as url:
        server = Server(url, None)
        run = server.start(markup, "esc-1", business_key=markup, input=[markup])["run_id"]
        for path in ("/ui/workflows", f"/ui/workflow?id=esc-1&run={run}", "/ui/task-queues"):
            page = httpx.get(url + path).text
            assert "<script>alert" not in page, path
        page = httpx.get(url + f"/ui/workflow?id=esc-1&run={run}").text
        assert html.escape(markup, quote=False) in page


def test_roles_decide_sign_in_what_is_offered_and_what_is_accepted() -> None:
    with running_server(**TOKENS) as url:
        server = Server(url, "op-secret")
        run = server.start("ui-order", "role-1", input=["role-1", 1])["run_id"]
        page_path = f"/ui/workflow?id=role-1&run={run}"
        anonymous = httpx.get(url + page_path)
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith(
            "/ui/login"
        )
        with httpx.Client(base_url=url) as client:
            form = client.get("/ui/login")
            for token in ("wk", "nope"):  # the worker role may not read workflows
                refused = client.post(
                    "/ui/login", data={"csrf": csrf_of(form.text), "token": token}
                )
                assert refused.status_code == 401
        # The viewer token is the UI's alone: the API refuses it.
        api = httpx.get(url + "/api/workflows", headers={"Authorization": "Bearer view-secret"})
        assert api.status_code == 401

        with signed_in(url, "view-secret") as viewer:
            page = viewer.get(page_path)
            assert page.status_code == 200 and "data-action=" not in page.text
            form = {"csrf": csrf_of(page.text), "ns": "default", "id": "role-1", "run": run}
            for action in ("terminate", "cancel", "signal"):
                forged = viewer.post(f"/ui/workflow/{action}", data={**form, "name": "approve"})
                assert forged.status_code == 403 and "may not" in forged.text
            assert server.describe("role-1")["status"] != "terminated"
            assert viewer.post("/ui/schedule/pause", data={**form}).status_code == 403

        with signed_in(url, "op-secret") as operator:
            page = operator.get(page_path)
            assert 'data-action="terminate"' in page.text
            form = {"csrf": csrf_of(page.text), "ns": "default", "id": "role-1", "run": run}
            assert operator.post("/ui/workflow/cancel", data=form).status_code == 303
        assert server.describe("role-1")["status"] == "cancelled"


def test_sign_in_rotates_the_session_and_never_redirects_off_the_ui() -> None:
    with running_server(**TOKENS) as url, httpx.Client(base_url=url) as client:
        form = client.get("/ui/login")
        before = client.cookies["dw_ui_session"]
        answer = client.post(
            "/ui/login",
            data={
                "csrf": csrf_of(form.text),
                "token": "op-secret",
                "next": "https://evil.example/",
            },
        )
        assert answer.headers["location"] == "/ui/workflows"
        assert client.cookies["dw_ui_session"] != before
        out = client.post("/ui/logout", data={"csrf": csrf_of(client.get("/ui/workflows").text)})
        assert out.status_code == 303
        assert client.get("/ui/workflows").status_code == 303  # signed out


def test_unknown_things_are_pages_not_server_errors() -> None:
    with running_server() as url:
        missing = httpx.get(url + "/ui/workflow?id=nope&run=nope")
        assert missing.status_code == 404 and "not found" in missing.text.lower()
        assert httpx.get(url + "/ui/workflows?ns=nowhere").status_code == 404
        assert httpx.get(url + "/ui/schedule?id=nope").status_code == 404
        odd = httpx.get(url + "/ui/workflows?status=bogus&page=abc&sa=novalue")
        assert odd.status_code == 200
        assert "Unknown status [bogus]" in odd.text and "Key=Value" in odd.text


def test_list_filters_counts_and_pages() -> None:
    with running_server() as url:
        server = Server(url, None)
        for n in range(53):
            server.start(
                "bulk" if n % 2 else "other",
                f"bulk-{n:03d}",
                task_queue=QUEUE if n < 50 else "side-queue",
                search_attributes={"Region": "eu" if n % 3 == 0 else "us", "Tags": ["a", f"t{n}"]},
            )

        def ids(query: str) -> list[str]:
            page = httpx.get(url + "/ui/workflows?" + query)
            assert page.status_code == 200, page.text
            return re.findall(r'data-workflow-id="([^"]+)"', page.text)

        first, second = ids(""), ids("page=2")
        assert len(first) == 50 and len(second) == 3 and not set(first) & set(second)
        assert first[0] == "bulk-052"  # newest first
        assert ids("queue=side-queue") == ["bulk-052", "bulk-051", "bulk-050"]
        assert set(ids("type=bulk&queue=side-queue")) == {"bulk-051"}
        assert ids("prefix=bulk-00") == [f"bulk-00{n}" for n in range(9, -1, -1)]
        assert len(ids("sa=Region%3Deu&page=1")) == 18
        assert ids("sa=Tags%3Dt7") == ["bulk-007"]  # a list attribute holding the value
        assert ids("status=completed") == []
        counts = httpx.get(url + "/ui/workflows").text
        assert re.search(r'data-count="all">53<', counts)


def test_the_run_page_links_the_run_chain_parent_and_children() -> None:
    with running_server() as url, BackgroundWorker(url, None):
        server = Server(url, None)
        first = server.start("ui-batch", "batch-1", input=[0])["run_id"]
        final = server.wait_status("batch-1", "completed")
        assert final["run_id"] != first

        def links(page: str, section: str) -> list[str]:
            part = page.split(section, 1)[1].split("</section>", 1)[0]
            return [html.unescape(h) for h in re.findall(r'href="(/ui/workflow\?[^"]+)"', part)]

        older = httpx.get(url + f"/ui/workflow?id=batch-1&run={first}").text
        chain = links(older, "data-chain")
        assert any(f"run={final['run_id']}" in link for link in chain)  # continued to
        child_link = links(older, "data-children")[0]
        child = httpx.get(url + child_link).text
        assert "ui-ship" in child and f"run={first}" in links(child, "data-chain")[0]  # parent
        newer = httpx.get(url + f"/ui/workflow?id=batch-1&run={final['run_id']}").text
        assert f"run={first}" in links(newer, "data-chain")[0]  # continued from
        assert "shipped batch-1" in newer  # the result, decoded


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.timeout(60)
def test_start_dev_prints_the_ui_url_and_serves_it(tmp_path: Path) -> None:
    port = _free_port()
    command = [sys.executable, "-m", "durable_workflow.cli", "server", "start-dev", "--port",
               str(port), "--db", str(tmp_path / "dev.sqlite"), "--admin-token", "adm",
               "--viewer-token", "view"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        lines = []
        while not lines or not lines[-1].startswith("Press Ctrl-C"):
            lines.append(process.stdout.readline().rstrip())
            assert process.poll() is None, lines
        banner = "\n".join(lines)
        ui = f"http://127.0.0.1:{port}/ui/"
        assert f"web UI: {ui}" in banner and "viewer token (web UI, read-only): set" in banner
        assert "view\n" not in banner + "\n"  # tokens are never printed
        deadline = time.monotonic() + 10
        while True:
            try:
                answer = httpx.get(ui, follow_redirects=True)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert answer.status_code == 200 and "Sign in" in answer.text
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()
    alone = subprocess.run(
        [*command[:-4], "--viewer-token", "view"], capture_output=True, text=True, timeout=30
    )
    assert alone.returncode == 2 and "--viewer-token needs" in alone.stderr
