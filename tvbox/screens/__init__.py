"""Kivy screens of the box: each ``<name>.py`` has its ``<name>.kv`` beside it."""
