"""Elders' records: the elder API, edits (speech, language) from pages and boxes."""
