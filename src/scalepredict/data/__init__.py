"""Assessment tables: Pandera schemas derived from the catalogue, CSV/Parquet I/O, validation
reports by row and column, and the synthetic generator with its known truth."""
