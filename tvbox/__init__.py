"""Anxin TV box: the Kivy shell an elder drives with a remote, its local store and server link."""

__version__ = "0.1.0"
