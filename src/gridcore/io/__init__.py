"""File formats at the edge: reading and writing gridcore data (JSON, TOML, ...)."""
