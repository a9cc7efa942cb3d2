"""Filling DOCX, PPTX and XLSX templates with a run's data, in docg's sandboxed expression language."""
