"""The workflow under test: approve a loan after a credit check, with a manual-review path.

Scores of 700 and above are approved at once; lower scores wait (at most a
day) for a reviewer's signal; no answer in time means declined.
"""

from __future__ import annotations

from typing import Any

from durable_workflow import activity, workflow

REVIEW_TIMEOUT_SECONDS = 24 * 3600


@activity.defn(name="credit-score")
def credit_score(applicant: str) -> int:
    return 720 if applicant.startswith("A") else 640  # a real one calls a bureau


@workflow.defn(name="loan-application")
class LoanWorkflow:
    def __init__(self) -> None:
        self.review: str | None = None

    def run(self, ctx: Any, applicant: str, amount: int) -> Any:
        score = yield ctx.schedule_activity("credit-score", [applicant])
        if score >= 700:
            return {"applicant": applicant, "decision": "approved", "score": score}
        answered = yield ctx.wait_condition(
            lambda: self.review is not None, timeout=REVIEW_TIMEOUT_SECONDS
        )
        decision = self.review if answered else "declined"
        return {"applicant": applicant, "decision": decision, "score": score}

    @workflow.signal("review")
    def record_review(self, decision: str) -> None:
        self.review = decision
