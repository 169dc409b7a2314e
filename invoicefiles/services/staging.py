"""The staging table: a file's mapped rows, in the database but outside the hub's
tables, until the whole file is read and found good.

One temporary table per connection. PostgreSQL fills it with COPY; SQLite with
`executemany` in batches (a temporary table does not take the main database's
write lock, so the web process and the worker keep writing while a file is
read). The merge into customers and invoices is then a few `INSERT ... SELECT
... ON CONFLICT` statements in one transaction (both databases speak that
dialect), so a file is applied whole or not at all.
"""

from decimal import Decimal

from django.db import connection

from partners.mapping import DATE, IC_FIELDS, INT, MONEY, TEXT, YESNO

TABLE = "ici_invoice_file_stage"

# (stage column, target, model field, kind), in a fixed order.
COLUMNS: list[tuple[str, str, str, str]] = [
    (f"{'i' if target == 'invoice' else 'c'}_{model_field}", target, model_field, kind)
    for target, model_field, kind in IC_FIELDS.values()
]
STAGE_COLUMN = {(target, field): column for column, target, field, _ in COLUMNS}
KIND = {column: kind for column, _, _, kind in COLUMNS}
INVOICE_COLUMNS = [(c, f, k) for c, t, f, k in COLUMNS if t == "invoice"]
CUSTOMER_COLUMNS = [(c, f, k) for c, t, f, k in COLUMNS if t == "customer"]

_PG_TYPES = {TEXT: "text", MONEY: "numeric(14,2)", DATE: "date", INT: "bigint", YESNO: "boolean"}
_SQLITE_TYPES = {TEXT: "TEXT", MONEY: "TEXT", DATE: "TEXT", INT: "INTEGER", YESNO: "INTEGER"}
SQLITE_BATCH = 20_000


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


_INVOICE_FIELDS = [f for _, f, _ in INVOICE_COLUMNS]
_CUSTOMER_FIELDS = [f for _, f, _ in CUSTOMER_COLUMNS]


class Stage:
    """Write mapped rows with `add(line, invoice, customer)`; `close()` when done."""

    def __init__(self):
        self.postgres = is_postgres()
        types = _PG_TYPES if self.postgres else _SQLITE_TYPES
        columns = ", ".join(f"{column} {types[kind]}" for column, _, _, kind in COLUMNS)
        line = "line bigint NOT NULL" if self.postgres else "line INTEGER PRIMARY KEY"
        self.cursor = connection.cursor()
        self.cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        self.cursor.execute(f"CREATE TEMPORARY TABLE {TABLE} ({line}, {columns})")
        self.names = ["line"] + [column for column, *_ in COLUMNS]
        self.count = 0
        self._copy = None
        self._batch: list[tuple] = []
        if self.postgres:
            self._copy_cm = self.cursor.cursor.copy(
                f"COPY {TABLE} ({', '.join(self.names)}) FROM STDIN"
            )
            self._copy = self._copy_cm.__enter__()
        else:
            placeholders = ", ".join("?" for _ in self.names)
            self._insert = f"INSERT INTO {TABLE} ({', '.join(self.names)}) VALUES ({placeholders})"

    def add(self, line: int, invoice: dict, customer: dict) -> None:
        self.count += 1
        # Decimal and date are adapted by the driver (Django registers sqlite3's adapters).
        get_i, get_c = invoice.get, customer.get
        row = [line]
        row.extend([get_i(f) for f in _INVOICE_FIELDS])
        row.extend([get_c(f) for f in _CUSTOMER_FIELDS])
        if self._copy is not None:
            self._copy.write_row(row)
            return
        self._batch.append(row)
        if len(self._batch) >= SQLITE_BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self._batch:
            return
        raw = self.cursor.cursor  # sqlite3's own cursor: no Django wrapping per batch
        outside = not connection.in_atomic_block
        if outside:  # one transaction per batch, on the temporary database only
            raw.execute("BEGIN")
        try:
            raw.executemany(self._insert, self._batch)
        except BaseException:
            if outside:
                raw.execute("ROLLBACK")
            raise
        if outside:
            raw.execute("COMMIT")
        self._batch = []

    def finish(self) -> None:
        """All rows written: end the COPY, index for the merge and the BIF."""
        if self._copy is not None:
            self._copy_cm.__exit__(None, None, None)
            self._copy = None
            self.cursor.execute(f"ALTER TABLE {TABLE} ADD PRIMARY KEY (line)")
        else:
            self._flush()
        self.cursor.execute(f"CREATE INDEX {TABLE}_inv ON {TABLE} (i_invoice_number, line)")
        self.cursor.execute(f"CREATE INDEX {TABLE}_acc ON {TABLE} (c_account_number, line)")
        if self.postgres:
            self.cursor.execute(f"ANALYZE {TABLE}")

    def drop_superseded(self) -> int:
        """An invoice number seen again later in the file: the later row wins."""
        self.cursor.execute(
            f"DELETE FROM {TABLE} WHERE EXISTS (SELECT 1 FROM {TABLE} t "
            f"WHERE t.i_invoice_number = {TABLE}.i_invoice_number AND t.line > {TABLE}.line)"
        )
        superseded = max(self.cursor.rowcount, 0)
        self.count -= superseded
        return superseded

    def totals(self) -> tuple[int, Decimal]:
        if self.postgres:
            self.cursor.execute(f"SELECT COUNT(*), SUM(i_total_amount_due) FROM {TABLE}")
            count, total = self.cursor.fetchone()
            return count, Decimal(total or 0)
        # Exact on SQLite too: sum whole cents, never floats.
        self.cursor.execute(
            f"SELECT COUNT(*), SUM(CAST(ROUND(i_total_amount_due * 100) AS INTEGER)) FROM {TABLE}"
        )
        count, cents = self.cursor.fetchone()
        return count, Decimal(cents or 0) / 100

    def rows(self, page: int = 10_000):
        """Every staged row in file order, as dicts of stage column -> value, page by page."""
        last = 0
        sql = f"SELECT {', '.join(self.names)} FROM {TABLE} WHERE line > %s ORDER BY line LIMIT %s"
        while True:
            self.cursor.execute(sql, [last, page])
            batch = self.cursor.fetchall()
            if not batch:
                return
            for row in batch:
                yield dict(zip(self.names, row, strict=True))
            last = batch[-1][0]

    def close(self) -> None:
        try:
            if self._copy is not None:
                self._copy_cm.__exit__(None, None, None)
                self._copy = None
            self.cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        finally:
            self.cursor.close()
