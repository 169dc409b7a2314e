"""The staging tables' names and columns (see invoicefiles.services.staging):
apart, so that the staging and the conversion SQL, which staging runs, can both
read them without importing each other."""

from partners.mapping import IC_FIELDS

TABLE = "ici_invoice_file_stage"
RAW = "ici_invoice_file_raw"

# (stage column, target, model field, kind), in a fixed order.
COLUMNS: list[tuple[str, str, str, str]] = [
    (f"{'i' if target == 'invoice' else 'c'}_{model_field}", target, model_field, kind)
    for target, model_field, kind in IC_FIELDS.values()
]
STAGE_COLUMN = {(target, field): column for column, target, field, _ in COLUMNS}
KIND = {column: kind for column, _, _, kind in COLUMNS}
INVOICE_COLUMNS = [(c, f, k) for c, t, f, k in COLUMNS if t == "invoice"]
CUSTOMER_COLUMNS = [(c, f, k) for c, t, f, k in COLUMNS if t == "customer"]
