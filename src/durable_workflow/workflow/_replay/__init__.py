"""The replay engine behind ``durable_workflow.workflow``.

Split by concern: ``history`` (event shapes, value decoding), ``steps`` (history
grouped into workflow steps and receivers), ``receivers`` (signal and update
delivery), ``commands`` (yieldable commands
and their wire shapes), ``context`` (the deterministic ``WorkflowContext``),
``failures`` (failure events to exceptions) and ``driver`` (runs the code).
"""
