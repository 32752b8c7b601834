"""A file per threat to the webhook, and what it does about it."""
