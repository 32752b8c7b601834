"""The Lambda context object, as much of it as the function and Powertools read.

One stand-in for every place that calls the handler outside Lambda: the tests, `make run`, the
benchmark's drivers and the artifact test's driver. The drivers run in other interpreters (the
benchmark's references' virtualenvs, the artifact with `python -S`) and time a cold start, so
this module imports nothing: it must bring in no module the handler would not import itself.
"""


class LambdaContext:
    """The attributes Lambda's context object has and Powertools reads."""

    function_name = "twilio-sms-webhook-WebhookFunction"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = (
        "arn:aws:lambda:us-east-1:123456789012:function:twilio-sms-webhook-WebhookFunction"
    )
    aws_request_id = "52fdfc07-2182-154f-163f-5f0f9a621d72"

    def __init__(self, remaining_millis: int = 30_000, request_id: str | None = None) -> None:
        """`remaining_millis`: what is left of the invocation's time when it starts (the
        webhook's timeout in the template is 30 s). `request_id`: the invocation's own, as
        Lambda gives each (`make run` does); by default always the same."""
        self.remaining_millis = remaining_millis
        if request_id is not None:
            self.aws_request_id = request_id

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis
