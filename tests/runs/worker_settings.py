"""Settings for worker and server subprocesses started by the runs tests: the test settings, with the
Dramatiq Redis broker in a private namespace so that no other worker or test shares its queues."""

from __future__ import annotations

import os

from workflowsite.test_settings import *  # noqa: F403
from workflowsite.test_settings import DRAMATIQ_BROKER

DRAMATIQ_BROKER = {
    **DRAMATIQ_BROKER,
    "OPTIONS": {**DRAMATIQ_BROKER["OPTIONS"], "namespace": os.environ["WEFT_TEST_DRAMATIQ_NAMESPACE"]},
}
