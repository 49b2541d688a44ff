"""ingest's adapters: the MongoDB result store, the VCF reader (pysam and the Cython fast path), VCF sources."""
