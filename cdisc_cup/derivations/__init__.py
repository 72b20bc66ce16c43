"""Small, pure column functions shared by SDTM mapping and ADaM derivation."""
