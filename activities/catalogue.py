"""The matter catalogue as an outside system: the workflow copies the entry in force at submission."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows.domain.catalogue import Catalogue, UnknownComplaintCategory
from workflows.domain.errors import UnknownMatter
from workflows.messages import CatalogueEntry, ComplaintCategoryEntry


class CatalogueActivities:
    """Serves entries of the catalogue the worker loaded at start-up."""

    def __init__(self, catalogue: Catalogue) -> None:
        self._catalogue = catalogue

    @activity.defn(name="lookup_matter")
    async def lookup_matter(self, matter_code: str) -> CatalogueEntry:
        """The entry for ``matter_code``; an unknown code is a permanent failure, not worth retrying."""
        try:
            matter = self._catalogue.matter(matter_code)
        except UnknownMatter as error:
            raise ApplicationError(str(error), type=error.type, non_retryable=True) from error
        return CatalogueEntry(catalogue_version=self._catalogue.version, matter=matter)

    @activity.defn(name="lookup_complaint_category")
    async def lookup_complaint_category(self, category_code: str) -> ComplaintCategoryEntry:
        """The dispatch-table row of a 12345/8890 category; an unknown one is permanent, like a matter."""
        try:
            category = self._catalogue.complaint_category(category_code)
        except UnknownComplaintCategory as error:
            raise ApplicationError(str(error), type=error.type, non_retryable=True) from error
        return ComplaintCategoryEntry(catalogue_version=self._catalogue.version, category=category)
