"""The establishment registry: 2025 administrative units, tax codes, columns and the import.

The synthetic registry is the demo's (:mod:`services.demo.registry`)."""
from services.registry.geo import Commune, Province, Units, UnknownUnit, load_units
from services.registry.taxcode import InvalidTaxPrefix, is_valid_tax_code, make_tax_code, tax_code_check_digit

__all__ = [
    "Commune", "Province", "UnknownUnit", "Units", "load_units",
    "InvalidTaxPrefix", "is_valid_tax_code", "make_tax_code", "tax_code_check_digit",
]
