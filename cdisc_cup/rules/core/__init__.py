"""CDISC CORE's published rules, loaded as data and run with our own vectorised operators."""
