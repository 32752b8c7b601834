"""`make chat`: text your bot from the terminal, as a phone would, and read its replies.

    make chat                        # type a text, press Enter; the replies print
    printf 'HOURS\\n' | make chat     # or pipe texts in: the replies print, then it ends

Each line you type is a text from the sender (an empty one sends nothing, unless a picture is
attached); a line starting with `/` is one of `COMMANDS`. In a terminal, lines are edited as in
a shell (Up recalls the texts of this chat and of earlier ones, kept in `.local/chat_history`);
piped in, each line is printed after `you> `, as the terminal would show it, before its replies.

It runs the webhook in this process (no server, no AWS), through `devtools.phone.Phone`: the
signature check and your handlers run as deployed, and conversations are kept in
`.local/conversations.json`, as `make run` keeps them. Stdout carries only the conversation: the
function's log lines go to stderr, so that piped replies can be read as they are. A text that
costs more than one plain SMS segment is followed by what it costs, as `make send` prints it
(`bot>   [2 SMS segments, UCS-2]`).

A handler that runs later runs in the background once its acknowledgement is printed, and its
reply is printed when it arrives, while you type the next text; a text sent first to someone
else (`send_text`) is printed with whom it is to. Both are kept in `.local/outbox.jsonl`, as
`make run` keeps them, and never reach Twilio. At the end of input the chat waits for the
replies still running (`--wait` seconds at most, `make chat WAIT=`). A text the webhook did
not answer with 200 prints as `bot! the webhook answered 500: ...`, and the chat then ends with
exit status 1. In a terminal, a reply that arrives while you
type is printed below the prompt, which then shows again; the function's metric lines are left
out there, which would come between them.

Time passes at `/wait 2h`: the chat has a clock of its own (the phone's), real time moved on by
each `/wait`, on which the timers your handlers set wait (a question's deadline, a reminder).
Those due by the end of the wait go off in order, each text printed as a reply is, and `/timers`
lists those still waiting. They live as long as the chat: `make run` keeps its own in a file.
"""

import argparse
import atexit
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from devtools import durations
from devtools.commands import as_started
from devtools.console import timer_due
from devtools.function_code import import_handler
from devtools.later_jobs import LaterJobs
from devtools.local_token import local_token
from devtools.paths import LOCAL, LOCAL_CONVERSATIONS, LOCAL_OUTBOX, own_local_folder_for
from devtools.phone import NotAnsweredError, Phone, as_read
from devtools.send import media_type, printed
from devtools.twilio_message import SENDER
from sms_webhook.local_run import LocalRun
from sms_webhook.sending import Outgoing
from sms_webhook.telemetry import logger, pseudonym

PROMPT = "you> "
WAIT_SECONDS = 60.0
"""How long, at the end of input, the chat waits for the later replies still running."""
HISTORY = LOCAL / "chat_history"
"""The lines typed in a terminal, recalled with Up in the next chat too (they hold your texts:
`.local/` is yours alone)."""
HISTORY_LINES = 1000
COMMANDS = {
    "/media URL [TYPE]": "attach a picture or file to the next text",
    "/from +14155550002": "text as another sender",
    "/channel whatsapp": "text on another channel (sms, whatsapp, messenger, rcs)",
    "/reset": "forget the conversation with this sender, a STOP it sent, and its texts counted",
    "/wait 2h": "let time pass (90s, 10m, 2h, 1d, 1h30m): the timers due meanwhile go off",
    "/timers": "list the timers waiting (deadlines, reminders) and when each goes off",
    "/help": "list these commands",
    "/quit": "end the chat (as Ctrl-D does)",
}


COMMAND_NAMES = frozenset(usage.split()[0] for usage in COMMANDS)


def commands_help() -> str:
    width = max(map(len, COMMANDS))
    return "\n".join(f"  {usage:<{width}}  {line}" for usage, line in COMMANDS.items())


class Chat:
    """One terminal's conversation with the bot: who is texting, what to attach next, and the
    replies still running in the background."""

    def __init__(
        self,
        output: TextIO,
        conversations: Path = LOCAL_CONVERSATIONS,
        outbox: Path = LOCAL_OUTBOX,
        interactive: bool = False,
    ) -> None:
        self.output = output
        self.conversations = conversations
        self.outbox = outbox
        self.interactive = interactive
        self.later_jobs = LaterJobs()
        self.local_run = LocalRun(outbox, start=self.later_jobs.start)
        """One for every phone the chat texts from: each hears of the texts of all."""
        self._printing = threading.Lock()
        self.number, self.channel = SENDER, "sms"
        self.media: list[tuple[str, str]] = []
        self.phone = self._phone()
        self.refusals: list[int] = []
        """The status of each answer that was not 200, in order."""

    def _phone(self) -> Phone:
        return Phone(
            self.number,
            channel=self.channel,
            conversations=self.conversations,
            local_run=self.local_run,
        )

    def say(self, *lines: str, end: str = "\n") -> None:
        """The lines in one write: the prompt `input` prints from the main thread comes before
        or after a later reply printed from another, never amid its lines."""
        with self._printing:
            self.output.write("\n".join(lines) + end)
            self.output.flush()

    def sent(self, outgoing: Outgoing) -> None:
        """A text the bot put in the outbox, printed as it arrives: a later reply to whoever is
        texting now as any reply, a text to anyone else with whom it is to; in a terminal, below
        the prompt, unless it was sent at `/wait`, as a reply to it."""
        whom = pseudonym(outgoing.to, local_token())
        prefix = "bot>" if outgoing.to == self.phone.address else f"bot to {whom}>"
        text = printed([as_read(outgoing)], outgoing.to).splitlines()
        lines = [f"{prefix} {line}" for line in text]
        if self.interactive and not self.later_jobs.running_at_once():
            # from the background: below the prompt and what may be typed at it, then a prompt
            self.say("", *lines, PROMPT, end="")
        else:
            self.say(*lines)

    def take(self, line: str) -> bool:
        """Act on one line; False once the chat is over."""
        if not line.startswith("/"):
            if line or self.media:  # an empty line sends nothing, as Enter alone on a phone
                self._send(line)
            return True
        command, _, argument = line[1:].partition(" ")
        argument = argument.strip()
        if command in ("quit", "exit"):
            return False
        if command == "media" and argument:
            url, _, given = argument.partition(" ")
            self.media.append((url, media_type(url, given or None)))
            self.say(f"(attached to the next text: {url})")
        elif command == "from" and argument:
            self._text_as(argument, self.channel)
        elif command == "channel" and argument:
            self._text_as(self.number, argument)
        elif command == "reset":
            self.phone.forget()
            self.say(f"(the conversation with {self.phone.address} is forgotten)")
        elif command == "wait":
            self._wait(argument)
        elif command == "timers":
            self._list_timers()
        else:
            self._help(command)
        return True

    def _help(self, command: str) -> None:
        """The commands, after a word on `command` if it is none of them (not /help, nor one
        given without its argument)."""
        unknown = "" if f"/{command}" in COMMAND_NAMES else f"unknown command /{command}; "
        self.say(f"{unknown}commands:\n{commands_help()}")

    def _wait(self, argument: str) -> None:
        """Let time pass on the chat's clock: the timers due go off, the earliest first, each
        done before the next, and their texts print as they are sent."""
        try:
            span = durations.read(argument)
        except ValueError:
            self.say(f"(/wait takes a time: {durations.EXAMPLES})")
            return
        self.say(f"(waiting {durations.written(span.total_seconds())})")
        with self.later_jobs.at_once():  # what is sent prints as a reply to /wait
            sent = self.phone.advance(minutes=span.total_seconds() / 60)
        if not sent:
            self.say("(nothing was sent)")

    def _list_timers(self) -> None:
        clock = self.local_run.clock
        waiting = [f"  {timer_due(job, clock.now())}" for job in clock.waiting()]
        if waiting:
            self.say("(timers waiting, the soonest first)", *waiting)
        else:
            self.say("(no timer waits)")

    def _text_as(self, number: str, channel: str) -> None:
        self.number, self.channel = number, channel
        self.phone = self._phone()
        self.say(f"(now texting as {self.phone.address})")

    def _send(self, text: str) -> None:
        media, self.media = self.media, []
        with self.later_jobs.until_answered():  # a later handler starts once its answer is printed
            try:
                self.phone.send(text, media=media)
            except NotAnsweredError as error:  # say what the webhook said
                self.refusals.append(error.status)
                self.say(f"bot! {error}")
                return
            if not self.phone.last and self.phone.opted_out:
                self.say("bot> (no reply: you opted out (STOP); replies are blocked until START)")
                return
            if self.phone.suppressed:
                self.say(
                    f"bot> (no reply: the loop guard suppressed it, {self.phone.suppressed}; "
                    "/wait or /reset)"
                )
                return
            answer = printed(self.phone.last, self.phone.address)
            self.say(*(f"bot> {line}" for line in answer.splitlines()))


def chat(
    lines: Iterable[str],
    output: TextIO,
    interactive: bool,
    conversations: Path,
    *,
    outbox: Path = LOCAL_OUTBOX,
    wait: float = WAIT_SECONDS,
) -> None:
    session = Chat(output, conversations, outbox, interactive)
    if interactive:
        session.say(f"Texting your bot as {session.phone.address}. /help for commands.")
    # The phone's settings for the whole chat, not a send: a reply may finish after its send.
    with session.phone.settings(), session.local_run.listening(session.sent):
        for line in lines:
            typed = line.rstrip("\n")
            if not interactive:  # as the terminal would have shown it
                session.say(f"{PROMPT}{typed}")
            if not session.take(typed):
                break
        running = session.later_jobs.wait(wait)
    if running:
        replies = "1 later reply is" if running == 1 else f"{running} later replies are"
        longer = as_started("make chat WAIT=SECONDS", "python -m devtools.chat --wait SECONDS")
        raise SystemExit(
            f"{replies} still running after {wait:g} s: the chat ends without it ({longer} "
            "waits longer)"
        )
    if session.refusals:
        statuses = ", ".join(map(str, session.refusals))
        raise SystemExit(f"the webhook did not answer 200 (it answered {statuses}): see bot! above")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.chat",
        description="Text your bot from the terminal and read its replies (`make chat`).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Type a text and press Enter, or pipe texts in. A line starting with / is a "
        f"command:\n{commands_help()}",
    )
    parser.add_argument(
        "--conversations",
        type=Path,
        default=LOCAL_CONVERSATIONS,
        help=f"the file conversations are kept in (default: {LOCAL_CONVERSATIONS.name} in .local/)",
    )
    parser.add_argument(
        "--outbox",
        type=Path,
        default=LOCAL_OUTBOX,
        help=f"the file texts sent later are kept in (default: {LOCAL_OUTBOX.name} in .local/)",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=WAIT_SECONDS,
        metavar="SECONDS",
        help=f"how long to wait for later replies at the end of input (default: {WAIT_SECONDS:g})",
    )
    arguments = parser.parse_args(argv)
    own_local_folder_for(arguments.conversations, arguments.outbox)
    import_handler()  # a mistake in replies.py is told before the first text, and ends the chat
    logger.setLevel("WARNING")  # the replies, not the function's JSON lines; warnings still show
    log_to_stderr(logger.registered_handler)
    interactive = sys.stdin.isatty()
    if (
        interactive
    ):  # metric lines, meaningless here, would come between a later reply and the prompt
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    if interactive:
        edit_lines(HISTORY)
    lines, conversation = _typed() if interactive else sys.stdin, sys.stdout
    with contextlib.redirect_stdout(sys.stderr):  # the metric lines the function prints, too
        chat(
            lines,
            conversation,
            interactive,
            arguments.conversations,
            outbox=arguments.outbox,
            wait=arguments.wait,
        )


def log_to_stderr(log_handler: logging.Handler) -> None:
    """The function's log lines to stderr, so that stdout carries only the conversation: a handler
    that writes to stdout (Powertools' own) writes to stderr instead; any other (a file's, one of
    your own that may have no stream at all) is left as it is."""
    if isinstance(log_handler, logging.StreamHandler) and log_handler.stream is sys.stdout:
        log_handler.setStream(sys.stderr)


def edit_lines(history: Path) -> None:
    """Lines typed are edited as in a shell (Left, Right, Ctrl-A...) and Up recalls earlier ones:
    `input` does so once `readline` is imported. The lines are read from `history` and written
    back to it at the end, so that the next chat recalls them too."""
    import readline

    own_local_folder_for(history)
    with contextlib.suppress(OSError):  # none yet, the first time
        readline.read_history_file(history)
    readline.set_history_length(HISTORY_LINES)
    atexit.register(readline.write_history_file, history)


def _typed() -> Iterable[str]:
    """The lines typed at the prompt. `input` edits them with readline only while `sys.stdout` is
    the terminal's own, not the stderr that the function's prints go to meanwhile."""
    while True:
        try:
            with contextlib.redirect_stdout(sys.__stdout__):
                line = input(PROMPT)
        except (EOFError, KeyboardInterrupt):
            print()
            return
        yield line


if __name__ == "__main__":
    main()
