"""Desk connectors: each populates a desk's current state, diffs it with a playbook and applies the plan."""
