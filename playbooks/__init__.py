"""Playbooks: the YAML process definitions, their schema, loader and desired-state model."""
