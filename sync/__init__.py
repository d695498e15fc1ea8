"""Scheduled sync jobs: renewal reminders, periodic callbacks, new-customer follow-ups."""
