"""Networks on the student's own digits: scores, and teaching a network them (fine-tune)."""
