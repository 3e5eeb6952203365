"""The establishment registry: 2025 administrative units, tax codes, and a synthetic registry generator."""
from services.registry.generate import FIELDS, SECTORS, generate_people, generate_registry
from services.registry.geo import Commune, Province, UnknownUnit, Units, load_units
from services.registry.taxcode import InvalidTaxPrefix, is_valid_tax_code, make_tax_code, tax_code_check_digit

__all__ = [
    "FIELDS", "SECTORS", "generate_people", "generate_registry",
    "Commune", "Province", "UnknownUnit", "Units", "load_units",
    "InvalidTaxPrefix", "is_valid_tax_code", "make_tax_code", "tax_code_check_digit",
]
