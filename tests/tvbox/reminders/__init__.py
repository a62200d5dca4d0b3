"""Tests of tvbox/reminders/."""
