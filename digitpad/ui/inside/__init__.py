"""Look inside: the view beside the canvas, its pictures, digitpad explain's files."""
