"""A Slack modal filled in at the terminal: one prompt per input block.

What Slack's client checks before a modal is submitted (required fields, option lists, real
dates, text length) is checked here; everything else is left to the bot, whose
`response_action: errors` answer the console shows and asks again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.errors import UserError
from bot.domain.timetext import parse_date, parse_when
from demo.terminal import Terminal

CANCEL = ":cancel"
QUIT = (":quit", ":q", ":exit")
KEEP = object()  # leave the input as the view set it (its initial value, or empty)
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
SELECTS = ("static_select", "radio_buttons", "external_select")
MULTI = ("checkboxes", "multi_static_select")
USERS = ("users_select", "multi_users_select")
TEXT = ("plain_text_input", "email_text_input", "url_text_input", "number_input")


class FormCancelled(Exception):
    """The user typed :cancel (or :quit: `quit` is set), or input ended, in a form."""

    def __init__(self, *, quit: bool = False) -> None:
        super().__init__("form cancelled")
        self.quit = quit


class FieldProblem(Exception):
    """An answer Slack's own widget would not accept; the field is asked again."""


@dataclass(frozen=True)
class Field:
    block_id: str
    label: str
    kind: str
    optional: bool
    hint: str
    element: dict[str, Any]
    # Answering sends an action at once (Slack's dispatch_action): the bot may change the form.
    dispatch: bool = False

    @property
    def options(self) -> list[tuple[str, str]]:
        """(value, label) pairs of a select, radio or checkbox list."""
        options = list(self.element.get("options") or [])
        for group in self.element.get("option_groups") or []:
            options.extend(group.get("options") or [])
        return [(str(o.get("value")), plain(o.get("text"))) for o in options]


def fields_of(view: dict[str, Any]) -> list[Field]:
    """The view's input blocks, in order (the block ids `values_for` answers by)."""
    fields = []
    for index, block in enumerate(view.get("blocks") or []):
        element = block.get("element")
        if block.get("type") != "input" or not isinstance(element, dict):
            continue
        fields.append(
            Field(
                block_id=str(block.get("block_id") or f"_block{index}"),
                label=plain(block.get("label")) or "(no label)",
                kind=str(element.get("type")),
                optional=bool(block.get("optional")),
                hint=plain(block.get("hint")),
                element=element,
                dispatch=bool(block.get("dispatch_action")),
            )
        )
    return fields


def plain(obj: Any) -> str:
    """The text of a Block Kit text object (or of a plain string)."""
    return str(obj.get("text") or "") if isinstance(obj, dict) else str(obj or "")


class FormFiller:
    """Asks for one field at a time and turns the answer into what `values_for` takes."""

    def __init__(
        self,
        term: Terminal,
        *,
        now: Callable[[], datetime],
        tz: ZoneInfo,
        resolve_user: Callable[[str], str | None],
        user_name: Callable[[str], str],
        known_users: list[str],
    ) -> None:
        self.term = term
        self.now = now
        self.tz = tz
        self.resolve_user = resolve_user
        self.user_name = user_name
        self.known_users = known_users

    def ask(self, field: Field, position: str) -> object:
        """The answer for `values_for`, or KEEP. Raises FormCancelled."""
        style = self.term.style
        extra = " (optional)" if field.optional else ""
        guide = self._guide(field)
        self.term.say(
            f"{style.bold(position + ' ' + field.label)}{extra}" + (f" — {guide}" if guide else "")
        )
        while True:
            raw = self.term.ask("  > ")
            command = (raw or "").strip().lower()
            if raw is None or command in QUIT:
                raise FormCancelled(quit=True)
            if command == CANCEL:
                raise FormCancelled
            try:
                return self._answer(field, raw.strip())
            except FieldProblem as problem:
                self.term.say(style.warn(f"  ! {problem}"))

    def _answer(self, field: Field, text: str) -> object:
        if text.startswith((":", "/missing")):
            # Not an answer anybody means: say so rather than "not a date".
            raise FieldProblem("A form is open: answer this question, or :cancel the form.")
        return self._value(field, text)

    # -- per element type ----------------------------------------------------------------

    def _value(self, field: Field, text: str) -> object:
        if text == "-":
            if not field.optional:
                raise FieldProblem("This field is required; it cannot be cleared.")
            return None
        if not text:
            if self._initial(field) is None and not field.optional:
                raise FieldProblem("This field is required (Slack would not submit without it).")
            return KEEP
        kind = field.kind
        if kind in TEXT:
            return self._text(field, text)
        if kind == "datepicker":
            return self._date(text)
        if kind == "datetimepicker":
            return self._datetime(text)
        if kind == "timepicker":
            if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", text):
                raise FieldProblem("Type a time of day like 14:30.")
            return text.zfill(5)
        if kind in SELECTS:
            return self._choose(field, text)
        if kind in MULTI:
            return [self._choose(field, part) for part in re.split(r"[,\s]+", text) if part]
        if kind == "users_select":
            return self._user(text)
        if kind == "multi_users_select":
            return [self._user(part) for part in re.split(r"[,\s]+", text) if part]
        self.term.say(f"  (a {kind} cannot be filled in here; it is left as it is)")
        return KEEP

    def _text(self, field: Field, text: str) -> str:
        most = field.element.get("max_length")
        least = field.element.get("min_length")
        if most and len(text) > int(most):
            raise FieldProblem(f"At most {most} characters here.")
        if least and len(text) < int(least):
            raise FieldProblem(f"At least {least} characters here.")
        if field.kind == "number_input":
            try:
                float(text)
            except ValueError:
                raise FieldProblem("Type a number.") from None
        return text

    def _date(self, text: str) -> date:
        try:
            return parse_date(text)
        except UserError as exc:
            raise FieldProblem(exc.message) from None

    def _datetime(self, text: str) -> datetime:
        try:
            return parse_when(text, now=self.now(), tz=self.tz)
        except UserError as exc:
            raise FieldProblem(exc.message) from None

    def _choose(self, field: Field, text: str) -> str:
        options = field.options
        if text.isdigit() and 1 <= int(text) <= len(options):
            return options[int(text) - 1][0]
        wanted = text.casefold()
        for value, label in options:
            if wanted in (value.casefold(), label.casefold()):
                return value
        raise FieldProblem(f"Choose by number (1-{len(options)}) or by name.")

    def _user(self, text: str) -> str:
        mention = _MENTION.match(text)
        found = mention[1] if mention else self.resolve_user(text)
        if found is None and _USER_ID.match(text):
            found = text
        if found is None:
            known = ", ".join("@" + self.user_name(u) for u in self.known_users)
            raise FieldProblem(f"Not a user here. Type a user id or one of {known}.")
        return found

    # -- what to tell the user -----------------------------------------------------------

    def _initial(self, field: Field) -> str | None:
        """The pre-filled value as shown to the user, or None when the input starts empty."""
        element = field.element
        if field.kind in TEXT and element.get("initial_value"):
            return str(element["initial_value"])
        if field.kind == "datepicker" and element.get("initial_date"):
            return str(element["initial_date"])
        if field.kind == "datetimepicker" and element.get("initial_date_time"):
            return datetime.fromtimestamp(int(element["initial_date_time"]), self.tz).strftime(
                "%d/%m/%Y %H:%M"
            )
        if field.kind in SELECTS and isinstance(element.get("initial_option"), dict):
            return plain(element["initial_option"].get("text"))
        if field.kind in MULTI and element.get("initial_options"):
            return ", ".join(plain(o.get("text")) for o in element["initial_options"])
        if field.kind == "users_select" and element.get("initial_user"):
            return "@" + self.user_name(str(element["initial_user"]))
        if field.kind == "timepicker" and element.get("initial_time"):
            return str(element["initial_time"])
        return None

    def _guide(self, field: Field) -> str:
        parts = []
        if field.kind == "datepicker":
            parts.append("day/month/year, e.g. 24/11/2012")
        elif field.kind == "datetimepicker":
            parts.append("UK time, e.g. 14:30, yesterday 23:10 or 24/11 14:30")
        elif field.kind in SELECTS:
            parts.append("choose one: " + _numbered(field.options))
        elif field.kind in MULTI:
            parts.append("any of: " + _numbered(field.options) + " (e.g. 1,3)")
        elif field.kind in USERS:
            known = " ".join("@" + self.user_name(u) for u in self.known_users)
            parts.append(f"a user id or {known}")
        elif field.element.get("multiline"):
            parts.append("one line")
        if field.hint:
            parts.append(field.hint.rstrip("."))
        initial = self._initial(field)
        if initial is not None:
            parts.append(f"Enter keeps {initial}")
        elif field.optional:
            parts.append("Enter leaves it empty")
        return "; ".join(parts)


def _numbered(options: list[tuple[str, str]]) -> str:
    return "  ".join(f"{n}) {label}" for n, (_, label) in enumerate(options, start=1))
