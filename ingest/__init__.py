"""Ingestion: files on disk into a knowledge base (loaders, cleaning, structure, chunks)."""
