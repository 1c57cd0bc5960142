"""In-memory caches; each is owned by the repository whose rows it holds."""
