"""The home screen: six big tiles, the numbered shortcuts, and what each tile opens."""
