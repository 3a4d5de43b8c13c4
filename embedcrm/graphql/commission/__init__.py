"""GraphQL of commission and the staff's workload."""
