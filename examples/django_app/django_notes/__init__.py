"""The notes app of the Django example (views only: the notes live in Lumi, not in a database)."""
