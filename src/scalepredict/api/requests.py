"""Request models of the scoring API, generated from the served catalogue: every factor
appears in the OpenAPI document with its question and the meaning of each level."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictInt,
    create_model,
)

from scalepredict.catalogue import Catalogue, Factor
from scalepredict.catalogue import Field as CatalogueField
from scalepredict.catalogue.template import example_proposal


def _unknown_tokens(cat: Catalogue) -> Any:
    """The catalogue's unknown tokens, one component of the document (`UnknownAnswer`)."""
    return Enum("UnknownAnswer", {f"token_{k}": t for k, t in enumerate(cat.unknown)}, type=str)


def _with_unknown(typ: Any, tokens: Any, nullable: bool) -> Any:
    """A field that may be unknown also takes null and the catalogue's unknown tokens."""
    return typ | None | tokens if nullable else typ


def _context_field(f: CatalogueField, tokens: Any, text_max: int, filled: bool) -> tuple[Any, Any]:
    """A context field's type and default; `filled`: a file-row identifier, which a proposal
    may leave out (its number in the request is its row)."""
    bounds: dict[str, Any] = {}
    if f.type == "category" and f.categories:
        typ: Any = Literal[tuple(f.categories)]
    elif f.type in ("string", "category"):
        typ, bounds = str, {"min_length": 1, "max_length": text_max}
    elif f.type == "boolean":
        typ = bool
    elif f.type == "date":
        typ = dt.date
    else:
        # integral floats (3.0) are whole numbers; the bounds belong to the number, not a token
        number = int if f.type == "integer" else float
        typ = Annotated[number, Field(ge=f.min, le=f.max)]
    doc: dict[str, Any] = {"title": f.label or None, "description": f.description}
    optional = f.nullable or filled
    typ = _with_unknown(Annotated[typ, Field(**bounds)] if bounds else typ, tokens, optional)
    return typ, Field(None if optional else ..., **doc)


def _factor_field(factor: Factor, tokens: Any) -> tuple[Any, Any]:
    """A whole level in the factor's range, its label (where the catalogue has them), or
    unknown."""
    rubric = " ".join(f"{k}: {v}" for k, v in (factor.rubric or factor.labels).items())
    doc: dict[str, Any] = {
        "title": factor.label,
        "description": f"[{factor.dimension}] {factor.question} "
        f"Levels {factor.scale_min}..{factor.scale_max}. {rubric} null = unknown answer.",
    }
    level: Any = Annotated[int, Field(ge=factor.scale_min, le=factor.scale_max)]
    if factor.labels:
        others = (t for ts in factor.other_labels.values() for t in ts)
        level = level | Literal[(*factor.labels.values(), *others)]
    return _with_unknown(level, tokens, True), Field(None, **doc)


@dataclass(frozen=True)
class RequestModels:
    """The request bodies of one catalogue (the proposal's fields are the catalogue's)."""

    Proposal: type[BaseModel]
    ScoreRequest: type[BaseModel]
    WhatIfRequest: type[BaseModel]
    PlanRequest: type[BaseModel]
    OutcomesRequest: type[BaseModel]


def _as_sent(value: Any) -> Any:
    return value


def request_models(cat: Catalogue, max_proposals: int) -> RequestModels:
    """`Proposal` documents the fields (OpenAPI, generated clients); the bodies carry each
    proposal as sent, checked by the one validation the CSV upload uses too
    (`scalepredict.data.records`), so both paths accept and refuse the same cells."""
    tokens = _unknown_tokens(cat)
    fields: dict[str, Any] = {
        f.name: _context_field(f, tokens, cat.text_max, cat.filled_in(f.name)) for f in cat.context
    }
    fields.update({factor.name: _factor_field(factor, tokens) for factor in cat.factors})
    fields.update(
        {
            name: (Any, Field(None, description="history: accepted and ignored"))
            for name in cat.history_columns
        }
    )
    examples: Any = [e.proposal for e in cat.examples] or [example_proposal(cat)]
    proposal = create_model(
        "Proposal",
        __config__=ConfigDict(
            extra="forbid",
            title="Proposal",
            str_strip_whitespace=True,
            json_schema_extra={"examples": examples},
        ),
        __doc__=f"One assessment: context and the {len(cat.factors)} factor scores "
        f"(null, a missing field or one of {', '.join(repr(t) for t in cat.unknown)} = "
        "unknown). Whole numbers may be written 3.0.",
        **fields,
    )
    sent = Annotated[dict[str, Any], PlainValidator(_as_sent, json_schema_input_type=proposal)]
    strict = ConfigDict(extra="forbid")
    score = create_model(
        "ScoreRequest",
        __config__=ConfigDict(
            extra="forbid", json_schema_extra={"examples": [{"proposals": examples[:1]}]}
        ),
        proposals=(
            list[sent],
            Field(
                ...,
                min_length=1,
                # counted by the route, which answers 413 (too large), not 422
                json_schema_extra={"maxItems": max_proposals},
                description=f"1 to {max_proposals} proposals, unique {cat.id_column}.",
            ),
        ),
    )
    whatif = create_model(
        "WhatIfRequest",
        __config__=strict,
        proposal=(sent, ...),
        changes=(
            dict[str, StrictInt | None],
            Field(
                ...,
                min_length=1,
                description="factor -> new level (or null for unknown); only factors may change.",
            ),
        ),
    )
    plan = create_model(
        "PlanRequest",
        __config__=strict,
        proposal=(sent, ...),
        # inclusive bounds: BentoML publishes OpenAPI 3.0, where exclusive bounds are booleans
        target_probability=(
            float | None,
            Field(
                None,
                ge=0.01,
                le=0.99,
                strict=True,
                description="Default: the next risk band up (or +0.15).",
            ),
        ),
        max_effort=(
            float | None,
            Field(
                None,
                ge=1,
                le=100,
                strict=True,
                description="Effort budget (catalogue costs per step).",
            ),
        ),
    )
    o = cat.outcome_map
    outcomes = create_model(
        "OutcomesRequest",
        __config__=strict,
        __doc__="What happened to scored initiatives; all or nothing: one bad row stores none.",
        outcomes=(
            list[dict[str, Any]],
            Field(
                ...,
                min_length=1,
                description=f"1 to {max_proposals} outcomes, one per initiative: "
                f"`initiative_id` (scored before), `{cat.outcome.name}` (one of "
                f"{', '.join(o.values)}; {', '.join(o.success)} = {o.success_text}), "
                "`observed_on` (YYYY-MM-DD, not before the scoring) and optionally `funded` "
                "(true/false).",
            ),
        ),
        replace=(
            bool,
            Field(
                False,
                strict=True,
                description="Replace a different outcome already recorded (kept in history).",
            ),
        ),
    )
    return RequestModels(proposal, score, whatif, plan, outcomes)
