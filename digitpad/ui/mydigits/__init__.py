"""The My digits tab: gallery, files, every network's score, teach it."""
