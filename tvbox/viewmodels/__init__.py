"""View-models of the TV box: plain Python state and actions, no Kivy (tested with pytest)."""
