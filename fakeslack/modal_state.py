"""Modal state: turn plain answers into ``view.state.values`` as Slack sends them to the bot.

Tests and the demo say what the user typed or chose ("Alex", a date, the option value "high");
``values_for`` finds each input in the view and writes the entry Slack would, with the element's
type and the state key that type uses (``value``, ``selected_date``, ``selected_option``...).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import date, datetime
from datetime import time as dtime
from typing import Any

__all__ = ["option_with_value", "values_for"]

# element type -> (state key, initial-value key, empty state value)
_STATE_KEYS: dict[str, tuple[str, str, Any]] = {
    "plain_text_input": ("value", "initial_value", None),
    "email_text_input": ("value", "initial_value", None),
    "url_text_input": ("value", "initial_value", None),
    "number_input": ("value", "initial_value", None),
    "datepicker": ("selected_date", "initial_date", None),
    "timepicker": ("selected_time", "initial_time", None),
    "datetimepicker": ("selected_date_time", "initial_date_time", None),
    "static_select": ("selected_option", "initial_option", None),
    "external_select": ("selected_option", "initial_option", None),
    "radio_buttons": ("selected_option", "initial_option", None),
    "checkboxes": ("selected_options", "initial_options", []),
    "multi_static_select": ("selected_options", "initial_options", []),
    "users_select": ("selected_user", "initial_user", None),
    "multi_users_select": ("selected_users", "initial_users", []),
    "conversations_select": ("selected_conversation", "initial_conversation", None),
    "channels_select": ("selected_channel", "initial_channel", None),
}

# Told apart from None, which is an answer: "clear this input".
_UNANSWERED = object()


def values_for(view: Mapping[str, Any], answers: Mapping[str, object]) -> dict[str, Any]:
    """``view.state.values`` as Slack would send it after a user typed ``answers``.

    ``answers`` is keyed by an input block's block_id (or its element's action_id) and holds
    plain Python values: str for text inputs, ``date``/"YYYY-MM-DD" for datepickers, an aware
    ``datetime`` or unix seconds for datetimepickers, the option *value* for selects and radio
    buttons, a list of values for checkboxes, a user id for users_select. An input not answered
    keeps its initial value, as in Slack, or else gets Slack's empty state; an answer of None
    clears it. Raises ValueError for unknown keys and options the view does not offer.
    """
    state: dict[str, Any] = {}
    used: set[str] = set()
    for index, block in enumerate(view.get("blocks") or []):
        if block.get("type") != "input" or not isinstance(block.get("element"), dict):
            continue
        element = block["element"]
        block_id = block.get("block_id") or f"_block{index}"
        action_id = element.get("action_id") or f"_action{index}"
        key = block_id if block_id in answers else action_id if action_id in answers else None
        if key is not None:
            used.add(key)
        entry = _state_entry(element, answers[key] if key is not None else _UNANSWERED, block_id)
        state[block_id] = {action_id: entry}
    unknown = set(answers) - used
    if unknown:
        raise ValueError(f"answers for inputs the view does not have: {sorted(unknown)}")
    return state


def option_with_value(element: Mapping[str, Any], value: str, where: str) -> dict[str, Any]:
    """The element's option (in ``options`` or ``option_groups``) whose value is ``value``.

    Slack sends the whole option object back, so a test naming an option the view does not
    offer is a mistake worth a ValueError rather than a payload Slack could never send.
    """
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    for option in options:
        if option.get("value") == value:
            return copy.deepcopy(option)
    offered = [o.get("value") for o in options]
    raise ValueError(f"{where}: no option with value {value!r}; the view offers {offered}")


def _state_entry(element: dict[str, Any], answer: object, block_id: str) -> dict[str, Any]:
    kind = str(element.get("type"))
    if kind not in _STATE_KEYS:
        if answer is _UNANSWERED or answer is None:
            return {"type": kind}
        raise ValueError(f"{block_id}: element type {kind!r} is not supported by values_for")
    state_key, initial_key, empty = _STATE_KEYS[kind]
    if answer is _UNANSWERED:
        value = copy.deepcopy(element.get(initial_key, empty))
    elif answer is None:
        value = copy.deepcopy(empty)
    else:
        value = _convert(kind, element, answer, block_id)
    return {"type": kind, state_key: value}


def _convert(kind: str, element: dict[str, Any], answer: object, block_id: str) -> Any:
    if kind == "datepicker":
        return _as_date(answer, block_id)
    if kind == "timepicker":
        return answer.strftime("%H:%M") if isinstance(answer, dtime) else str(answer)
    if kind == "datetimepicker":
        return _as_unix_seconds(answer, block_id)
    if kind in ("static_select", "external_select", "radio_buttons"):
        return option_with_value(element, str(answer), block_id)
    if kind in ("checkboxes", "multi_static_select"):
        return [option_with_value(element, str(v), block_id) for v in _as_list(answer, block_id)]
    if kind == "multi_users_select":
        return [str(v) for v in _as_list(answer, block_id)]
    return str(answer)


def _as_date(answer: object, block_id: str) -> str:
    if isinstance(answer, datetime):
        raise ValueError(f"{block_id}: a datepicker takes a date, not a datetime")
    if isinstance(answer, date):
        return answer.isoformat()
    text = str(answer)
    date.fromisoformat(text)  # raises ValueError for anything Slack would not send
    return text


def _as_unix_seconds(answer: object, block_id: str) -> int:
    if isinstance(answer, datetime):
        if answer.tzinfo is None:
            raise ValueError(f"{block_id}: a datetimepicker answer must be timezone-aware")
        return int(answer.timestamp())
    if isinstance(answer, int) and not isinstance(answer, bool):
        return answer
    raise ValueError(f"{block_id}: a datetimepicker takes an aware datetime or unix seconds")


def _as_list(answer: object, block_id: str) -> list[object]:
    if isinstance(answer, (list, tuple, set, frozenset)):
        return list(answer)
    raise ValueError(f"{block_id}: a multi-select takes a list of values")
