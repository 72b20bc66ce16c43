"""cdisc-cup: compassionate use program (CUP) eCRF export -> CDISC SDTM/ADaM, validated.

The package is laid out as the pipeline runs:
readers -> spec -> mapping (SDTM) -> adam (ADaM) -> rules (validation) -> writers -> cli.
"""

__version__ = "0.1.0"
