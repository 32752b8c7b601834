"""What importing the handler leaves in a fresh interpreter, as JSON on stdout.

The tests run it as `python tests/support/cold_start_state.py`, in the environment they choose
and with the project on PYTHONPATH, to see a cold start's state: which modules it loaded, what it
made.
"""

import json
import sys

import handler  # noqa: F401 - the import is what is measured
from sms_webhook import config, idempotency

provider_made = config.ssm_provider.cache_info().currsize == 1
print(
    json.dumps(
        {
            "boto3 loaded": "boto3" in sys.modules,
            "SSM provider made": provider_made,
            "idempotency runner made": idempotency.runner.cache_info().currsize == 1,
            "secrets read": provider_made and bool(config.ssm_provider().store),
        }
    )
)
