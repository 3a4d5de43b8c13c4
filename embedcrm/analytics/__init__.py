"""Marketing analytics: funnel, sources, spend, managers, forecast, forms — computed in SQL."""
