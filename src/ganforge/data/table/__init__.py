"""Data kind ``table``: mixed-type CSV files (numbers, integers, categories, booleans,
dates, missing cells) read with the standard library, modelled column by column.

- :mod:`.reader`: reading the CSV, inferring column types;
- :mod:`.dependencies`: columns that are a function of another, found and written back;
- :mod:`.spec`: column specs inferred, read from YAML files and written for editing;
- :mod:`.transforms`: per-column transforms (mode-specific normalisation, one-hot with a
  cap on categories, missing flags), stored as JSON;
- :mod:`.codec`: the whole table's codec, its layout for the model, rows of text out;
- :mod:`.dataset`: :class:`TableData` (training-by-sampling, held-out rows) and the
  checkpoint decoder.
"""

from ganforge.data.table.codec import TableCodec
from ganforge.data.table.dataset import TableData, TableDecoder, write_table_csv
from ganforge.data.table.reader import ColumnSpec, read_csv_table
from ganforge.data.table.spec import infer_spec, load_spec, spec_to_yaml

__all__ = [
    "ColumnSpec",
    "TableCodec",
    "TableData",
    "TableDecoder",
    "infer_spec",
    "load_spec",
    "read_csv_table",
    "spec_to_yaml",
    "write_table_csv",
]
