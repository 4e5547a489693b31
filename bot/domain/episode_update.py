"""An update to a still-missing episode: a re-grade of its risk, a sighting, a line of
information, corrections of the details recorded at the report. What the form gives, typed;
`validate` says what is wrong, per form field."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime

from bot.domain.episode import MAX_LONG, MAX_SHORT, risk_factors_problem
from bot.domain.people import is_staff_id
from bot.domain.states import Risk
from bot.domain.text import unstorable

MAX_REASON = 1000
# The details a control room most often gets wrong at the first report, and the words the
# episode's thread uses for each (never the values: they can hold personal data).
CORRECTABLE: dict[str, str] = {
    "last_seen_place": "last seen place",
    "description": "description",
    "reported_by": "reported by",
    "incident_ref": "incident reference",
    "placing_authority": "placing authority",
    "risk_factors": "risk factors",
    "officer_id": "officer in the case",
}
# Where each correction sits on the form (the new-episode form's block ids).
FORM_FIELD = {name: ("officer" if name == "officer_id" else name) for name in CORRECTABLE}
_LIMITS = {
    "last_seen_place": MAX_SHORT * 2,
    "description": MAX_LONG,
    "reported_by": MAX_LONG,
    "incident_ref": 60,
    "placing_authority": MAX_SHORT,
}


@dataclass(frozen=True)
class Corrections:
    """The details changed on the form; None: left as they were."""

    last_seen_place: str | None = None
    description: str | None = None
    reported_by: str | None = None
    incident_ref: str | None = None
    placing_authority: str | None = None
    risk_factors: tuple[str, ...] | None = None
    officer_id: str | None = None

    def changed(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]


@dataclass(frozen=True)
class EpisodeUpdate:
    # The risk chosen, when it was changed on the form; None: left as it was.
    risk: Risk | None = None
    reason: str = ""
    decided_by: str = ""
    sighting_at: datetime | None = None
    sighting_place: str = ""
    information: str = ""
    corrections: Corrections = field(default_factory=Corrections)

    @property
    def has_sighting(self) -> bool:
        return self.sighting_at is not None and bool(self.sighting_place.strip())

    def is_empty(self) -> bool:
        return not (
            self.risk is not None
            or self.reason.strip()
            or self.sighting_at is not None
            or self.sighting_place.strip()
            or self.information.strip()
            or self.corrections.changed()
        )

    def validate(
        self, *, now: datetime, last_seen_at: datetime, looked_after: bool
    ) -> dict[str, str]:
        errors: dict[str, str] = {}
        if self.is_empty():
            errors["information"] = (
                "Nothing to save: re-grade the risk, add a sighting or information, or correct "
                "a detail."
            )
            return errors
        if self.risk is not None and not self.reason.strip():
            errors["risk_reason"] = "Say why the risk changes (who decided is asked below)."
        if len(self.reason) > MAX_REASON:
            errors["risk_reason"] = f"Keep the reason under {MAX_REASON} characters."
        if self.decided_by and not is_staff_id(self.decided_by):
            errors["decided_by"] = "That is not someone I can record: choose the person again."
        errors.update(self._sighting_errors(now=now, last_seen_at=last_seen_at))
        if len(self.information) > MAX_LONG:
            errors["information"] = f"Keep this under {MAX_LONG} characters."
        errors.update(self._correction_errors(looked_after=looked_after))
        errors.update(self._unstorable())
        return errors

    def _unstorable(self) -> dict[str, str]:
        """Text that cannot be stored as typed (see bot.domain.text), by form field."""
        typed = {
            "risk_reason": self.reason,
            "sighting_place": self.sighting_place,
            "information": self.information,
        }
        for name in _LIMITS:  # the corrections typed as text
            typed[FORM_FIELD[name]] = getattr(self.corrections, name) or ""
        errors = {}
        for field_id, text in typed.items():
            bad = unstorable(text)
            if bad is not None:
                errors[field_id] = (
                    f"This contains a control character ({bad}) that cannot be stored: "
                    "retype it without."
                )
        return errors

    def _sighting_errors(self, *, now: datetime, last_seen_at: datetime) -> dict[str, str]:
        place = self.sighting_place.strip()
        if self.sighting_at is None:
            return {"sighting_at": "Give when the child was seen."} if place else {}
        if not place:
            return {"sighting_place": "Give where the child was seen."}
        if len(place) > MAX_SHORT * 2:
            return {"sighting_place": f"Keep this under {MAX_SHORT * 2} characters."}
        if self.sighting_at > now:
            return {"sighting_at": "A sighting cannot be in the future."}
        if self.sighting_at < last_seen_at:
            return {"sighting_at": "That is before the child was last seen."}
        return {}

    def _correction_errors(self, *, looked_after: bool) -> dict[str, str]:
        fixed = self.corrections
        errors: dict[str, str] = {}
        if fixed.last_seen_place is not None and not fixed.last_seen_place.strip():
            errors["last_seen_place"] = "Say where the child was last seen."
        for name, limit in _LIMITS.items():
            value = getattr(fixed, name)
            if value is not None and len(value) > limit:
                errors[FORM_FIELD[name]] = f"Keep this under {limit} characters."
        if fixed.placing_authority and fixed.placing_authority.strip() and not looked_after:
            errors["placing_authority"] = "A placing authority is only for a looked-after child."
        factors = None if fixed.risk_factors is None else risk_factors_problem(fixed.risk_factors)
        if factors:
            errors["risk_factors"] = factors
        if fixed.officer_id is not None and not fixed.officer_id:
            errors["officer"] = "Choose the officer in the case."
        elif fixed.officer_id is not None and not is_staff_id(fixed.officer_id):
            errors["officer"] = "That is not someone I can record: choose the officer again."
        return errors
