"""`make chat`: text your bot from the terminal, as a phone would, and read its replies.

    make chat                        # type a text, press Enter; the replies print
    printf 'HOURS\\n' | make chat     # or pipe texts in: the replies print, then it ends

Each line you type is a text from the sender; a line starting with `/` is one of `COMMANDS`.

It runs the webhook in this process (no server, no AWS), through `devtools.phone.Phone`: the
signature check and your handlers run as deployed, and conversations are kept in
`.local/conversations.json`, as `make run` keeps them. Stdout carries only the conversation: the
function's log lines go to stderr, so that piped replies can be read as they are.
"""

import argparse
import contextlib
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from devtools.function_code import import_handler
from devtools.paths import LOCAL_CONVERSATIONS
from devtools.phone import Phone
from devtools.send import media_type, printed
from devtools.twilio_message import SENDER
from sms_webhook.telemetry import logger

PROMPT = "you> "
COMMANDS = {
    "/media URL [TYPE]": "attach a picture or file to the next text",
    "/from +14155550002": "text as another sender",
    "/channel whatsapp": "text on another channel (sms, whatsapp, messenger, rcs)",
    "/reset": "forget the conversation with this sender",
    "/help": "list these commands",
    "/quit": "end the chat (as Ctrl-D does)",
}


def commands_help() -> str:
    width = max(map(len, COMMANDS))
    return "\n".join(f"  {usage:<{width}}  {line}" for usage, line in COMMANDS.items())


class Chat:
    """One terminal's conversation with the bot: who is texting, and what to attach next."""

    def __init__(self, output: TextIO, conversations: Path = LOCAL_CONVERSATIONS) -> None:
        self.output = output
        self.conversations = conversations
        self.number, self.channel = SENDER, "sms"
        self.media: list[tuple[str, str]] = []
        self.phone = self._phone()

    def _phone(self) -> Phone:
        return Phone(self.number, channel=self.channel, conversations=self.conversations)

    def say(self, line: str) -> None:
        print(line, file=self.output, flush=True)

    def take(self, line: str) -> bool:
        """Act on one line; False once the chat is over."""
        if not line.startswith("/"):
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
        else:
            self.say(f"commands:\n{commands_help()}")
        return True

    def _text_as(self, number: str, channel: str) -> None:
        self.number, self.channel = number, channel
        self.phone = self._phone()
        self.say(f"(now texting as {self.phone.address})")

    def _send(self, text: str) -> None:
        media, self.media = self.media, []
        try:
            self.phone.send(text, media=media)
        except AssertionError as error:  # the webhook did not answer 200: say what it said
            self.say(f"bot! {error}")
            return
        for line in printed(self.phone.last).splitlines():
            self.say(f"bot> {line}")


def chat(lines: Iterable[str], output: TextIO, interactive: bool, conversations: Path) -> None:
    session = Chat(output, conversations)
    if interactive:
        session.say(f"Texting your bot as {session.phone.address}. /help for commands.")
    for line in lines:
        if not session.take(line.rstrip("\n")):
            break


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
    arguments = parser.parse_args(argv)
    import_handler()  # a mistake in replies.py is told before the first text, and ends the chat
    logger.setLevel("WARNING")  # the replies, not the function's JSON lines; warnings still show
    logger.registered_handler.setStream(sys.stderr)
    interactive = sys.stdin.isatty()
    lines, conversation = _typed() if interactive else sys.stdin, sys.stdout
    with contextlib.redirect_stdout(sys.stderr):  # the metric lines the function prints, too
        chat(lines, conversation, interactive, arguments.conversations)


def _typed() -> Iterable[str]:
    while True:
        try:
            yield input(PROMPT)
        except (EOFError, KeyboardInterrupt):
            print()
            return


if __name__ == "__main__":
    main()
