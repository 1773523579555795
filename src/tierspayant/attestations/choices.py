"""Vocabularies of the attestations."""

from django.db import models


class DirectoryFormat(models.TextChoices):
    """Output formats of the directory file (``tierspayant write-directory``)."""

    CSV = "csv", "CSV"
    JSON = "json", "JSON"
