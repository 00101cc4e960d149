"""The assessment framework: typed objects, loading and checking, the built-in smart-city
catalogue (`catalogue.yaml`) and the data template rendered from it."""

from scalepredict.catalogue.loader import catalogue_dict, load_catalogue, parse_catalogue
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
    Role,
    Theme,
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
    "Role",
    "Theme",
    "catalogue_dict",
    "load_catalogue",
    "parse_catalogue",
]
