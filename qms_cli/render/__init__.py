"""Output for people (Rich on a terminal, plain aligned text otherwise) and for programs (JSON)."""
