"""SOS (cancel window, outbox delivery, who answered), "Do you need help?", daily check-in."""
