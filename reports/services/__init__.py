"""Writes of the reports app: templates (``templates``), shares (``shares``),
composing documents (``compose``) and runs (``runs``)."""
