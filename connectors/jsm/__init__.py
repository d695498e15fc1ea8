"""Jira Service Management: sandbox (`sandbox/`), client (`client.py`), translation of the playbook
(`translate.py`), plan/apply connector (`connector.py`), sync desk (`sync_desk.py`), demo (`demo.py`)."""
