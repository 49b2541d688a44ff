"""The lab registry's record: which labs may publish results, for which hospitals, from where.

Written by an operator (`oncorelay labs create`, stored in the `labs` collection) and read by ingest (which
refuses results of unregistered labs) and by the Kafka ACL generator: a declared model, not dictionary keys.
"""

from pydantic import BaseModel, Field

from contracts.events import Identifier


class Lab(BaseModel):
    """A registered lab."""

    lab_id: Identifier
    site_ids: list[Identifier] = Field(default_factory=list, description="hospitals the lab sends results for")
    any_site: bool = Field(False, description="a network reference lab that serves every hospital")
    kafka_principal: str | None = Field(None, description="the SASL principal the lab authenticates as")
    reference_sources: list[str] = Field(default_factory=list, description="URL prefixes of its by-reference VCFs")
    name: str = ""

    def serves(self, site_id: str) -> bool:
        """Whether the lab may send results for the hospital `site_id`."""
        return self.any_site or site_id in self.site_ids

    def principal(self) -> str:
        """The Kafka principal mapped to this lab: the registered one, else User:<lab_id>."""
        return self.kafka_principal or f"User:{self.lab_id}"
