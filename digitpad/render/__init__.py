"""Pictures and files drawn with QtGui but no window: the images of a digit and of the
networks' insides, the report's figures and its PDF, HTML and Markdown files, My digits
as PNGs. The command line and the window both use them; they only call the core."""
