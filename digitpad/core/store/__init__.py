"""The run store (SQLite): runs, their columns and words, My digits' drawings, database errors."""
