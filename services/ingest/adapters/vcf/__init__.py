"""Reading lab VCFs into normalised variants: pure parsing rules plus one pysam adapter (loader)."""
