"""Problems with a report spec, worded for the person who wrote it.

Every problem names its field (`filters.wallet_id: required for wallet_summary`), and all
problems of a spec are reported at once: pydantic's errors are reworded, and the rules
that span sections add theirs (`promo.reports.spec_rules`).
"""

from __future__ import annotations

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str]


class SpecError(ValueError):
    """An invalid report spec; `problems` lists every problem, each naming its field."""

    def __init__(self, problems: list[str], fields: list[str] | None = None):
        self.problems = list(problems)
        # The field of each problem ('filters.wallet_id', 'spec' for the whole spec), for
        # callers that show problems next to their fields (the API, the page).
        self.fields = list(fields) if fields is not None else ["spec"] * len(self.problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        if len(self.problems) == 1:
            return f"invalid report spec: {self.problems[0]}"
        lines = "".join(f"\n  - {p}" for p in self.problems)
        return f"invalid report spec ({len(self.problems)} problems):{lines}"

    def as_list(self) -> list[dict[str, str]]:
        """[{"field": ..., "message": ...}] without the field prefix in the message."""
        return [
            {"field": f, "message": p.removeprefix(f"{f}: ")}
            for f, p in zip(self.fields, self.problems, strict=True)
        ]

    @classmethod
    def from_validation_error(
        cls, exc: ValidationError, sections: dict[Loc, type[BaseModel]]
    ) -> SpecError:
        located = [friendly(e, sections) for e in exc.errors()]
        return cls([fmt(loc, msg) for loc, msg in located], [path(loc) for loc, _ in located])

    @classmethod
    def at(cls, field: str, message: str) -> SpecError:
        return cls([f"{field}: {message}"], [field])


def raise_problems(title: str, problems: list[Problem]) -> None:
    """Raise every problem at once (if any); pydantic keeps their locations, also nested."""
    if not problems:
        return
    details = [
        InitErrorDetails(
            type=PydanticCustomError("report_spec", "{problem}", {"problem": msg}),
            loc=loc,
            input=None,
        )
        for loc, msg in problems
    ]
    raise ValidationError.from_exception_data(title, details)


def friendly(error: ErrorDetails, sections: dict[Loc, type[BaseModel]]) -> Problem:
    """pydantic's error, reworded for someone editing YAML."""
    kind, loc, ctx = error["type"], tuple(error["loc"]), error.get("ctx") or {}
    if kind == "report_spec":
        return loc, ctx["problem"]
    if kind == "value_error":
        return loc, str(ctx["error"])
    if kind == "extra_forbidden":
        section = sections.get(loc[:-1])
        allowed = f" (allowed: {', '.join(section.model_fields)})" if section else ""
        return loc, f"unknown key{allowed}"
    if kind == "missing":
        return loc, "required"
    if kind == "enum":
        return loc, f"unknown value {error['input']!r}; expected {ctx['expected']}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return loc, f"expected a mapping, got {type(error['input']).__name__}"
    if kind.startswith("date_"):
        return loc, f"{error['input']!r} is not a date (YYYY-MM-DD): {error['msg']}"
    return loc, error["msg"]


def path(loc: Loc) -> str:
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    return text or "spec"


def fmt(loc: Loc, message: str) -> str:
    return f"{path(loc)}: {message}"
