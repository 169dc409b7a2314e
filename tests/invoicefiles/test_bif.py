from tests.support.invoicefiles import imt_file, imt_row


def bif_lines(f):
    from invoicefiles.services.storage import files_dir

    return (files_dir() / f.bif_path).read_bytes().decode("utf-8").split("\r\n")


def test_the_bif_has_a_file_header_then_ih_cr_id_per_invoice(upload, imt_biller):
    second = imt_row("INV002", amount="25.25", customer="0407", name="John")
    f = upload(imt_file(imt_row("INV001", amount="50.00", past_due="12.50"), second))
    lines = bif_lines(f)

    fh = lines[0].split("|")
    assert fh[0] == "FH" and fh[1] == str(imt_biller.biller_guid)
    assert fh[3:] == ["2", "75.25"]  # InvoiceCount, TotalInvoiceAmount
    assert [line[:2] for line in lines[1:7]] == ["IH", "CR", "ID", "IH", "CR", "ID"]
    assert lines[7:] == [""]  # the file ends with a line end
    # IH in FileSpecID order: 7 RowType, 8 RecordType, 9 InvoiceFormatGuid, 10 InvoiceNumber,
    # 11 InvoiceDate, 12 InvoiceDueDate, 13 TotalAmountDue, 38-47 Custom1-10, 93 BalanceDue,
    # 194 BalanceForward, 252 InvoiceTypeID, 346 BillerBillYear, 347 BillerInvoiceNumber,
    # 407 PastDue
    assert lines[1].split("|") == (
        ["IH", "N", "", "INV001", "2026-10-01", "2026-10-21", "50.00"] + [""] * 10
        + ["50.00", "Yes", "164", "2026", "INV001", "12.50"]
    )  # fmt: skip
    # CR: 58 RowType, 59 AccountNumber, 60 CustomerName, 61-67 address to email,
    # 69 RegistrationValue
    assert lines[2].split("|") == [
        "CR", "0406", "Jane Roe", "1 Main St", "", "Peoria", "AZ", "85345", "555-0100",
        "jane@example.test", "",
    ]  # fmt: skip
    assert lines[3] == "ID"


def test_values_that_would_break_the_bif_are_made_safe(upload):
    # (A control character inside a text value refuses the row: test_strict_values.)
    row = imt_row("INV001", name='"Smith | Sons\u2029Ltd"', address="1\u2028Main St")
    f = upload(imt_file(row))
    lines = bif_lines(f)

    assert len(lines) == 5
    cr = lines[2].split("|")
    assert len(cr) == 11
    assert cr[2] == "Smith   Sons Ltd"
    assert cr[3] == "1 Main St"


def test_a_failed_file_has_no_bif(upload, api):
    f = upload(imt_file(imt_row(amount="x")))

    response = api.get(f"/api/v1/billers/1367/invoice-files/{f.pk}/bif")
    assert response.status_code == 404
    assert response.json()["code"] == "bif_not_available"
