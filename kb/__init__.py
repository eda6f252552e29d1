"""The shared knowledge base: records, settings, errors, segmentation and stores (the models are in ``models``)."""
