"""A class: the hand-in a student makes of their lab, and what a teacher reads of many."""
