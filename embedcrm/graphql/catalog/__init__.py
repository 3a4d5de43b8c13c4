"""GraphQL of the catalogue: products and services, their import and the sales report."""
