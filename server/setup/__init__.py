"""First set-up: the page that makes the first administrator of an empty database."""
