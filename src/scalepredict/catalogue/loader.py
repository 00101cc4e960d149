"""Reading a catalogue: a YAML file -> a checked `Catalogue` (every problem named with its path
in the file), the built-in one, the one the settings choose, and the JSON view the API and the
planner page read."""

from __future__ import annotations

import sys
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from scalepredict.catalogue.spec import (
    FILE_ROW,
    TEXT_MAX,
    CatalogueSpec,
    FieldSpec,
    by_file_row,
    check_spec,
    identifier_fields,
    label_list,
)
from scalepredict.catalogue.types import (
    Catalogue,
    CatalogueError,
    Dimension,
    Example,
    Factor,
    Field,
    Mitigation,
    Outcome,
    Subgroup,
    Theme,
    fold,
    spellings,
)
from scalepredict.settings import Settings

BUILT_IN = "catalogue.yaml"
ADDED_KEYS: dict[str, Any] = {  # top-level keys added to format 2, with their defaults
    "text_max": TEXT_MAX,
    "effort_unit": {"one": "person-month", "many": "person-months"},
}


# The identifier of an export without one: its row in the file, filled in by the reader
# (`data.identifiers.with_file_rows`), never a model feature.
FILE_ROW_FIELD = Field(
    name=FILE_ROW,
    role="identifier",
    type="integer",
    description="the project's row in its file (the header is row 1), or its number in a request",
    label="File row",
    unique=True,
    min=1,
)


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


def parse_spec(
    raw: Any, source: str = "catalogue", limits: Settings | None = None
) -> CatalogueSpec:
    """The file's mapping -> a spec with no contradiction, or CatalogueError naming them all.
    `limits`: the settings whose max_factors, max_columns and max_levels bound a catalogue
    from a file; None for one already checked or written in code (a bundle's, the built-in)."""
    if not isinstance(raw, dict):
        raise CatalogueError(
            "a catalogue is a YAML mapping (keys: dimensions, factors, ...)", source
        )
    # counted before the fields are checked: each costs work, and 10^5 of them took minutes
    counted = (
        {} if limits is None else {"factors": limits.max_factors, "context": limits.max_columns}
    )
    for key, limit in counted.items():
        n = len(raw.get(key) or ()) if isinstance(raw.get(key), list) else 0
        if n > limit:
            raise CatalogueError([(key, f"at most {limit} {key} entries ({n} given)")], source)
    try:
        spec = CatalogueSpec.model_validate(raw)
    except ValidationError as e:
        raise CatalogueError(
            [(_path(err["loc"]), err["msg"]) for err in e.errors()], source
        ) from None
    problems = check_spec(spec, sys.maxsize if limits is None else limits.max_levels)
    if problems:
        raise CatalogueError(problems, source)
    return spec


def _field(f: FieldSpec, role: str) -> Field:
    return Field(
        name=f.name,
        role=role,  # type: ignore[arg-type]
        type=f.type,
        description=f.description,
        label=f.label,
        nullable=f.nullable,
        unique=f.unique,
        feature=f.feature,
        categories=tuple(f.categories or ()),
        min=f.min,
        max=f.max,
        column=f.column or "",
        log=f.log,
        direction=f.direction or 0,
    )


def parse_catalogue(
    raw: Any, source: str = "catalogue", limits: Settings | None = None
) -> Catalogue:
    """Build and check a Catalogue from its YAML mapping (`limits`: as `parse_spec`)."""
    spec = parse_spec(raw, source, limits)
    factors = []
    for f in spec.factors:
        scale = f.scale or spec.scale
        assert scale is not None  # check_spec refuses a factor without a scale
        mitigations = tuple(
            Mitigation(m.action, m.theme or "", m.effort, m.months) for m in f.mitigations
        )
        factors.append(
            Factor(
                name=f.name,
                dimension=f.dimension,
                label=f.label or f.name.replace("_", " ").capitalize(),
                question=f.question,
                rubric=dict(sorted(f.rubric.items())),
                mitigations=mitigations,
                scale_min=scale.min,
                scale_max=scale.max,
                labels={k: label_list(t)[0] for k, t in sorted(scale.labels.items())},
                direction=f.direction,
                column=f.column or "",
                other_labels={
                    k: tuple(label_list(t)[1:])
                    for k, t in sorted(scale.labels.items())
                    if len(label_list(t)) > 1
                },
                actionable=f.actionable,
            )
        )
    o = spec.outcome
    outcome = Field(
        name=o.name, role="outcome", type="integer", description=o.description,
        label=o.label, min=0, max=1, column=o.column or "", nullable=True,
    )  # fmt: skip
    key = tuple(identifier_fields(spec)) or (next(c.name for c in spec.context if c.unique),)
    identifier = key[0]
    # A field named as the identifier is unique only when it says so: repeats of a name that
    # is no key (a project evaluated twice) are kept and reported (`data.identifiers`).
    context = tuple(_field(c, c.role) for c in spec.context)
    if by_file_row(spec):
        context = (FILE_ROW_FIELD, *context)
    return Catalogue(
        version=spec.version,
        themes={n: Theme(n, t.label, t.description) for n, t in spec.themes.items()},
        effort_cost={n: e.cost for n, e in spec.efforts.items()},
        dimensions=tuple(
            Dimension(d.name, d.label or d.name, d.description) for d in spec.dimensions
        ),
        factors=tuple(factors),
        context=context,
        outcome=outcome,
        truth=_field(spec.truth, "truth") if spec.truth else None,
        outcome_map=Outcome(
            outcome,
            tuple(str(v) for v in o.success),
            tuple(str(v) for v in o.failure),
            tuple(str(v) for v in o.not_rated),
            o.success_text,
            o.failure_text,
        ),
        examples=tuple(Example(e.title, dict(e.proposal)) for e in spec.examples),
        name=spec.name,
        title=spec.title,
        model_name=spec.model_name,
        unknown=tuple(spec.unknown),
        unknown_policy=spec.unknown_policy,
        identifier=identifier,
        key=key,
        file_row=by_file_row(spec),
        text_max=spec.text_max,
        group=spec.group,
        stage=spec.stage,
        date=spec.date,
        default_effort=spec.default_effort,
        effort_unit=(spec.effort_unit.one, spec.effort_unit.many),
        ignore=tuple(spec.ignore),
        subgroups=tuple(
            Subgroup(g.name, g.field, g.min, g.max, tuple(g.values or ())) for g in spec.subgroups
        ),
        source=_source(spec),
        _factor_index={f.name: f for f in factors},
    )


def _source(spec: CatalogueSpec) -> dict[str, Any]:
    """The catalogue as written, which its fingerprint hashes: a key added to the format since
    is left out while it holds its default, so a catalogue that does not use it keeps its
    fingerprint (and the models trained with it keep loading)."""
    source = spec.model_dump(mode="json")
    for key, default in ADDED_KEYS.items():
        if source.get(key) == default:
            del source[key]
    for f in source["factors"]:  # per factor: `actionable` only where false
        if f.get("actionable", True):
            f.pop("actionable", None)
    return source


def read_catalogue(path: str | Path, settings: Settings) -> Catalogue:
    """A catalogue file, bounded by the settings' limits; CatalogueError (with every problem)
    if it cannot be used."""
    path = Path(path)
    limit = settings.max_catalogue_bytes
    try:
        size = path.stat().st_size
        if size > limit:
            raise CatalogueError(f"the file has {size} bytes; at most {limit} are read", str(path))
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise CatalogueError(f"cannot read the file ({e.strerror or e})", str(path)) from None
    except yaml.YAMLError as e:
        raise CatalogueError(f"not valid YAML ({str(e).splitlines()[0]})", str(path)) from None
    return parse_catalogue(raw, str(path), settings)


@cache
def builtin_catalogue() -> Catalogue:
    """The built-in smart-city assessment framework."""
    text = resources.files("scalepredict.catalogue").joinpath(BUILT_IN).read_text(encoding="utf-8")
    return parse_catalogue(yaml.safe_load(text), BUILT_IN)


_read: dict[tuple[str, int], Catalogue] = {}


def load_catalogue(settings: Settings, path: str | Path | None = None) -> Catalogue:
    """The catalogue at `path`, else the `catalogue` setting's, else the built-in one."""
    path = path or settings.catalogue
    if path is None:
        return builtin_catalogue()
    resolved = Path(path).resolve()
    key = (str(resolved), resolved.stat().st_mtime_ns if resolved.exists() else 0)
    if key not in _read:
        _read[key] = read_catalogue(resolved, settings)
    return _read[key]


def catalogue_dict(cat: Catalogue) -> dict[str, Any]:
    """A JSON-ready view of the catalogue (for the API, the page and the template)."""
    first = cat.factors[0]
    return {
        "version": cat.version,
        "name": cat.name,
        "title": cat.title,
        "fingerprint": cat.fingerprint,
        "identifier": cat.id_column,
        "key": list(cat.key),
        "group": cat.group,
        "stage": cat.stage,
        "scale": {"min": first.scale_min, "max": first.scale_max},
        "themes": {
            t.name: {"label": t.label, "description": t.description} for t in cat.themes.values()
        },
        "efforts": cat.effort_cost,
        "effort_unit": {"one": cat.effort_unit[0], "many": cat.effort_unit[1]},
        "dimensions": [
            {
                "name": d.name,
                "label": d.label,
                "description": d.description,
                "factors": [
                    {
                        "name": f.name,
                        "label": f.label,
                        "question": f.question,
                        "scale": {
                            "min": f.scale_min,
                            "max": f.scale_max,
                            "labels": {str(k): v for k, v in f.labels.items()},
                        },
                        "direction": f.direction,
                        "actionable": f.actionable,
                        "rubric": {str(k): v for k, v in f.rubric.items()},
                        "mitigations": [m.__dict__ for m in f.mitigations],
                    }
                    for f in cat.factors
                    if f.dimension == d.name
                ],
            }
            for d in cat.dimensions
        ],
        "context": [
            {
                k: v
                for k, v in c.__dict__.items()
                if v not in (None, (), "", {}) and k not in ("column", "log", "direction")
            }
            | ({"filled_in": True} if cat.filled_in(c.name) else {})  # no form control
            for c in cat.context
        ],
        "outcome": {"name": cat.outcome.name, "description": cat.outcome.description},
        "examples": [
            {"title": e.title, "proposal": _levels(e.proposal, cat)} for e in cat.examples
        ],
    }


def _levels(proposal: dict[str, Any], cat: Catalogue) -> dict[str, Any]:
    """A proposal with every factor's label text as its level (the page's controls hold levels)."""
    out = dict(proposal)
    for f in cat.factors:
        by_text = spellings(f)
        value = out.get(f.name)
        if isinstance(value, str) and fold(value) in by_text:
            out[f.name] = by_text[fold(value)]
    return out
