"""IMT invoice files, built row by row."""

HEADER = (
    "invoice_number|invoice_date|due_date|amount_due|past_due_amount|customer_id|customer_name|"
    "address|address2|city|state|ZIP|phone|email|registration value"
)


def imt_row(number="INV001", *, date="2026-10-01", due="2026-10-21", amount="50.00",
            past_due="0.00", customer="0406", name="Jane Roe", address="1 Main St",
            address2="", city="Peoria", state="AZ", zip_code="85345", phone="555-0100",
            email="jane@example.test", registration=""):  # fmt: skip
    return "|".join(
        [number, date, due, amount, past_due, customer, name, address, address2, city, state,
         zip_code, phone, email, registration]
    )  # fmt: skip


def imt_file(*rows, header=HEADER, newline="\n") -> bytes:
    return (newline.join([header, *rows]) + newline).encode()
