"""The UI's forms (POST): sign-in, sign-out and the actions on runs and schedules.

Each action is refused here when the session's token may not call its API
operation (the same role check the API applies), then sent through the API
itself (:func:`~durable_workflow.server.ui.actions.call_api`); the outcome is
shown on the page the browser is sent back to.
"""

from __future__ import annotations

from starlette.responses import Response

from durable_workflow.server.ui.actions import (
    NAME_PARAMS,
    SCHEDULE_ACTIONS,
    WORKFLOW_ACTIONS,
    Answer,
    BadArguments,
    call_api,
    input_body,
    parse_arguments,
)
from durable_workflow.server.ui.app import Ctx
from durable_workflow.server.ui.payloads import show_value
from durable_workflow.server.ui.render import PREFIX, url

UPDATE_WAIT_SECONDS = 10


async def login(ctx: Ctx) -> Response:
    sessions = ctx.ui.sessions
    target = ctx.param("next")
    if not target.startswith(PREFIX + "/") or target.startswith(PREFIX + "/login"):
        target = url("/workflows")
    if not sessions.auth_enabled:
        return ctx.redirect(target)
    fresh = sessions.sign_in(ctx.session, ctx.param("token"))
    if fresh is None:
        text = "This token is not accepted, or its role may not read workflows."
        return ctx.render("login.html", 401, next=target, error=text)
    ctx.session = fresh
    return ctx.redirect(target)


async def logout(ctx: Ctx) -> Response:
    ctx.ui.sessions.drop(ctx.session)
    ctx.session = ctx.ui.sessions.new()
    return ctx.redirect(url("/login"))


def _refused(ctx: Ctx, what: str) -> Response:
    role = ctx.ui.sessions.role_label(ctx.session)
    return ctx.error(403, "Refused", f"The signed-in token ({role}) may not {what}.")


def _report(ctx: Ctx, action: str, name: str, answer: Answer) -> None:
    label = f"{action} {name}".strip()
    if not answer.ok:
        ctx.flash("error", f"{label.capitalize()} refused: {answer.message}")
        return
    if action in ("query", "update"):
        result = answer.body.get("result_envelope") or answer.body.get("result")
        outcome = answer.body.get("outcome") or answer.body.get("update_status") or "answered"
        ctx.flash("ok", f"{label.capitalize()}: {outcome}", show_value(result).text or "null")
        return
    ctx.flash("ok", f"{label.capitalize()}: {answer.body.get('outcome') or 'accepted'}")


async def workflow_action(ctx: Ctx) -> Response:
    action = ctx.request.path_params["action"]
    operation = WORKFLOW_ACTIONS.get(action)
    if operation is None:
        return ctx.error(404, "Not found", f"There is no workflow action [{action}].")
    workflow_id, run_id = ctx.param("id"), ctx.param("run")
    back = url("/workflow", ns=ctx.namespace, id=workflow_id, run=run_id)
    if not ctx.can(operation):
        return _refused(ctx, f"{action} workflows")
    if not workflow_id or not run_id:
        return ctx.error(422, "Missing fields", "The form needs the workflow id and run id.")
    params = {"workflowId": workflow_id, "runId": run_id}
    name = ""
    body: dict[str, object] = {}
    if action in NAME_PARAMS:
        name = ctx.param("name")
        if not name:
            ctx.flash("error", f"The {action} needs a name.")
            return ctx.redirect(back)
        params[NAME_PARAMS[action]] = name
        try:
            body = input_body(parse_arguments(ctx.form.get("args", "")))
        except BadArguments as exc:
            ctx.flash("error", str(exc))
            return ctx.redirect(back)
        if action == "update":
            body.update(wait_for="completed", wait_timeout_seconds=UPDATE_WAIT_SECONDS)
    elif ctx.param("reason"):
        body = {"reason": ctx.param("reason")}
    answer = await call_api(
        ctx.server.app,
        operation,
        params,
        body,
        namespace=ctx.namespace,
        token=ctx.session.token,
    )
    _report(ctx, action, name, answer)
    return ctx.redirect(back)


async def schedule_action(ctx: Ctx) -> Response:
    action = ctx.request.path_params["action"]
    operation = SCHEDULE_ACTIONS.get(action)
    if operation is None:
        return ctx.error(404, "Not found", f"There is no schedule action [{action}].")
    schedule_id = ctx.param("id")
    if not ctx.can(operation):
        return _refused(ctx, f"{action} schedules")
    answer = await call_api(
        ctx.server.app,
        operation,
        {"scheduleId": schedule_id},
        {},
        namespace=ctx.namespace,
        token=ctx.session.token,
    )
    _report(ctx, action, "", answer)
    target = ctx.param("back") == "list"
    return ctx.redirect(
        url("/schedules", ns=ctx.namespace)
        if target
        else url("/schedule", ns=ctx.namespace, id=schedule_id)
    )
