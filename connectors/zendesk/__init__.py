"""Zendesk Support: client, playbook translation, comparison, plan/apply connector and sandbox desk."""
