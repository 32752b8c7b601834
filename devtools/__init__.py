"""Tools for working on the webhook locally: a local server and signed sample events.

Never deployed: only `handler.py`, `replies.py` and `sms_webhook/` run in Lambda.
"""
