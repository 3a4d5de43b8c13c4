"""The mutations of imports, one module each."""

from embedcrm.graphql.imports.mutations import import_csv, preview_csv_import

__all__ = [
    "import_csv",
    "preview_csv_import",
]
