"""Language settings on the blue key: the choice is stored and queued for the server."""
