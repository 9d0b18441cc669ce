"""The Report tab: the lab report written from the runs, and its exports."""
