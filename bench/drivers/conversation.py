"""What a conversation turn costs in process, with the local store (a file): warm microseconds per
message answered without the conversation, with a routing test that only reads it, and with a
handler that reads and writes it (the survey in replies.py, a round of its three texts).

    cd <project> && <its python> bench/drivers/conversation.py LOOPS RESULT_FILE

The result file gets, in marshal's format, a dict from the case to its median microseconds.
"""

import marshal
import os
import sys
import time

sys.path[0] = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from devtools.lambda_context import LambdaContext  # noqa: E402
from devtools.phone import Phone  # noqa: E402


def main(loops: str, result_file: str) -> None:
    phone = Phone()
    token = os.environ.setdefault("TWILIO_AUTH_TOKEN", "benchmark-token-0123456789abcdef")
    os.environ["CONVERSATION_FILE"] = str(phone.conversations)
    import handler

    context = LambdaContext()

    def per_message(texts: list[str]) -> float:
        events = [phone.event_for(text, token) for text in texts * int(loops)]
        started = time.perf_counter_ns()
        for event in events:
            handler.lambda_handler(event, context)
        return (time.perf_counter_ns() - started) / len(events) / 1000

    result = {
        "no conversation (HOURS)": per_message(["HOURS"]),
        "a test reads it (auto-reply)": per_message(["hello"]),
        "read and written (the survey)": per_message(["SURVEY", "a friend", "5"]),
    }
    with open(result_file, "wb") as output:
        marshal.dump(result, output)


if __name__ == "__main__":
    main(*sys.argv[1:])
