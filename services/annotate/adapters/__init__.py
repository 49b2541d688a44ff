"""annotate's adapters: the MongoDB interpretation and knowledge stores, and the CIViC release download."""
