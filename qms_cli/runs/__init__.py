"""Qms run and record, the history database, accuracy and statistics."""
