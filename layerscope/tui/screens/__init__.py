"""Screens: loading, inspect, help and error."""
