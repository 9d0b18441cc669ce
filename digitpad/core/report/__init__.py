"""The lab report, written from the runs."""
