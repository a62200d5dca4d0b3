"""Medication reminders on the server: plans, dose records, missed-dose sweep, FHIR export."""
