"""adam stage."""
