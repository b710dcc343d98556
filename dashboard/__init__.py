"""Territorial-map dashboard for conflict events: offline, on Dash and GeoPandas."""
__version__ = "0.1.0"
