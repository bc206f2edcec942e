"""Project.json: finding, reading, changing (only `quality` and `quality_overrides`) and writing it safely."""
