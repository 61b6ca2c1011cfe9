"""Transaction files (CSV or Parquet) → validated, sorted, columnar transactions.

Where: the input of replay (``loyalsim earn``) and of fitting (``loyalsim fit``). Every
rejected row is reported with its file, row and column; nothing is silently dropped.
"""

from loyalsim.transactions.reader import RowError, Transactions, read_transactions

__all__ = ["RowError", "Transactions", "read_transactions"]
