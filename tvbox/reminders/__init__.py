"""Medication reminders: plans and dose log, wake-ups on a persistent job store, the
full-screen reminder and the list of today's doses."""
