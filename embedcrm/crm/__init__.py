"""The CRM core: contacts, leads, pipelines, activities and tasks."""
