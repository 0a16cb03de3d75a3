"""Development helpers: the embedded servers and the ``make run`` launcher."""
