"""Sentinels of the mapping engine, shared with the code that converts a file's
rows in bulk (invoicefiles.services.conversion)."""

# A mapping step's converted value when it varies record by record (the value
# of `fixed` when no one value serves every record).
VARIES = object()
