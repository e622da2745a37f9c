"""The example site with the test steps registered: what a worker subprocess serves.

``flask --app tests/jobs/worker_app.py pco worker --burst`` with the test's DATABASE_URL,
PCO_REDIS_URL and credentials in the environment.
"""

from __future__ import annotations

from example_app import create_app
from flask_pco.sync.engine import step

from .steps_for_tests import TEST_STEPS

for (direction, name), function in TEST_STEPS.items():
    step(direction, name)(function)

app = create_app()
