"""Widgets of the inspect screen: layers, details, summary, file tree, waste."""
