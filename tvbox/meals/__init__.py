"""Community meals on the TV: what is ordered, tomorrow's lunch menu, ordering, changing,
cancelling and skipping a standing order's day."""
