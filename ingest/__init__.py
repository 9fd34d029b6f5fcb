"""Getting text out of files: detection, extraction, OCR, and the ingest pipeline."""
