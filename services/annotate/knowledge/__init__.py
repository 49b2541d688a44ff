"""Data files of the annotate service: curated biomarkers, CIViC disease mapping, triage rules."""
