"""Voice commands in the box: the recognizer's glue and what each intent does (named
`listening` so as not to shadow the top-level `voice` package)."""
