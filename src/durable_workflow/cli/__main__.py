"""``python -m durable_workflow.cli`` runs the console script."""

import sys

from durable_workflow.cli import main

sys.exit(main())
