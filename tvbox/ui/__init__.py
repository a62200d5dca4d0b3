"""What every screen shares: key table, strings, palette, fonts, line breaking, widgets."""
