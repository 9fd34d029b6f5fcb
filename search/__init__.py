"""Search: Persian/English analysis, the page index and the query language."""
