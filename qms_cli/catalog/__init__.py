"""The profiles: where they are found, loading, schemas, semantic checks, the card and speed tables."""
