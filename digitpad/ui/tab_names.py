"""The window's tabs by name, in order (for --tab and the saved tab), without importing Qt."""

TAB_NAMES = ("draw", "train", "results", "mydigits", "report")
