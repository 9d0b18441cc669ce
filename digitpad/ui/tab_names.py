"""The window's tabs by name, in order (for --tab and the saved tab), without importing Qt."""

# (name, title): the one list of the tabs; the window adds them, and Ctrl+1.. picks them,
# in this order.
TABS = (
    ("draw", "Draw"),
    ("train", "Train"),
    ("results", "Results"),
    ("mydigits", "My digits"),
    ("report", "Report"),
)
TAB_NAMES = tuple(name for name, _title in TABS)
