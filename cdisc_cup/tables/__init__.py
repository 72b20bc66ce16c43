"""Analysis output: the paper's Tables 1-3 (HTML and CSV) and Figure 1 (PNG and SVG),
computed from ADSL and ADAE only (`compute`), then rendered (`render`, `figure`)."""

from cdisc_cup.tables.compute import PaperTables, compute_tables
from cdisc_cup.tables.render import write_tables

__all__ = ["PaperTables", "compute_tables", "write_tables"]
