"""What the tests share besides fixtures (those are in tests/conftest.py): Twilio's requests and
the worker's jobs built the project's way, stand-ins for Twilio's API, the built artifacts and
scripts run inside them, `make run` in real processes."""
