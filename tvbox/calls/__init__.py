"""Video calls: consult queue, ringing, auto-answer, calling the family, and the media layer."""
