"""Approved phrasing: Jinja templates per phrase and locale, approval lock, rendering."""
