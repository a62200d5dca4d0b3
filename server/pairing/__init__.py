"""Pairing a TV box with an elder: codes, the device API and the family page's pair/remove forms."""
