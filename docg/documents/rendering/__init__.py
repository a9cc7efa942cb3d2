"""Filling DOCX and PPTX templates with a run's data, in docg's sandboxed expression language."""
