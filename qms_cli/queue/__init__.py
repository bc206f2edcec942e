"""The queue: tasks wait their turn for a graphics card under one policy (policy.py), stored in SQLite on one
machine or PostgreSQL across many (store.py, postgres.py), run by workers (worker.py); simulate.py compares the
policy with FIFO and strict priority."""
