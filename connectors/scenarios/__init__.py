"""Executable scenarios: the SOP's items told as ticket stories, run against a desk (`deskbook test`).

A scenario is one YAML file beside the playbook (`playbooks/scenarios/<playbook>/<name>.yaml`):
the SOP ids it proves, then steps (a customer writes in a category by chat; an agent applies a
macro; 25 hours pass; the customer replies ...) each with the desk state expected afterwards
(group, priority, status, tags, fields, the SLA policy in force and its targets, the views the
ticket is in, the text the customer received). `model.py` reads and checks the files,
`zendesk_driver.py` / `jsm_driver.py` act on a desk and read its state back in the playbook's
words, `runner.py` runs them, compares, and checks that every SOP id is proved or listed as not
expressible on that desk (`NOT_EXPRESSIBLE` in the scenario folder's `coverage.yaml`).
"""
