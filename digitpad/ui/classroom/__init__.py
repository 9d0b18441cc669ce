"""The Class view: a teacher's class of hand-ins."""
