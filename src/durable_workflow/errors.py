"""The SDK's exception hierarchy (drop-in with upstream 0.4.53's names and constructors).

Every error a user can catch lives here, so a caller needs one import to handle
failures. ``WorkflowCancelled`` and ``ActivityCancelled`` derive from
``BaseException`` on purpose (upstream does too): a blanket ``except Exception``
inside user code must not swallow a cancellation.
"""

from __future__ import annotations

from typing import Any


class DurableWorkflowError(Exception):
    """Base class of every error raised by the SDK."""


class ServerError(DurableWorkflowError):
    """The server answered with an error status that has no more specific class."""

    def __init__(self, status: int, body: object) -> None:
        self.status = status
        self.body = body
        super().__init__(f"server returned {status}: {body!r}")

    def reason(self) -> str | None:
        """The machine-readable ``reason`` of the error body, if any."""
        if isinstance(self.body, dict):
            value = self.body.get("reason")
            return value if isinstance(value, str) else None
        return None


class LongPollCapacityExhausted(ServerError):
    """A 2.x server has no room for another held long poll (429 ``long_poll_capacity_exhausted``).

    Not retried by the transport: the poller waits ``retry_after_seconds``, as the
    server asks, before polling again. ``task_kind`` names the poll (``workflow_task``,
    ``activity_task``, ``query_task``, ``update_validation_task``).
    """

    def __init__(self, status: int, body: object) -> None:
        super().__init__(status, body)
        fields = body if isinstance(body, dict) else {}
        delay = fields.get("retry_after_seconds")
        self.retry_after_seconds: float = (
            float(delay)
            if isinstance(delay, (int, float)) and not isinstance(delay, bool) and delay > 0
            else 1.0
        )
        kind = fields.get("task_kind")
        self.task_kind: str | None = kind if isinstance(kind, str) else None


class Unauthorized(DurableWorkflowError):
    def __init__(self, message: str = "unauthorized") -> None:
        super().__init__(message)


class InvalidArgument(DurableWorkflowError):
    def __init__(self, message: str, errors: dict[str, Any] | None = None) -> None:
        self.errors = errors
        super().__init__(message)


class NamespaceNotFound(DurableWorkflowError):
    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        super().__init__(f"namespace not found: {namespace}")


class WorkflowNotFound(DurableWorkflowError):
    def __init__(self, workflow_id: str) -> None:
        self.workflow_id = workflow_id
        super().__init__(f"workflow not found: {workflow_id}")


class WorkflowAlreadyStarted(DurableWorkflowError):
    def __init__(self, workflow_id: str) -> None:
        self.workflow_id = workflow_id
        super().__init__(f"workflow already started: {workflow_id}")


class ScheduleNotFound(DurableWorkflowError):
    def __init__(self, schedule_id: str) -> None:
        self.schedule_id = schedule_id
        super().__init__(f"schedule not found: {schedule_id}")


class ScheduleAlreadyExists(DurableWorkflowError):
    def __init__(self, schedule_id: str) -> None:
        self.schedule_id = schedule_id
        super().__init__(f"schedule already exists: {schedule_id}")


class _OperationFailed(DurableWorkflowError):
    """Shared shape of query and signal failures: message plus the server's reason."""

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        status: int | None = None,
        body: object = None,
    ) -> None:
        self.reason = reason
        self.status = status
        self.body = body
        super().__init__(message)

    @property
    def validation_errors(self) -> dict[str, Any] | None:
        if isinstance(self.body, dict):
            for key in ("validation_errors", "errors"):
                value = self.body.get(key)
                if isinstance(value, dict):
                    return value
        return None


class QueryFailed(_OperationFailed):
    pass


class SignalFailed(_OperationFailed):
    pass


class UpdateRejected(DurableWorkflowError):
    def __init__(self, message: str) -> None:
        super().__init__(message)


class WorkflowFailed(DurableWorkflowError):
    def __init__(self, message: str, exception_class: str | None = None) -> None:
        self.exception_class = exception_class
        super().__init__(message)


class WorkflowTerminated(DurableWorkflowError):
    def __init__(self, message: str = "workflow was terminated") -> None:
        super().__init__(message)


class WorkflowCancelled(BaseException):
    def __init__(self, message: str = "workflow was cancelled") -> None:
        super().__init__(message)


class ActivityCancelled(BaseException):
    def __init__(self, message: str = "activity was cancelled") -> None:
        super().__init__(message)


class ChildWorkflowFailed(DurableWorkflowError):
    """A child run failed, was cancelled or terminated; thrown into the parent at its yield.

    Upstream's constructor is ``(message, exception_class=None)``; the keyword-only
    fields add the same stable cross-language view ``ActivityFailed`` gives.
    """

    def __init__(
        self,
        message: str,
        exception_class: str | None = None,
        *,
        workflow_type: str | None = None,
        child_workflow_id: str | None = None,
        child_run_id: str | None = None,
        failure_id: str | None = None,
        failure_category: str | None = None,
        exception_type: str | None = None,
        non_retryable: bool = False,
        code: Any = None,
        exception_payload: dict[str, Any] | None = None,
    ) -> None:
        self.message = message
        self.exception_class = exception_class
        self.workflow_type = workflow_type
        self.child_workflow_id = child_workflow_id
        self.child_run_id = child_run_id
        self.failure_id = failure_id
        self.failure_category = failure_category
        self.exception_type = exception_type
        self.non_retryable = non_retryable
        self.code = code
        self.exception_payload = exception_payload
        super().__init__(message)


class ActivityFailed(DurableWorkflowError):
    """An activity failed for good; thrown into the workflow at the activity's yield."""

    def __init__(
        self,
        message: str,
        *,
        activity_type: str | None = None,
        activity_execution_id: str | None = None,
        activity_attempt_id: str | None = None,
        failure_id: str | None = None,
        failure_category: str | None = None,
        exception_type: str | None = None,
        exception_class: str | None = None,
        non_retryable: bool = False,
        code: Any = None,
        exception_payload: dict[str, Any] | None = None,
        activity: dict[str, Any] | None = None,
    ) -> None:
        self.message = message
        self.activity_type = activity_type
        self.activity_execution_id = activity_execution_id
        self.activity_attempt_id = activity_attempt_id
        self.failure_id = failure_id
        self.failure_category = failure_category
        self.exception_type = exception_type
        self.exception_class = exception_class
        self.non_retryable = non_retryable
        self.code = code
        self.exception_payload = exception_payload
        self.activity = activity
        super().__init__(message)


class NonRetryableError(DurableWorkflowError):
    """Raise from an activity to fail it without further retries."""

    def __init__(self, message: str, *, cause: BaseException | None = None) -> None:
        self.cause = cause
        super().__init__(message)


class NonDeterministicReplayError(DurableWorkflowError):
    """Workflow code and recorded history disagree at a step."""

    def __init__(
        self,
        workflow_sequence: int,
        expected_shape: str,
        recorded_event_types: list[str] | tuple[str, ...],
        *,
        detail: str | None = None,
    ) -> None:
        self.workflow_sequence = workflow_sequence
        self.expected_shape = expected_shape
        self.recorded_event_types = list(recorded_event_types)
        self.detail = detail
        recorded = ", ".join(self.recorded_event_types) or "nothing"
        text = (
            f"non-deterministic replay at step {workflow_sequence}: workflow code produced "
            f"{expected_shape} but history recorded {recorded}"
        )
        if detail:
            text = f"{text} ({detail})"
        super().__init__(text)


class WorkflowPayloadDecodeError(DurableWorkflowError):
    """A payload in history could not be decoded for a workflow receiver."""

    def __init__(
        self,
        message: str,
        *,
        workflow_id: str | None = None,
        run_id: str | None = None,
        event_id: Any = None,
        receiver_kind: str | None = None,
        receiver_name: str | None = None,
        codec: str | None = None,
        payload_head: str | None = None,
        exception_type: str | None = None,
    ) -> None:
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.event_id = event_id
        self.receiver_kind = receiver_kind
        self.receiver_name = receiver_name
        self.codec = codec
        self.payload_head = payload_head
        self.exception_type = exception_type
        super().__init__(message)


class AvroNotInstalledError(DurableWorkflowError, ImportError):
    """Kept for upstream compatibility; our Avro codec is built in and needs no package."""


class TransportError(DurableWorkflowError):
    """The server could not be reached, or the connection failed mid-request."""

    def __init__(self, message: str, *, cause: BaseException | None = None) -> None:
        self.cause = cause
        super().__init__(message)


class TransportTimeout(TransportError):
    """A request timed out before the server answered."""


class IncompatibleServerError(DurableWorkflowError, RuntimeError):
    """The server's ``/api/cluster/info`` does not advertise what this SDK needs.

    A ``RuntimeError`` too, as upstream's worker raises ``RuntimeError`` here.
    """

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        super().__init__(message)


class UnsupportedServerCapability(IncompatibleServerError):
    """The connected server lacks a feature this call needs; raised before anything is sent.

    ``capability`` names the feature (an advertised capability such as
    ``update_validation_tasks``, or ``operation:<name>`` for a route the server's
    generation does not publish), ``required_version`` the worker protocol version it
    needs (``None`` when only the capability matters), ``generation`` and
    ``advertised_version`` what the server was found to be.
    """

    def __init__(
        self,
        capability: str,
        *,
        required_version: str | None = None,
        generation: int | None = None,
        advertised_version: str | None = None,
        detail: str | None = None,
    ) -> None:
        self.capability = capability
        self.required_version = required_version
        self.generation = generation
        self.advertised_version = advertised_version
        server = "the server"
        if generation is not None:
            server += f" (generation {generation}"
            if advertised_version is not None:
                server += f", worker protocol {advertised_version}"
            server += ")"
        need = f"; it needs worker protocol >= {required_version}" if required_version else ""
        text = f"{server} does not support {capability}{need}"
        if detail:
            text = f"{text}: {detail}"
        super().__init__(text, problems=[text])


class ExternalPayloadTransportError(DurableWorkflowError, ValueError):
    """A 2.x server's runtime payload transport refused, or returned unusable bytes.

    ``reason`` is the transport's (``external_payload_unavailable``,
    ``external_payload_integrity_mismatch``, ``external_payload_oversized``, ...);
    ``reference_id`` names the stored payload when one is concerned.
    """

    def __init__(self, reason: str, message: str, *, reference_id: str | None = None) -> None:
        self.reason = reason
        self.reference_id = reference_id
        super().__init__(f"{reason}: {message}")


class PayloadTooLargeError(DurableWorkflowError, ValueError):
    """A request or payload would exceed the server's size limit; raised before sending.

    ``field`` is the offending payload's JSON path in the request (``input``,
    ``commands[0].result``, ``result``), ``size_bytes`` its encoded size,
    ``body_bytes`` the whole request body's size when that was the check,
    ``operation`` the operation or payload kind, ``ids`` the workflow/activity
    ids known at that point.
    """

    def __init__(
        self,
        message: str,
        *,
        size_bytes: int,
        limit_bytes: int,
        field: str,
        body_bytes: int | None = None,
        operation: str | None = None,
        ids: dict[str, str] | None = None,
    ) -> None:
        self.size_bytes = size_bytes
        self.limit_bytes = limit_bytes
        self.field = field
        self.body_bytes = body_bytes
        self.operation = operation
        self.ids = dict(ids or {})
        super().__init__(message)


class ServerValidationFailed(InvalidArgument):
    """A 422 from the server: ``InvalidArgument`` plus the status, reason and whole body.

    Raised where upstream raised ``InvalidArgument`` for a server answer, so
    ``except InvalidArgument`` keeps working; the extra fields let callers (and the
    webhook bridge, whose rejections are results) read the server's full answer.
    """

    def __init__(
        self,
        message: str,
        errors: dict[str, Any] | None = None,
        *,
        status: int = 422,
        reason: str | None = None,
        body: object = None,
    ) -> None:
        self.status = status
        self.reason = reason
        self.body = body
        super().__init__(message, errors)


def _raise_for_status(status: int, body: object, *, context: str = "") -> None:
    """Raise the typed error for a non-2xx answer (upstream 0.4.53's private helper).

    Kept for code written against upstream; the mapping itself lives in the transport.
    """
    if status < 400:
        return
    from durable_workflow._transport._errors import error_for_status

    raise error_for_status(status, body, context)
