"""ingest's pure logic: reading a lab message, admission, and the rules for VCF records and annotations."""
