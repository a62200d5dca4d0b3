"""Clinic appointments on the TV: visits, booking, cancelling, visit reminders."""
