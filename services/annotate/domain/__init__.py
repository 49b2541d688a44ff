"""Pure clinical interpretation for the annotate service: no Kafka, MongoDB or HTTP here.

Entry point: `services.annotate.domain.interpret.interpret`. The knowledge base is passed in as
plain objects (`knowledge.KnowledgeBase`), built from serialisable `KbRecord` documents.
"""
