"""One modal, from the bot's views.open to the submission the bot accepts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from demo.modal_prompts import KEEP, Field, FormFiller, fields_of, plain
from demo.terminal import Terminal
from fakeslack import FakeSlack, SentResponse, SlackSender, values_for


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
            index = 0
            while index < len(todo):
                field = todo[index]
                answer = self.filler.ask(field, f"[{fields.index(field) + 1}/{len(fields)}]")
                if answer is KEEP:
                    answers.pop(field.block_id, None)
                else:
                    answers[field.block_id] = answer
                if field.dispatch and answer is not KEEP:
                    updated = self._dispatch(view, field, answer)
                    if updated is not None:
                        view, fields, todo = self._changed(updated, fields, todo, index, answers)
                index += 1
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

    def _dispatch(
        self, view: dict[str, Any], field: Field, answer: object
    ) -> dict[str, Any] | None:
        """Send the choice as Slack does at once; the form as the bot updated it, if it did."""
        mark = len(self.fake.views)
        self.sender.choose_in_view(view, field.block_id, str(answer))
        try:
            record = self.fake.wait_for_view(view.get("callback_id"), since=mark, timeout=3)
        except AssertionError:
            return None  # the bot left the form as it was
        return record.view

    @staticmethod
    def _changed(
        view: dict[str, Any],
        fields: list[Field],
        todo: list[Field],
        index: int,
        answers: dict[str, object],
    ) -> tuple[dict[str, Any], list[Field], list[Field]]:
        """After an update: ask the fields that appeared next, forget those that went."""
        new_fields = fields_of(view)
        old_ids = {f.block_id for f in fields}
        new_ids = {f.block_id for f in new_fields}
        for gone in old_ids - new_ids:
            answers.pop(gone, None)
        appeared = [f for f in new_fields if f.block_id not in old_ids]
        later = [f for f in todo[index + 1 :] if f.block_id in new_ids]
        by_id = {f.block_id: f for f in new_fields}
        asked = [by_id.get(f.block_id, f) for f in todo[: index + 1]]
        return view, new_fields, asked + appeared + [by_id[f.block_id] for f in later]

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
