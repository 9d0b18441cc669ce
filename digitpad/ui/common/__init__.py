"""Shared by several tabs: background calls, pictures, plots, a lazily built page."""
