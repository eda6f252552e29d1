"""The shared knowledge base: records, settings, segmentation, embedder and stores."""
