"""One modal, from the bot's views.open to the submission the bot accepts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.demo.modal_prompts import KEEP, Field, FormFiller, fields_of, plain
from bot.demo.terminal import Terminal
from bot.fakeslack import FakeSlack, SentResponse, SlackSender, values_for


@dataclass(frozen=True)
class Accepted:
    """The accepted submission, and the fake's counts just before it (to wait for what follows:
    the bot acks the submission first and posts after)."""

    response: SentResponse
    calls: int
    views: int


class FormSession:
    def __init__(
        self, term: Terminal, *, fake: FakeSlack, sender: SlackSender, filler: FormFiller
    ) -> None:
        self.term = term
        self.fake = fake
        self.sender = sender
        self.filler = filler

    def run(self, view: dict[str, Any]) -> Accepted:
        """Ask every field, submit; on `errors` ask the named fields again and resubmit.

        Raises FormCancelled when the user gives up (the caller says so).
        """
        fields = todo = fields_of(view)
        answers: dict[str, object] = {}
        self._title(view)
        while True:
            for field in todo:
                answer = self.filler.ask(field, f"[{fields.index(field) + 1}/{len(fields)}]")
                if answer is KEEP:
                    answers.pop(field.block_id, None)
                else:
                    answers[field.block_id] = answer
            submit = plain(view.get("submit")) or "Submit"
            self.term.say(self.term.style.dim(f"Submitting the form ({submit})..."))
            calls, views = len(self.fake.calls), len(self.fake.views)
            response = self.sender.submit_view(view, values_for(view, answers))
            reply = response.json or {}
            action = reply.get("response_action")
            if action == "errors":
                todo = self._errors(fields, reply.get("errors") or {})
            elif action in ("update", "push") and isinstance(reply.get("view"), dict):
                # The bot replaced the form with another one: start that one afresh.
                view, answers = reply["view"], {}
                fields = todo = fields_of(view)
                self._title(view)
            else:
                return Accepted(response, calls, views)

    def _title(self, view: dict[str, Any]) -> None:
        style = self.term.style
        title = plain(view.get("title")) or "Form"
        self.term.say(
            style.bold(f"-- {title} --")
            + style.dim("  a Slack form: one question per field; :cancel abandons it")
        )

    def _errors(self, fields: list[Field], errors: dict[str, str]) -> list[Field]:
        """Print the bot's errors per field; return the fields to ask again."""
        warn = self.term.style.warn
        self.term.say(warn("The bot did not accept the form:"))
        labels = {f.block_id: f.label for f in fields}
        for block_id, message in errors.items():
            self.term.say(warn(f"  ! {labels.get(block_id, block_id)}: {message}"))
        return [f for f in fields if f.block_id in errors] or fields
