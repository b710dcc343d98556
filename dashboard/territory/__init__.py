"""Territorial-control layers: model, reading, measuring, fetching.

model    the layer, its snapshots, the change between two days, areas
read     a folder of daily snapshots or one file, repaired and reported
measure  change between two days, events inside or outside the line
fetch    the DeepStateMap history (the only part that needs a network)
commands the territory and fetch-territory commands' reports
"""
from .measure import change_between, classify_points
from .model import Change, LayerIssue, Snapshot, TerritoryError, TerritoryLayer
from .read import load_layer, load_layer_file, load_snapshot_folder

__all__ = [
    "Change", "LayerIssue", "Snapshot", "TerritoryError", "TerritoryLayer",
    "change_between", "classify_points", "load_layer", "load_layer_file", "load_snapshot_folder",
]
