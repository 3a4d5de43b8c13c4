"""The mutations of the catalogue, one module each."""

from embedcrm.graphql.catalog.mutations import create_product, import_products, update_product

__all__ = ["create_product", "import_products", "update_product"]
