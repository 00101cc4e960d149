"""The assessment framework: typed objects, loading and checking, the built-in smart-city
catalogue (`catalogue.yaml`) and the data template rendered from it."""

from scalepredict.catalogue.loader import (
    builtin_catalogue,
    catalogue_dict,
    load_catalogue,
    parse_catalogue,
    read_catalogue,
)
from scalepredict.catalogue.types import (
    Catalogue,
    CatalogueError,
    Dimension,
    Effort,
    Example,
    Factor,
    Field,
    FieldType,
    Mitigation,
    Outcome,
    Role,
    Subgroup,
    Theme,
    category_spellings,
    fold,
    spellings,
)

__all__ = [
    "Catalogue",
    "CatalogueError",
    "Dimension",
    "Effort",
    "Example",
    "Factor",
    "Field",
    "FieldType",
    "Mitigation",
    "Outcome",
    "Role",
    "Subgroup",
    "Theme",
    "builtin_catalogue",
    "catalogue_dict",
    "category_spellings",
    "fold",
    "load_catalogue",
    "parse_catalogue",
    "read_catalogue",
    "spellings",
]
