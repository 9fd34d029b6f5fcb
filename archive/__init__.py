"""Originals store and catalog: the source of truth of a Sanad archive."""
